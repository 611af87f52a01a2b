// 手机端角色: users whose grants are only grid worker / building head / volunteer / resident work on a
// phone at a stairwell door. Their home is the phone-first one (components/home/PhoneHome.vue), and
// the general admin pages (区域, 党组织, 角色说明, 共享数据, API 文档: route meta.notForPhone) stay out
// of their menu. Anyone holding one other role (a community worker who is also a grid worker) is staff.
import { auth } from '../stores/auth'

export const PHONE_ROLES = ['grid_worker', 'building_leader', 'volunteer', 'resident']

/**
 * Every grant is a phone role — or there is no grant at all: a resident who signed up by themselves (/signup)
 * has no role until a community worker confirms their claim, and gets the phone home (with the 认领 card).
 */
export function isPhoneOnly() {
  const roles = auth.roles.value
  if (!auth.state.me) return false
  return [...roles].every((r) => PHONE_ROLES.includes(r))
}
