// Registry (一户一档) helpers: code lists and labels, ID / USCC / mobile checks, dates in Beijing.
import { reactive } from 'vue'
import { t, te, currentLang } from '../i18n'
import { registryApi } from '../api'
import { auth } from '../stores/auth'

// Code lists of docs/api.md (the server's /registry/vocab has the same codes with zh labels).
export const VOCAB = {
  usage: ['self_occupied', 'rented', 'vacant', 'commercial', 'other'],
  household_kind: ['registered', 'resident', 'floating', 'collective'],
  relation: ['head', 'spouse', 'child', 'parent', 'other'],
  id_type: ['id_card', 'passport', 'hk_macao_permit', 'taiwan_permit', 'residence_permit'],
  gender: ['male', 'female'],
  political_status: ['masses', 'cpc_member', 'cpc_probationary', 'cyl_member', 'democratic_party', 'non_partisan'],
  education: ['none', 'primary', 'junior', 'senior', 'college', 'bachelor', 'postgraduate'],
  residence_type: ['hukou', 'resident', 'floating', 'overseas'],
  tag: [
    'living_alone_elderly', 'empty_nest_elderly', 'left_behind_child', 'disabled', 'subsistence', 'extreme_poverty',
    'entitled_group', 'key_attention',
  ],
  visit_mode: ['in_person', 'phone', 'online'],
  need_category: ['elderly_care', 'medical', 'employment', 'relief', 'repair', 'dispute', 'other'],
  urgency: ['low', 'medium', 'high'],
  change_reason: [
    'create', 'move_in', 'move_out', 'birth', 'death', 'head_change', 'owner_change', 'correction', 'verify', 'delete', 'purge',
  ],
  need_status: ['open', 'in_progress', 'closed'],
  person_status: ['active', 'moved_out', 'deceased'],
  entity_kind: ['company', 'shop', 'school', 'hospital', 'social_org', 'government', 'other'],
}
export const SENSITIVE_TAGS = ['disabled', 'subsistence', 'extreme_poverty', 'key_attention']
export const isSensitiveTag = (c) => SENSITIVE_TAGS.includes(c)

// Labels the server knows (GET /registry/vocab), for codes the console has no translation of.
const serverLabels = reactive({})
let vocabLoaded = null
/** Accepts {list: [{code,label}]}, {list: {items: [[code,label]]}} or {list: [[code,label]]}. */
function absorbVocab(v) {
  if (!v || typeof v !== 'object') return
  const lists = Array.isArray(v.lists) ? Object.fromEntries(v.lists.map((l) => [l.name, l.items])) : v
  for (const [name, raw] of Object.entries(lists)) {
    const items = Array.isArray(raw) ? raw : raw && Array.isArray(raw.items) ? raw.items : null
    if (!items) continue
    const map = {}
    for (const it of items) {
      if (Array.isArray(it)) map[it[0]] = it[1]
      else if (it && (it.code || it.value)) map[it.code || it.value] = it.label || it.label_zh || it.name
    }
    serverLabels[name] = map
  }
}
export function loadVocab() {
  if (!vocabLoaded) {
    vocabLoaded = registryApi
      .vocab()
      .then(absorbVocab)
      .catch(() => {
        vocabLoaded = null
      })
  }
  return vocabLoaded
}
// vocab names in our i18n vs. possible names on the server
const SERVER_NAMES = { tag: ['tag', 'tags'], usage: ['usage', 'dwelling_usage'], visit_mode: ['visit_mode', 'mode'], need_category: ['need_category', 'category'] }

/** label('usage', 'rented') → 出租 / Rented */
export function label(list, code) {
  if (code === null || code === undefined || code === '') return ''
  const key = `vocab.${list}.${code}`
  if (te(key)) return t(key)
  for (const n of SERVER_NAMES[list] || [list]) {
    const l = serverLabels[n]?.[code]
    if (l) return l
  }
  return String(code)
}
export const options = (list) => VOCAB[list].map((value) => ({ value, label: label(list, value) }))

// Element Plus tag colours per special-group tag; sensitive ones are red-ish with a lock.
export const TAG_TYPE = {
  living_alone_elderly: 'warning', empty_nest_elderly: 'warning', left_behind_child: 'primary', entitled_group: 'success',
}
export const NEED_STATUS_TYPE = { open: 'danger', in_progress: 'warning', closed: 'success' }
export const URGENCY_TYPE = { low: 'info', medium: 'warning', high: 'danger' }
export const PERSON_STATUS_TYPE = { active: 'success', moved_out: 'info', deceased: 'info' }

// ---- who may do what (docs/api.md) ----
// The user's permissions (GET /me): read_registry to read, edit_registry to write, reveal_personal to
// see full ID numbers / mobiles (with a reason) and the sensitive tags.
export const canReadRegistry = () => auth.can('read_registry')
export const canEditRegistry = () => auth.can('edit_registry')
export const canReveal = () => auth.can('reveal_personal')
export const canSeeSensitive = canReveal

// ---- dates (Asia/Shanghai) ----
const dayFmt = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
/** Today in Beijing as YYYY-MM-DD. */
export const todayStr = () => dayFmt.format(new Date())
export function addDaysStr(day, n) {
  const d = new Date(`${day}T12:00:00+08:00`)
  d.setTime(d.getTime() + n * 86400000)
  return dayFmt.format(d)
}
/** Whole days from an RFC 3339 instant until now. */
export function daysSince(at) {
  if (!at) return null
  const ms = Date.now() - new Date(at).getTime()
  return Number.isFinite(ms) ? Math.floor(ms / 86400000) : null
}
/** "3 天前" / "3 days ago" */
export function agoText(at) {
  const d = daysSince(at)
  if (d === null) return t('reg.neverAgo')
  if (d <= 0) return t('reg.today')
  if (d < 60) return t('reg.daysAgo', { n: d })
  if (d < 730) return t('reg.monthsAgo', { n: Math.floor(d / 30) })
  return t('reg.yearsAgo', { n: Math.floor(d / 365) })
}

