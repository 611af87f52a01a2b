// 通知公告: code lists, labels and small helpers shared by the notice pages.
import { t } from '../../i18n'
import { label } from '../../utils/registry'
import { roleLabel, formatTime } from '../../utils/format'
import { auth } from '../../stores/auth'

// the four non-sensitive registry tags a notice may be narrowed by, and the staff roles it may address
export const NOTICE_TAGS = ['living_alone_elderly', 'empty_nest_elderly', 'left_behind_child', 'entitled_group']
export const STAFF_ROLES = ['grid_worker', 'building_leader', 'community_worker', 'volunteer', 'party_secretary']
export const STATES = ['all', 'unread', 'unacked', 'acked', 'unreachable', 'door']
export const STATUS_TAG = { published: 'success', withdrawn: 'info' }
export const REACH_TAG = { app: 'success', sms: 'primary', none: 'danger' }

export const canSend = () => auth.can('send_notices')
export const canRecord = () => auth.can('edit_registry')

export const tagLabel = (c) => label('tag', c)
export const statusLabel = (s) => (['published', 'withdrawn', 'all'].includes(s) ? t('notice.status.' + s) : s || '')
export const reachLabel = (r) => (['app', 'sms', 'none'].includes(r) ? t('notice.reach.' + r) : r || '')
export const viaLabel = (v) => (['app', 'visit'].includes(v) ? t('notice.via.' + v) : v || '')
export const when = (v) => formatTime(v, false)

const sep = () => (t('notice.menu') === 'Notices' ? ', ' : '、')
/** 全部住户 / 独居老人、空巢老人住户 (+ roles), from a Notice. */
export function audienceParts(n) {
  const out = []
  if (n.listed) out.push(t('notice.audienceList', { n: n.coverage?.households ?? 0 }))
  else if (n.households !== false) out.push(n.tags?.length ? t('notice.audienceTags', { tags: n.tags.map(tagLabel).join(sep()) }) : t('notice.audienceAll'))
  else if (!n.roles?.length) out.push(t('notice.noHouseholds'))
  if (n.roles?.length) out.push(n.roles.map((r) => roleLabel(r)).join(sep()))
  return out
}

export const pct = (a, b) => (b ? Math.round((Number(a) / Number(b)) * 100) : 0)

/** The answer as "label: value" lines, in the order of the form (unknown keys last). */
export function answerLines(form, answer) {
  if (!answer || typeof answer !== 'object') return []
  const out = []
  const seen = new Set()
  for (const f of form || []) {
    if (answer[f.key] !== undefined && answer[f.key] !== '') {
      out.push(`${f.label}: ${answer[f.key]}`)
      seen.add(f.key)
    }
  }
  for (const [k, v] of Object.entries(answer)) if (!seen.has(k) && v !== '') out.push(`${k}: ${v}`)
  return out
}

/** Field errors of an answer (`answer.<key>`, or nested `{answer: {key: …}}`) → {key: message}. */
export function answerErrors(fields) {
  const out = {}
  for (const [k, v] of Object.entries(fields || {})) {
    const m = /^answer[.[]([^\]]+)\]?$/.exec(k)
    if (m) out[m[1]] = Array.isArray(v) ? v.join('; ') : String(v)
    else if (k === 'answer' && v && typeof v === 'object') Object.assign(out, v)
  }
  return out
}

/** "上午、下午，晚上" → ['上午', '下午', '晚上'] (commas, 顿号, semicolons, new lines). */
export const splitOptions = (s) => [...new Set(String(s || '').split(/[,，、;；\n]+/).map((x) => x.trim()).filter(Boolean))]
