// Data sharing (数据共享): the roles a rule may name and the resident fields it may share (docs/api.md).
import { t } from '../i18n'
import { roleLabel } from './format'

export const SHARE_ROLES = ['department_handler', 'work_unit_contact', 'party_secretary', 'volunteer']
export const SHARE_FIELDS = [
  'name', 'gender', 'age', 'birth_date', 'address', 'residence_type', 'tags', 'sensitive_tags', 'id_no_masked', 'mobile_masked',
]
/** fields that deserve a second thought before sharing */
export const SENSITIVE_FIELDS = ['sensitive_tags', 'id_no_masked', 'mobile_masked']
export const shareRoleLabel = roleLabel
export const fieldLabel = (f) => (SHARE_FIELDS.includes(f) ? t('shareField.' + f) : f)
/** rule fields in catalogue order (unknown ones last, as they are) */
export const orderedFields = (fields = []) => [
  ...SHARE_FIELDS.filter((f) => fields.includes(f)),
  ...fields.filter((f) => !SHARE_FIELDS.includes(f)),
]