// ---- checks ----
const ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK = '10X98765432'
/** GB 11643 check character of the first 17 digits. */
export function idCheckChar(s17) {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(s17[i]) * ID_W[i]
  return ID_CHECK[sum % 11]
}
function realDate(y, m, d) {
  const dt = new Date(Date.UTC(y, m - 1, d))
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d
}
/** '' when valid, else an error message. */
export function checkIdCard(v) {
  const s = (v || '').trim().toUpperCase()
  if (!s) return t('reg.v.idRequired')
  if (s.length !== 18) return t('reg.v.idLength', { n: s.length })
  if (!/^\d{17}[\dX]$/.test(s)) return t('reg.v.idChars')
  const y = Number(s.slice(6, 10)), m = Number(s.slice(10, 12)), d = Number(s.slice(12, 14))
  if (y < 1900 || !realDate(y, m, d) || s.slice(6, 14) > todayStr().replace(/-/g, '')) return t('reg.v.idBirth')
  if (idCheckChar(s) !== s[17]) return t('reg.v.idCheck')
  return ''
}
/** Birth date and gender an ID card number encodes. */
export function idCardInfo(v) {
  const s = (v || '').trim().toUpperCase()
  if (!/^\d{17}[\dX]$/.test(s)) return null
  return {
    birth_date: `${s.slice(6, 10)}-${s.slice(10, 12)}-${s.slice(12, 14)}`,
    gender: Number(s[16]) % 2 === 1 ? 'male' : 'female',
  }
}
export const isMobileNo = (v) => /^1[3-9]\d{9}$/.test((v || '').trim())
export const isIdCardLike = (v) => /^\d{17}[\dXx]$/.test((v || '').trim())

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
export function usccCheckChar(s17) {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(s17[i]) * USCC_W[i]
  return USCC_CHARS[(31 - (sum % 31)) % 31]
}
/** GB 32100: '' when valid, else an error message. */
export function checkUscc(v) {
  const s = (v || '').trim().toUpperCase()
  if (!s) return t('reg.v.usccRequired')
  if (s.length !== 18) return t('reg.v.usccLength', { n: s.length })
  for (const ch of s) if (!USCC_CHARS.includes(ch)) return t('reg.v.usccChars', { ch })
  if (usccCheckChar(s) !== s[17]) return t('reg.v.usccCheck')
  return ''
}

/** async-validator adapter: rule({validator: v(fn)}) where fn returns '' or a message. */
export const ruleOf = (fn) => (_rule, value, cb) => {
  const msg = fn(value)
  msg ? cb(new Error(msg)) : cb()
}

/** Percent text of a 0..1 ratio (or a 0..100 number). */
export function pct(r) {
  if (r === null || r === undefined || Number.isNaN(Number(r))) return '—'
  const v = Number(r) <= 1 ? Number(r) * 100 : Number(r)
  return `${v.toFixed(v >= 99.95 || v === 0 ? 0 : 1)}%`
}
export const numberText = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString(currentLang() === 'en' ? 'en' : 'zh-CN'))

/** A field-change value for the history timeline. */
export function changeValueText(field, v) {
  if (v === null || v === undefined || v === '') return '∅'
  if (Array.isArray(v)) return v.map((x) => changeValueText(field, x)).join('、') || '∅'
  if (typeof v === 'object') return JSON.stringify(v)
  const list = { usage: 'usage', kind: 'household_kind', relation: 'relation', id_type: 'id_type', gender: 'gender', political_status: 'political_status', education: 'education', residence_type: 'residence_type', tags: 'tag', sensitive_tags: 'tag', status: 'person_status', mode: 'visit_mode', category: 'need_category', urgency: 'urgency' }[field]
  return list ? label(list, v) : String(v)
}
export function fieldLabel(field) {
  const key = 'reg.f.' + field
  return te(key) ? t(key) : field
}

/** Errors of the server's `fields` onto form props (e.g. needs[0].category → needs.0.category). */
export function normalizeFieldErrors(fields) {
  const out = {}
  for (const [k, v] of Object.entries(fields || {})) out[k.replace(/\[(\d+)\]/g, '.$1')] = v
  return out
}

/** A household member: the server nests the person ({id, person_id, relation, from_date, to_date, person}); flatten it. */
export function memberOf(m) {
  if (!m || !m.person) return m
  const { person, ...rest } = m
  return { ...person, ...rest, id: m.id, person_id: m.person_id || person.id, name: person.name }
}
/** A dwelling's current owner: a name (server) or an Owner object. */
export const ownerName = (o) => (o == null ? '' : typeof o === 'string' ? o : o.owner_name || '')

export { pageOf } from '../api'

/** The top area of my grants that read the registry: the default of area pickers. */
export function myTopArea() {
  const gs = auth.grantsWith('read_registry').slice()
  const order = ['province', 'city', 'district', 'street', 'community', 'grid', 'building']
  gs.sort((a, b) => order.indexOf(a.area_kind) - order.indexOf(b.area_kind))
  return gs[0] ? { id: gs[0].area_id, name: gs[0].area_name, kind: gs[0].area_kind } : null
}
