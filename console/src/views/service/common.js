// 党员下沉、志愿服务、积分 helpers: roles, code lists + labels, hours / points / time text (Asia/Shanghai),
// file downloads. Shared by the pages in this folder.
import { t, te } from '../../i18n'
import { auth } from '../../stores/auth'
import { saveBlob } from '../../api/http'
import { formatTime } from '../../utils/format'
import { sendForm as sendFormWith } from '../../utils/forms'

// ---- who sees what (the server decides; this only shapes the menu and hides buttons) ----
// The user's read_service / manage_service permissions (GET /me). Point rules are set with
// manage_service in the area (a community worker for their community).
export const canWrite = () => auth.can('manage_service')
export const canEditRules = () => auth.can('manage_service')
export const isStaff = () => auth.can('read_service')

// ---- code lists ----
export const ACTIVITY_KINDS = ['volunteer', 'community_event', 'party_meeting', 'theme_day']
export const ACTIVITY_KIND_TYPE = { party_meeting: 'danger', theme_day: 'warning', volunteer: 'success', community_event: 'primary' }
export const MEMBER_KINDS = ['community', 'in_service']
export const MEMBER_STATUSES = ['full', 'probationary']
export const GRADES = ['excellent', 'qualified', 'basic', 'unqualified']
export const GRADE_TYPE = { excellent: 'success', qualified: 'primary', basic: 'warning', unqualified: 'danger' }
export const CAP_PERIODS = ['day', 'month', 'year']
export const POINT_EVENTS = ['report_in', 'attendance', 'hour', 'commendation', 'absence', 'exempt_over_age']
export const POSTING_KIND_TYPE = { earn: 'success', deduct: 'danger', redeem: 'warning', transfer_out: 'info', transfer_in: 'primary', reversal: 'info' }
/** Reversals, donations and redemptions are not reversed (domain::points::Refusal::NotReversible). */
export const REVERSIBLE_KINDS = ['earn', 'deduct']
// A commendation's level is free text on the server (e.g. 社区级): these are offered, in Chinese.
export const COMMEND_LEVELS = [['社区级', 'community'], ['街道级', 'street'], ['区级', 'district'], ['市级', 'city']]
export function levelLabel(v) {
  const hit = COMMEND_LEVELS.find(([zh, key]) => zh === v || key === v)
  return hit ? t('svc.level.' + hit[1]) : v || ''
}
export const SIGNUP_STATUS_TYPE = { signed_up: 'info', checked_in: 'primary', checked_out: 'success', confirmed: 'success', absent: 'danger', cancelled: 'info' }
/**
 * What a sign-up row shows: the server keeps `status` signed | cancelled and the check-in / out times;
 * a confirmed activity turns them into confirmed (hours written) or absent.
 */
export function signupState(s, activity) {
  if (!s) return ''
  if (s.status === 'cancelled') return 'cancelled'
  if (activity?.confirmed_at) return s.checkin_at ? 'confirmed' : 'absent'
  if (s.checkout_at) return 'checked_out'
  if (s.checkin_at) return 'checked_in'
  return 'signed_up'
}
/** The signed-in volunteer's `my_status` on an activity: signed | in | out (older answers: signed_up, …). */
export const MY_STATUS = { signed: 'signed_up', in: 'checked_in', out: 'checked_out' }
export const myState = (a) => MY_STATUS[a?.my_status] || a?.my_status || 'signed_up'
export const SKILL_SUGGESTIONS = ['医疗护理', '心理疏导', '法律咨询', '家电维修', '理发', '助老陪护', '文艺演出', '摄影', '驾驶', '电脑网络', '课业辅导', '垃圾分类宣传', '助餐配送', '手语']

/** sl('activityKind', 'volunteer') → 志愿服务; an unknown code shows the server's label, else as it is. */
export function sl(list, code, serverLabel) {
  if (code === null || code === undefined || code === '') return ''
  const key = `svc.${list}.${code}`
  return te(key) ? t(key) : serverLabel || String(code)
}
export const sopts = (list, codes) => codes.map((value) => ({ value, label: sl(list, value) }))

