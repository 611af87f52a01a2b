// 回应关切: code lists, labels and small helpers shared by the question pages.
import { t, te } from '../../i18n'
import { formatTime } from '../../utils/format'
import { shortTime } from '../../utils/todos'

export const STATUSES = ['open', 'answered', 'linked', 'declined', 'all']
export const STATUS_TAG = { open: 'warning', answered: 'success', linked: 'primary', declined: 'info' }
// the resident's words: a linked question is answered too (with the earlier answer)
export const MY_STATUS_TAG = { open: 'warning', answered: 'success', linked: 'success', declined: 'info' }
export const ROUTE_TAG = { power_list: 'success', territorial: 'primary', manual: 'warning', none: 'danger' }

export const statusLabel = (s) => (te('question.status.' + s) ? t('question.status.' + s) : s || '')
export const myStatusLabel = (s) => (te('question.myStatus.' + s) ? t('question.myStatus.' + s) : s || '')
export const routeLabel = (r) => (te('question.routeRule.' + r) ? t('question.routeRule.' + r) : r || '')
export const when = (v) => formatTime(v, false)
export { shortTime }

/** The deadline of an open question: 'over' (past it), 'soon' (less than a day left) or null. */
export function dueLevel(q, now = Date.now()) {
  if (!q || q.status !== 'open') return null
  if (q.overdue) return 'over'
  const due = Date.parse(q.due_at)
  if (Number.isNaN(due)) return null
  if (due < now) return 'over'
  return due - now < 24 * 3600 * 1000 ? 'soon' : null
}

// a mainland mobile number or an ID card number, as residents type them (spaces and dashes allowed in a mobile)
const MOBILE = /(?<![\d])1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?![\d])/
const ID_NO = /(?<![\dXx])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![\dXx])/
/** Text that seems to hold a mobile or ID number (a hint only: the worker decides). */
export const hasPersonalNumber = (s) => MOBILE.test(String(s || '')) || ID_NO.test(String(s || ''))

// the list's filters, kept so the detail page's 「返回」 goes back to the same tab, page and search
let lastListQuery = {}
export const rememberListQuery = (q) => (lastListQuery = { ...q })
export const listLocation = () => ({ name: 'questions', query: lastListQuery })
