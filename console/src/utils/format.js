import { t, te } from '../i18n'

const shanghai = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
})

/** RFC 3339 (UTC) → "2026-11-27 21:20:00" in Asia/Shanghai (same in both languages). */
export function formatTime(value, withSeconds = true) {
  if (!value) return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  const p = Object.fromEntries(shanghai.formatToParts(d).map((x) => [x.type, x.value]))
  const time = withSeconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`
  return `${p.year}-${p.month}-${p.day} ${time}`
}

/** "2026-11-27" (a day in Beijing) → RFC 3339 UTC instant of its start (or end). */
/** `end`: the start of the next day (the server's `to` is exclusive). */
export function shanghaiDayBoundary(day, end = false) {
  if (!day) return undefined
  const d = new Date(`${day}T00:00:00+08:00`)
  if (end) d.setTime(d.getTime() + 24 * 3600 * 1000)
  return d.toISOString().replace('.000Z', 'Z')
}

// Every role, highest first (the server's GET /roles has them with their permissions and which the caller may grant).
export const ROLES = [
  'system_admin', 'district_admin', 'hotline_centre', 'street_admin', 'community_admin', 'community_worker',
  'grid_worker', 'building_leader', 'party_secretary', 'department_handler', 'work_unit_contact', 'volunteer', 'resident',
]
/** A role in words; a role the console does not know shows the server's label when given, else its id. */
export const roleLabel = (r, serverLabel) => (!r ? '' : te('role.' + r) ? t('role.' + r) : serverLabel || r)

// A tree may start at a province (省) or at a city.
export const AREA_KINDS = ['province', 'city', 'district', 'street', 'community', 'grid', 'building']
export const ROOT_AREA_KINDS = ['province', 'city']
export const areaKindLabel = (k) => (!k ? '' : te('areaKind.' + k) ? t('areaKind.' + k) : k)
export function nextAreaKind(kind) {
  const i = AREA_KINDS.indexOf(kind)
  return i >= 0 && i < AREA_KINDS.length - 1 ? AREA_KINDS[i + 1] : null
}
export function parentAreaKind(kind) {
  const i = AREA_KINDS.indexOf(kind)
  return i > 0 ? AREA_KINDS[i - 1] : null
}
/** grids and buildings have codes extending their parent's code */
export const isSubCodeKind = (k) => k === 'grid' || k === 'building'
// Element Plus tag types per area kind, so levels are told apart at a glance.
export const AREA_KIND_TAG = {
  province: 'danger', city: 'danger', district: 'warning', street: 'primary', community: 'success', grid: 'info', building: '',
}

export const PARTY_KINDS = [
  'street_committee', 'community_branch', 'grid_branch', 'building_group', 'unit', 'industry', 'regional',
]
export const PARTY_CHAIN = ['street_committee', 'community_branch', 'grid_branch', 'building_group']
export const partyKindLabel = (k) => (k ? t('partyKind.' + k) : '')
export const partyKindHasLinks = (k) => k === 'unit' || k === 'industry' || k === 'regional'
export function nextPartyKind(kind) {
  const i = PARTY_CHAIN.indexOf(kind)
  if (i >= 0 && i < PARTY_CHAIN.length - 1) return PARTY_CHAIN[i + 1]
  return 'unit'
}
export const PARTY_KIND_TAG = {
  street_committee: 'danger', community_branch: 'warning', grid_branch: 'success', building_group: 'info',
  unit: 'primary', industry: 'primary', regional: 'primary',
}

export function grantLabel(g) {
  if (g.area_name) return `${roleLabel(g.role)} · ${g.area_name}`
  // a grant without an area is system-wide (system admin)
  return g.role === 'system_admin' && !g.area_id ? `${roleLabel(g.role)} · ${t('users.allAreas')}` : roleLabel(g.role)
}

// Audit actions and object types the server writes (docs/api.md); unknown ones show as they are.
export const AUDIT_ACTIONS = [
  'auth.login', 'auth.logout', 'auth.password_change', 'user.create', 'user.update', 'user.reset_password',
  'grant.create', 'grant.delete', 'token.create', 'token.revoke', 'area.create', 'area.update', 'area.move',
  'area.delete', 'party_org.create', 'party_org.update', 'party_org.move', 'party_org.delete', 'demo.load',
]
export const AUDIT_OBJECTS = ['session', 'user', 'grant', 'api_token', 'area', 'party_org', 'demo']
/** An audit action in words; a bare verb (`create`) takes its object's name (新建 活动). */
export function auditActionLabel(a, objectType) {
  if (!a) return ''
  const key = 'audit.actions.' + a.replace(/\./g, '__')
  const label = te(key) ? t(key) : a
  if (a.includes('.') || !objectType) return label
  const obj = auditObjectLabel(objectType)
  return obj && obj !== objectType ? `${label} · ${obj}` : label
}
export function auditObjectLabel(o) {
  if (!o) return ''
  const key = 'audit.objects.' + o
  return te(key) ? t(key) : o
}

// Area code rules (mirror of the server's check_code): [length, digits inherited from the parent, own end].
// A city's first 2 digits are its province's (checked only when it has one).
const CODE_RULES = {
  province: [12, 0, 2], city: [12, 2, 4], district: [12, 4, 6], street: [12, 6, 9], community: [12, 9, 12], grid: [15, 12, 15], building: [18, 15, 18],
}
/** Returns an error message, or '' when `code` is valid for `kind` under a parent with `parentCode`. */
export function checkAreaCode(kind, code, parentCode) {
  const rule = CODE_RULES[kind]
  if (!code) return t('areas.codeRequired')
  if (!/^\d+$/.test(code)) return t('areas.codeDigits')
  if (!rule) return ''
  const [len, prefixLen, ownEnd] = rule
  if (isSubCodeKind(kind)) {
    if (parentCode && !code.startsWith(parentCode)) return t('areas.codePrefix', { prefix: parentCode })
    if (code.length !== len) return t('areas.codeSub3', { n: len })
    return ''
  }
  if (code.length !== len) return t('areas.code12')
  if (/[^0]/.test(code.slice(ownEnd))) return t('areas.codeZeros')
  if (/^0+$/.test(code.slice(prefixLen, ownEnd))) return t('areas.codeOwnZero')
  if (parentCode && prefixLen && code.slice(0, prefixLen) !== parentCode.slice(0, prefixLen))
    return t('areas.codeParentPrefix', { n: prefixLen, prefix: parentCode.slice(0, prefixLen) })
  return ''
}

/**
 * The next free code for a new `kind` under a parent with `parentCode`, given the codes of the
 * parent's current children. Returns the bare prefix when no code is left (the user types one).
 */
export function nextAreaCode(kind, parentCode, siblingCodes = []) {
  const rule = CODE_RULES[kind]
  if (!rule || !parentCode) return ''
  const [len, prefixLen, ownEnd] = rule
  const prefix = isSubCodeKind(kind) ? parentCode : parentCode.slice(0, prefixLen)
  const width = ownEnd - prefixLen
  let max = 0
  for (const c of siblingCodes) {
    if (typeof c !== 'string' || !c.startsWith(prefix) || c.length !== len) continue
    const n = Number(c.slice(prefixLen, ownEnd))
    if (Number.isFinite(n) && n > max) max = n
  }
  const next = max + 1
  if (String(next).length > width) return prefix
  return (prefix + String(next).padStart(width, '0')).padEnd(len, '0')
}

/** "Windows · Chrome" from a user agent (the raw string belongs in a tooltip); '' when unknown. */
const UA_OS = [['Windows', 'Windows'], ['iPhone', 'iPhone'], ['iPad', 'iPad'], ['HarmonyOS', 'HarmonyOS'], ['Android', 'Android'], ['Mac OS X', 'macOS'], ['Linux', 'Linux']]
const UA_BROWSER = [['MicroMessenger', '微信'], ['Edg/', 'Edge'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Safari/', 'Safari']]
export const isPhoneAgent = (ua) => /Mobile|iPhone|iPad|Android|HarmonyOS/i.test(ua || '')
export function deviceText(ua) {
  if (!ua) return ''
  const os = UA_OS.find(([k]) => ua.includes(k))?.[1]
  const browser = UA_BROWSER.find(([k]) => ua.includes(k))?.[1]
  return [os, browser].filter(Boolean).join(' · ') || ua.slice(0, 40)
}

/** The server writes some texts (an import's problems) once in both languages, “中文 / English”: the part for the UI language. */
export function langPart(text, en) {
  const s = String(text ?? '')
  const i = s.indexOf(' / ')
  if (i < 0) return s
  return en ? s.slice(i + 3) : s.slice(0, i)
}