// ---- numbers ----
const num = (n, d = 1) => {
  const v = Number(n)
  if (!Number.isFinite(v)) return '—'
  return Number.isInteger(v) ? String(v) : v.toFixed(d).replace(/\.0+$/, '')
}
export const numText = num
/** 12.5 → "12.5 小时" */
export const hoursText = (h) => (h === null || h === undefined ? '—' : t('svc.unit.hours', { n: num(h) }))
/** 125 → "2 小时 5 分"; negative → "−2 小时 5 分" */
export function minutesText(min, signed = false) {
  if (min === null || min === undefined) return '—'
  const m = Math.abs(Math.round(Number(min)))
  const h = Math.floor(m / 60)
  const r = m % 60
  const body = h && r ? t('svc.unit.hm', { h, m: r }) : h ? t('svc.unit.hOnly', { h }) : t('svc.unit.mOnly', { m: r })
  const sign = min < 0 ? '−' : signed && min > 0 ? '+' : ''
  return sign + body
}
/** +10 / −5 */
export const pointsText = (n) => (n === null || n === undefined ? '—' : (n > 0 ? '+' : n < 0 ? '−' : '') + Math.abs(n))
export const starsText = (n) => '★'.repeat(Math.max(0, Math.min(5, n || 0))) + '☆'.repeat(5 - Math.max(0, Math.min(5, n || 0)))

// ---- time (Asia/Shanghai, whatever the PC's zone) ----
const dayFmt = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
export const todayStr = () => dayFmt.format(new Date())
export const thisYear = () => Number(todayStr().slice(0, 4))
/** RFC 3339 → YYYY-MM-DD in Beijing */
export const dayOf = (v) => (v ? dayFmt.format(new Date(v)) : '')
/** 'YYYY-MM-DD HH:mm' (Beijing wall time, from a picker) → RFC 3339 UTC */
export function bjToUtc(s) {
  if (!s) return null
  const d = new Date(`${s.replace(' ', 'T')}${s.length <= 16 ? ':00' : ''}+08:00`)
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace('.000Z', 'Z')
}
/** RFC 3339 → 'YYYY-MM-DD HH:mm' Beijing wall time */
export const utcToBj = (v) => (v ? formatTime(v, false) : '')
/** "2026-12-02 09:00–11:30" (one day) or the two full times */
export function timeRange(start, end) {
  if (!start) return ''
  const a = formatTime(start, false)
  if (!end) return a
  const b = formatTime(end, false)
  return a.slice(0, 10) === b.slice(0, 10) ? `${a}–${b.slice(11)}` : `${a} – ${b}`
}
const WEEK = { 'zh-CN': ['周日', '周一', '周二', '周三', '周四', '周五', '周六'], en: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] }
/** 周三 */
export function weekday(v, lang) {
  if (!v) return ''
  const d = new Date(new Date(v).getTime() + 8 * 3600000).getUTCDay()
  return (WEEK[lang] || WEEK['zh-CN'])[d]
}
/** Where an activity is in its life: cancelled | confirmed | upcoming | ongoing | ended */
export function phaseOf(a, now = Date.now()) {
  if (!a) return ''
  if (a.status === 'cancelled') return 'cancelled'
  if (a.confirmed_at) return 'confirmed'
  const s = new Date(a.starts_at).getTime()
  const e = new Date(a.ends_at).getTime()
  if (now < s) return 'upcoming'
  if (now <= e) return 'ongoing'
  return 'ended'
}
export const PHASE_TYPE = { cancelled: 'info', confirmed: 'success', upcoming: 'primary', ongoing: 'warning', ended: 'danger' }
/** Whole days from a YYYY-MM-DD until today (negative: in the future). */
export function daysFromToday(day) {
  if (!day) return null
  const a = new Date(`${day}T00:00:00+08:00`).getTime()
  const b = new Date(`${todayStr()}T00:00:00+08:00`).getTime()
  return Math.round((b - a) / 86400000)
}

// ---- lists ----
export { itemsOf as listOf, pageOf } from '../../api'
/** Server field errors `limits.hours_per_week` / `days[2]` → form keys */
export function fieldErrors(fields) {
  const out = {}
  for (const [k, v] of Object.entries(fields || {})) out[k.replace(/\[(\d+)\]/g, '.$1')] = v
  return out
}
/** sendForm (utils/forms) with these field names. */
export const sendForm = (form, errors, send, opts) => sendFormWith(form, errors, send, { fields: fieldErrors, ...opts })
export const clearObj = (o) => Object.keys(o).forEach((k) => delete o[k])

// ---- files ----
/** Save a blob answer ({blob, filename}); the server's file name wins. */
export async function download(call, fallbackName) {
  const { blob, filename } = await call
  saveBlob(blob, filename || fallbackName)
  return filename || fallbackName
}

/** The top area of my grants: the default of area filters (street admins see their street). */
export function myArea() {
  const order = ['province', 'city', 'district', 'street', 'community', 'grid', 'building']
  const gs = (auth.me?.grants || []).filter((g) => g.area_id).slice().sort((a, b) => order.indexOf(a.area_kind) - order.indexOf(b.area_kind))
  return gs[0] ? { id: gs[0].area_id, name: gs[0].area_name, kind: gs[0].area_kind } : null
}
