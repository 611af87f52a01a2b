// 接诉即办: one function per route of docs/cases.md.
// Calls that feed a form are `silent` (the form shows the message and the field errors itself).
import { http, request } from './http'

const enc = encodeURIComponent
const CSV = 'text/csv'

// ---- dictionary (事项分类) ----
export const caseCategoryApi = {
  list: (opts) => http.get('/case-categories', undefined, opts),
  create: (body) => http.post('/case-categories', body, { silent: true }),
  update: (id, body) => http.patch(`/case-categories/${enc(id)}`, body, { silent: true }),
  exportCsv: () => request('GET', '/case-categories/export.csv', { blob: true, silent: true }),
  importCsv: (file) => request('POST', '/case-categories/import', { raw: file, contentType: CSV, silent: true }),
}

// ---- 公开类别: the categories a street opens to the public (Open311 without a key) ----
export const publicCategoryApi = {
  /** → {street_id, codes: ['03', '0101'], categories: [{code, name}]}; read_cases on the street, 404 outside the caller's scope */
  get: (streetId, opts) => http.get(`/streets/${enc(streetId)}/public-categories`, undefined, opts),
  /** codes: a top-level code (2 digits) opens all its second-level categories → same shape; edit_areas on the street, 422 error.fields.codes */
  set: (streetId, codes) => http.put(`/streets/${enc(streetId)}/public-categories`, { codes }, { silent: true }),
}

// ---- units and their power lists (承办单位, 权责清单) ----
export const caseUnitApi = {
  list: (params, opts) => http.get('/case-units', params, opts),
  create: (body) => http.post('/case-units', body, { silent: true }),
  update: (id, body) => http.patch(`/case-units/${enc(id)}`, body, { silent: true }),
  get: (id, opts) => http.get(`/case-units/${enc(id)}`, undefined, opts),
  /** → [{member_id, name, kind: 'user'|'token'}] */
  members: (id, opts) => http.get(`/case-units/${enc(id)}/members`, undefined, opts),
  /** member_id: a user or an API token → the members after the change */
  addMember: (id, member_id) => http.post(`/case-units/${enc(id)}/members`, { member_id }, { silent: true }),
  removeMember: (id, memberId) => http.del(`/case-units/${enc(id)}/members/${enc(memberId)}`, { silent: true }),
  duties: (id) => http.get(`/case-units/${enc(id)}/duties`),
  createDuty: (id, body) => http.post(`/case-units/${enc(id)}/duties`, body, { silent: true }),
  updateDuty: (dutyId, body) => http.patch(`/case-duties/${enc(dutyId)}`, body, { silent: true }),
  /** → Routing {unit_id, unit_name, duty_id, duty_name, rule, explanation} */
  routing: (category_code, area_id, opts) => http.get('/case-routing', { category_code, area_id }, opts),
}

// ---- working-day calendar (工作日历) ----
export const calendarApi = {
  years: () => http.get('/calendar'),
  year: (year, opts) => http.get(`/calendar/${enc(year)}`, undefined, opts),
  save: (year, days) => http.put(`/calendar/${enc(year)}`, { days }, { silent: true }),
  importCsv: (file) => request('POST', '/calendar/import', { raw: file, contentType: CSV, silent: true }),
  /** start: RFC 3339; unit: hours | days → {due_at} */
  deadline: (start, value, unit) => http.get('/calendar/deadline', { start, value, unit }, { silent: true }),
}

// ---- cases (诉求) ----
export const caseApi = {
  /** `key`: the form's Idempotency-Key (one UUID per form, so a double submit creates one case). */
  create: (body, key) => http.post('/cases', body, { silent: true, headers: key ? { 'Idempotency-Key': key } : {} }),
  list: (params, opts) => http.get('/cases', params, opts),
  /** The dispatcher's queue counters → {by_status: {status: n}, overdue, handle} */
  counts: (opts) => http.get('/cases/counts', undefined, opts),
  get: (id, opts) => http.get(`/cases/${enc(id)}`, undefined, opts),
  timeline: (id, opts) => http.get(`/cases/${enc(id)}/timeline`, undefined, opts),
  /** POST /cases/{id}/actions/{action} with {version, ...} → Case */
  act: (id, action, body) => http.post(`/cases/${enc(id)}/actions/${enc(action)}`, body, { silent: true }),
  whistle: (id, body) => http.post(`/cases/${enc(id)}/whistles`, body, { silent: true }),
  arrive: (id, whistleId, unit_id) => http.post(`/cases/${enc(id)}/whistles/${enc(whistleId)}/arrive`, { unit_id }, { silent: true }),
  map: (params) => http.get('/cases/map', params),
  mine: (params, opts) => http.get('/my/cases', params, opts),
  /** 12345 hotline work orders: the CSV template (UTF-8 with BOM) */
  importTemplate: () => request('GET', '/cases/import/template.csv', { blob: true, silent: true }),
  /**
   * The file (CSV in UTF-8/GBK, or .xlsx) as the raw body; mode dry_run | commit
   * → {committed, rows, ok, unchanged, created, error_rows, problems: [{row, column, problem}]}
   */
  importHotline: (file, mode) => request('POST', '/cases/import', { query: { mode }, raw: file, contentType: hotlineType(file), silent: true }),
}
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
const hotlineType = (file) => (/\.xlsx$/i.test(file?.name || '') ? XLSX : CSV)

// ---- the resident's rating link (回访评价链接, /rate/<token>): public, no sign-in; the token is the authority ----
// Silent (the page shows its own states) and noRedirect, like the public certificate check (api/service.js).
export const rateLinkApi = {
  /** → RatingPage {no, category_name, title, status, status_label, unit_name, result, handled_at, rating, can_rate}; 404 for a bad token */
  get: (token) => request('GET', `/public/rate/${enc(token)}`, { silent: true, noRedirect: true }),
  /** {rating: satisfied|basic|dissatisfied, comment?} → RatingPage; 409 when already rated, 422 error.fields */
  rate: (token, body) => request('POST', `/public/rate/${enc(token)}`, { body, silent: true, noRedirect: true }),
}

// ---- files (附件) ----
export const fileApi = {
  /** The file goes as the raw body; → {id, name, size, content_type} */
  upload: (file) => request('POST', '/files', { query: { name: file.name }, raw: file, contentType: file.type || 'application/octet-stream', silent: true }),
  download: (id) => request('GET', `/files/${enc(id)}`, { blob: true, silent: true }),
}

// ---- the three rates (三率) ----
export const caseStatsApi = {
  totals: (params) => http.get('/case-stats', params),
  trend: (params) => http.get('/case-stats/trend', params),
  ranking: (params) => http.get('/case-stats/ranking', params),
  hotspots: (params) => http.get('/case-stats/hotspots', params),
}
