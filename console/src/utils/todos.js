// 待办 (GET /me/todos) as the home page shows them: the label in the user's language, a link the user
// may open (a sample whose page is not theirs — a volunteer's activity, a resident's case — falls back
// to the list of the to-do), and the second line: a deadline with its countdown, a time, or a name.
import router, { canSee } from '../router'
import { t } from '../i18n'
import { formatTime } from './format'
import { dueState } from './cases'

const CASE_KINDS = ['cases_overdue', 'cases_to_dispatch', 'cases_to_handle']
// a sample's detail is its deadline: shown with a countdown (回应关切: the answer deadline)
const DUE_KINDS = [...CASE_KINDS, 'questions_to_answer']
const SEVERITY_RANK = { danger: 0, warning: 1, info: 2 }

export const todoLabel = (item, locale) =>
  (locale === 'en' ? item.label_en || item.label_zh : item.label_zh || item.label_en) || item.kind

/** The console path opens a page this user may see. */
export function reachable(link) {
  if (!link) return false
  try {
    const r = router.resolve(link)
    return !!r.matched.length && r.name !== 'not-found' && canSee(r)
  } catch {
    return false
  }
}

/** 「查看全部」: the list behind the to-do (a resident's open requests: the 我的诉求 list tab). */
export function todoLink(item) {
  const link = item.kind === 'my_cases_open' && item.link === '/my/cases' ? '/my/cases?tab=list' : item.link
  return reachable(link) ? link : null
}

/** One sample: its own page, or the visit form for a household (phone users), else the whole list. */
export function sampleLink(item, s, phone = false) {
  if (item.kind === 'households_to_visit' && phone && s.id && reachable('/visit')) return `/visit?household=${encodeURIComponent(s.id)}`
  if (s.link && reachable(s.link)) return s.link
  return todoLink(item)
}

const isTime = (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) && !Number.isNaN(Date.parse(v))
/** "11-27 21:20" this year, "2025-11-27 21:20" another year (Beijing time). */
export function shortTime(v) {
  const s = formatTime(v, false)
  const year = formatTime(new Date().toISOString(), false).slice(0, 5)
  return s.startsWith(year) ? s.slice(5) : s
}

/** The second line of a sample: {text, due: {level, text}|null}. */
export function sampleDetail(item, s) {
  const d = s.detail
  if (!d) return { text: '', due: null }
  if (!isTime(d)) return { text: String(d), due: null }
  const when = shortTime(d)
  // a requester's own case: the deadline only (the sample does not say whether its clock still runs)
  if (item.kind === 'my_cases_open') return { text: t('todos.dueAt', { t: when }), due: null }
  if (DUE_KINDS.includes(item.kind)) {
    const left = Math.round((Date.parse(d) - Date.now()) / 60000)
    return { text: t('todos.dueAt', { t: when }), due: dueState({ due_in_minutes: left, overdue: left < 0 }) }
  }
  if (item.kind === 'activities_to_confirm') return { text: t('todos.endedAt', { t: when }), due: null }
  if (item.kind === 'my_activities') return { text: t('todos.startsAt', { t: when }), due: null }
  return { text: when, due: null }
}

/** Waiting ones first (danger, warning, info), then the empty ones, each in the server's order. */
export function sortTodos(items) {
  return [...(items || [])]
    .map((x, i) => ({ x, i }))
    .sort((a, b) => (b.x.count > 0) - (a.x.count > 0) || (SEVERITY_RANK[a.x.severity] ?? 3) - (SEVERITY_RANK[b.x.severity] ?? 3) || a.i - b.i)
    .map(({ x }) => x)
}
