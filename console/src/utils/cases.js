// 接诉即办 helpers: code lists and labels, who may do what, deadline countdowns, limits, rates.
import { ref } from 'vue'
import { t, te } from '../i18n'
import { auth } from '../stores/auth'
import { caseCategoryApi } from '../api/cases'
import { sendForm as sendFormWith } from './forms'

// ---- code lists (docs/cases.md “Words”) ----
export const CASE_KINDS = ['complaint', 'help', 'consult', 'report', 'suggestion']
export const CHANNELS = ['console', 'hotline', 'patrol', 'visit', 'phone_page', 'api', 'open311']
export const STATUSES = ['received', 'registered', 'arbitration', 'dispatched', 'in_progress', 'handled', 'verified', 'rated', 'closed', 'rejected', 'merged']
export const UNIT_KINDS = ['department', 'street_office', 'community', 'property', 'utility', 'other']
export const OUTCOMES = ['resolved', 'explained', 'unresolvable']
export const RATINGS = ['satisfied', 'basic', 'dissatisfied']
export const WHISTLE_KINDS = ['daily', 'tough', 'emergency']
export const OPEN_STATUSES = ['received', 'registered', 'arbitration', 'dispatched', 'in_progress', 'handled', 'verified', 'rated']
/** The handling clock runs in these states (due_in_minutes is set). */
export const CLOCK_STATUSES = ['dispatched', 'in_progress']

/**
 * lbl('status', 'in_progress') → 处置中. A code the console does not know shows the server's label
 * (`status_label`, `kind_label`, `action_label`… in the request's language) when given, else as it is.
 */
export function lbl(list, code, serverLabel) {
  if (code === null || code === undefined || code === '') return ''
  const key = `cases.${list}.${code}`
  return te(key) ? t(key) : serverLabel || String(code)
}
export const opts = (list, codes) => codes.map((value) => ({ value, label: lbl(list, value) }))

export const STATUS_TYPE = {
  received: 'info', registered: 'warning', arbitration: 'danger', dispatched: 'primary', in_progress: 'primary',
  handled: 'success', verified: 'success', rated: 'success', closed: 'info', rejected: 'info', merged: 'info',
}
export const RATING_TYPE = { satisfied: 'success', basic: 'warning', dissatisfied: 'danger' }
export const OUTCOME_TYPE = { resolved: 'success', explained: 'warning', unresolvable: 'danger' }

// ---- who may do what (docs/cases.md “who”; the server decides, this only shapes the menu and buttons) ----
// The user's permissions (GET /me): read_cases, dispatch_cases, arbitrate_cases (仲裁、吹哨: the street and
// above), manage_case_units, manage_case_dictionary (categories and calendar: system-wide).
export const canReadCases = () => auth.can('read_cases')
export const canDispatch = () => auth.can('dispatch_cases')
export const canArbitrate = () => auth.can('arbitrate_cases')
export const canManageUnits = () => auth.can('manage_case_units')
export const canEditDictionary = () => auth.can('manage_case_dictionary')

// ---- deadlines ----
/** "2 天 3 小时" / "45 分钟" from a number of minutes (absolute value). */
export function spanText(minutes) {
  const m = Math.abs(Math.round(minutes))
  const d = Math.floor(m / 1440)
  const h = Math.floor((m % 1440) / 60)
  const mm = m % 60
  if (d > 0) return h ? t('cases.due.dh', { d, h }) : t('cases.due.d', { d })
  if (h > 0) return mm ? t('cases.due.hm', { h, m: mm }) : t('cases.due.h', { h })
  return t('cases.due.m', { m: mm })
}
/**
 * The countdown of a case: { level: 'ok'|'warn'|'over', text }, or null when no clock runs.
 * `elapsed`: minutes since the list was loaded (the countdown keeps ticking between loads).
 * Red: overdue; amber: the server's warning (20 % of the time left) or less than a day left.
 */
