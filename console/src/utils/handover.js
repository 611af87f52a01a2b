// 账号交接: first passwords are shown once (after creating a user, resetting a password, or a bulk
// import) and handed over as a small file made in the browser — nothing is stored or sent anywhere.
import { ElMessageBox } from 'element-plus'
import { t } from '../i18n'
import { saveBlob } from '../api/http'
import { formatTime, roleLabel } from './format'

/** One CSV cell: quoted when needed, never a formula in Excel. */
export function csvCell(v) {
  let s = String(v ?? '')
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s
}

const loginUrl = () => `${window.location.origin}/login`
const stamp = () => formatTime(new Date().toISOString(), false)
const today = () => stamp().slice(0, 10).replace(/-/g, '')

/**
 * The handover sheet of one account as a .txt (UTF-8 with BOM and CRLF, so Notepad on an old PC
 * shows the Chinese). `h`: {username, display_name, password, area_name?, role?}
 */
export function saveHandoverTxt(h) {
  const lines = [
    t('handover.fileTitle'),
    '',
    `${t('handover.username')}：${h.username}`,
    `${t('handover.name')}：${h.display_name || ''}`,
  ]
  if (h.area_name) lines.push(`${t('handover.fileArea')}：${h.area_name}`)
  if (h.role) lines.push(`${t('handover.fileRole')}：${roleLabel(h.role)}`)
  lines.push(
    `${t('handover.password')}：${h.password}`,
    `${t('handover.fileLogin')}：${loginUrl()}`,
    '',
    t('handover.fileNote'),
    `${t('handover.fileTime')}：${stamp()}`,
  )
  const name = t('handover.txtName', { username: h.username })
  saveBlob(new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/plain;charset=utf-8' }), name)
  return name
}

/** Several handovers as a CSV (UTF-8 with BOM so Excel opens it): 用户名, 姓名, 所属区域, 角色, 初始密码. */
export function saveHandoverCsv(list) {
  const head = [t('handover.username'), t('handover.name'), t('handover.fileArea'), t('handover.fileRole'), t('handover.password'), t('handover.fileLogin')]
  const rows = (list || []).map((h) => [h.username, h.display_name, h.area_name || '', h.role ? roleLabel(h.role) : '', h.password, loginUrl()])
  const text = '\ufeff' + [head, ...rows].map((l) => l.map(csvCell).join(',')).join('\r\n') + '\r\n'
  const name = t('handover.csvName', { date: today() })
  saveBlob(new Blob([text], { type: 'text/csv;charset=utf-8' }), name)
  return name
}

/** Closing with a first password not yet kept: true when the user closes anyway. */
export async function confirmLeave(text) {
  try {
    await ElMessageBox.confirm(text, t('common.confirmTitle'), {
      type: 'warning', confirmButtonText: t('handover.closeAnyway'), cancelButtonText: t('handover.keepOpen'),
    })
    return true
  } catch {
    return false
  }
}