export function dueState(c, elapsed = 0) {
  if (!c || c.due_in_minutes === null || c.due_in_minutes === undefined) return null
  if (c.status && !CLOCK_STATUSES.includes(c.status)) return null
  const left = c.due_in_minutes - elapsed
  if (left < 0 || (c.overdue && left <= 0)) return { level: 'over', text: t('cases.due.over', { t: spanText(left) }) }
  const level = c.warned || left < 24 * 60 ? 'warn' : 'ok'
  return { level, text: t('cases.due.left', { t: spanText(left) }) }
}
/** One shared minute clock: minutes since `since` (re-read every 30 s). */
const tickNow = ref(Date.now())
setInterval(() => (tickNow.value = Date.now()), 30_000)
export const nowRef = tickNow
export const minutesSince = (since) => Math.max(0, Math.floor((tickNow.value - since) / 60000))

// ---- limits ----
/** {value: 2, unit: 'days'} → 2 个工作日 */
export function limitText(l) {
  if (!l || !l.value) return '—'
  return t(l.unit === 'hours' ? 'cases.limit.hours' : 'cases.limit.days', { n: l.value })
}

// ---- rates ----
/** 0–1 (or null) → "83.5%" / "—" */
export function rateText(r) {
  if (r === null || r === undefined || Number.isNaN(Number(r))) return '—'
  const v = Number(r) * 100
  return `${v >= 99.95 || v === 0 ? v.toFixed(0) : v.toFixed(1)}%`
}
export const scoreText = (s) => (s === null || s === undefined ? '—' : Number(s).toFixed(1))
/** The score's weights come in percent (30 → 30%). */
export const weightText = (w) => (w === null || w === undefined ? '—' : `${Math.round(Number(w))}%`)
export const RATE_KEYS = ['response_rate', 'resolve_rate', 'satisfaction_rate', 'on_time_rate', 'close_rate']

// ---- categories (cached: the dictionary changes rarely) ----
let catCache = null
export function loadCategories(force = false) {
  if (!catCache || force) {
    catCache = caseCategoryApi
      .list({ silent: true })
      .then((res) => (Array.isArray(res) ? res : res?.items || []))
      .catch((e) => {
        catCache = null
        throw e
      })
  }
  return catCache
}
/** Flat categories → [{...level 1, children: [level 2…]}] ordered by code. */
export function categoryTree(list) {
  const byId = new Map()
  const roots = []
  const sorted = [...(list || [])].sort((a, b) => String(a.code).localeCompare(String(b.code)))
  for (const c of sorted) byId.set(c.id, { ...c, children: [] })
  for (const c of byId.values()) {
    const parent = c.parent_id && byId.get(c.parent_id)
    if (parent) parent.children.push(c)
    else roots.push(c)
  }
  return roots
}
/** el-cascader options: value = the code; inactive ones are disabled (still shown when set). */
export function categoryOptions(list, { leafOnly = true } = {}) {
  return categoryTree(list).map((p) => ({
    value: p.code,
    label: p.name,
    disabled: !p.active || (leafOnly && !p.children.length),
    children: p.children.length ? p.children.map((c) => ({ value: c.code, label: c.name, disabled: !c.active })) : undefined,
  }))
}
export function categoryPath(list, code) {
  const c = (list || []).find((x) => x.code === code)
  if (!c) return code || ''
  const parent = c.parent_id && list.find((x) => x.id === c.parent_id)
  return parent ? `${parent.name} › ${c.name}` : c.name
}

// ---- misc ----
/** A UUID v4, also on plain http (crypto.randomUUID needs a secure context). */
export function uuid() {
  if (globalThis.crypto?.randomUUID && window.isSecureContext) return crypto.randomUUID()
  const b = new Uint8Array(16)
  if (globalThis.crypto?.getRandomValues) crypto.getRandomValues(b)
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
/** Mobile or landline (0312-1234567). */
export const isPhone = (v) => /^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{5,8})$/.test((v || '').trim())
/** Lists come as a bare array or a page. */
export { itemsOf as listOf, pageOf } from '../api'
/** Server field errors: `requester.name`, `days[2].date` → `requester.name`, `days.2.date`. */
export function fieldErrors(fields) {
  const out = {}
  for (const [k, v] of Object.entries(fields || {})) out[k.replace(/\[(\d+)\]/g, '.$1')] = v
  return out
}
/** sendForm (utils/forms) with these field names. */
export const sendForm = (form, errors, send, opts) => sendFormWith(form, errors, send, { fields: fieldErrors, ...opts })
export const fileSizeText = (n) => (n == null ? '' : n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1048576).toFixed(1)} MB`)
