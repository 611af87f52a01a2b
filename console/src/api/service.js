// 党员下沉、志愿服务、积分 (docs/party-volunteers.md): one function per route.
// Calls that feed a form are `silent` (the form shows the message and the field errors itself);
// list loads toast their error through http.js.
import { http, request } from './http'

const enc = encodeURIComponent

// ---- volunteers (志愿者) ----
export const volunteerApi = {
  list: (params, opts) => http.get('/volunteers', params, opts),
  get: (id, opts) => http.get(`/volunteers/${enc(id)}`, undefined, opts),
  create: (body) => http.post('/volunteers', body, { silent: true }),
  /** {skills?, willing?, limits?: {hours_per_week, consecutive_days, rest_hours}} */
  update: (id, body) => http.patch(`/volunteers/${enc(id)}`, body, { silent: true }),
  hours: (id, params, opts) => http.get(`/volunteers/${enc(id)}/hours`, params, opts),
  /** A correction: {minutes (may be negative), reason, activity_id?} */
  addHours: (id, body) => http.post(`/volunteers/${enc(id)}/hours`, body, { silent: true }),
  /** → {near_limits: [...], idle: [...]} */
  load: (params, opts) => http.get('/volunteers/load', params, opts),
}

// ---- rosters from a sheet (志愿者名册 / 党员名册: POST /import/volunteers, /import/party-members) ----
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
/** kind: 'volunteers' | 'party-members' */
export const serviceImportApi = {
  /** The template (CSV, UTF-8 with BOM): the header and one example row */
  template: (kind) => request('GET', `/import/templates/${kind}.csv`, { blob: true, silent: true }),
  /** mode: dry_run | commit (all or nothing) | commit_valid; the file is the raw body (xlsx or CSV) → SheetReport */
  run: (kind, file, mode, signal) =>
    request('POST', `/import/${kind}`, {
      query: { mode },
      raw: file,
      contentType: /\.xls[xm]$/i.test(file?.name || '') ? XLSX_TYPE : 'text/csv',
      signal,
      silent: true,
    }),
}

// ---- party members, report-ins, pairings (党员, 双报到, 结对共建) ----
export const memberApi = {
  list: (params, opts) => http.get('/party-members', params, opts),
  create: (body) => http.post('/party-members', body, { silent: true }),
  /** {status?, exempt_reason?, version} */
  update: (id, body) => http.patch(`/party-members/${enc(id)}`, body, { silent: true }),
}
export const reportInApi = {
  list: (params, opts) => http.get('/report-ins', params, opts),
  create: (body) => http.post('/report-ins', body, { silent: true }),
  overdue: (params, opts) => http.get('/report-ins/overdue', params, opts),
}
export const pairingApi = {
  list: (params, opts) => http.get('/pairings', params, opts),
  put: (body) => http.put('/pairings', body, { silent: true }),
}

// ---- activities, sign-ups, attendance (活动, 报名, 签到) ----
export const activityApi = {
  list: (params, opts) => http.get('/activities', params, opts),
  create: (body) => http.post('/activities', body, { silent: true }),
  get: (id, opts) => http.get(`/activities/${enc(id)}`, undefined, opts),
  cancel: (id, body = {}) => http.post(`/activities/${enc(id)}/cancel`, body, { silent: true }),
  signups: (id, opts) => http.get(`/activities/${enc(id)}/signups`, undefined, opts),
  /** assignment by the organiser (→ the sign-ups); a refusal is a 422 with the reason */
  assign: (id, volunteer_id) => http.post(`/activities/${enc(id)}/signups`, { volunteer_id }, { silent: true }),
  unassign: (id, volunteerId) => http.del(`/activities/${enc(id)}/signups/${enc(volunteerId)}`, { silent: true }),
  insurance: (id, volunteerId, body) => http.put(`/activities/${enc(id)}/signups/${enc(volunteerId)}/insurance`, body, { silent: true }),
  /** → {token, url, svg, direction, expires_at, refresh_seconds}; `origin`: the console's, so the code opens its phone page */
  qr: (id, direction, opts) => http.get(`/activities/${enc(id)}/qr`, { direction, origin: window.location.origin }, opts),
  attendance: (id, volunteer_id, direction) => http.post(`/activities/${enc(id)}/attendance`, { volunteer_id, direction }, { silent: true }),
  checkoutAll: (id) => http.post(`/activities/${enc(id)}/checkout-all`, {}, { silent: true }),
  confirm: (id) => http.post(`/activities/${enc(id)}/confirm`, {}, { silent: true }),
  /** the volunteer's own sign-up */
  signup: (id) => http.post(`/activities/${enc(id)}/signup`, {}, { silent: true }),
  cancelSignup: (id) => http.del(`/activities/${enc(id)}/signup`, { silent: true }),
}
export const attendanceApi = {
  /** the volunteer's phone, after scanning the organiser's QR */
  scan: (token) => http.post('/attendance/scan', { token }, { silent: true }),
}

// ---- points (积分) ----
export const pointsApi = {
  rules: (params, opts) => http.get('/points/rules', params, opts),
  putRule: (body) => http.put('/points/rules', body, { silent: true }),
  accounts: (params, opts) => http.get('/points/accounts', params, opts),
  account: (id, opts) => http.get(`/points/accounts/${enc(id)}`, undefined, opts),
  postings: (id, params, opts) => http.get(`/points/accounts/${enc(id)}/postings`, params, opts),
  /** {account_id, direction: earn|deduct, amount, note} */
  post: (body) => http.post('/points/postings', body, { silent: true }),
  reverse: (id, reason) => http.post(`/points/postings/${enc(id)}/reverse`, { reason }, { silent: true }),
  donate: (body) => http.post('/points/donations', body, { silent: true }),
}
export const catalogApi = {
  list: (params, opts) => http.get('/catalog', params, opts),
  create: (body) => http.post('/catalog', body, { silent: true }),
  update: (id, body) => http.patch(`/catalog/${enc(id)}`, body, { silent: true }),
  /** {account_id?, qty}: without account_id the signed-in volunteer redeems */
  redeem: (id, body) => http.post(`/catalog/${enc(id)}/redeem`, body, { silent: true }),
  redemptions: (params, opts) => http.get('/redemptions', params, opts),
}

// ---- stars, ratings, commendations (星级, 评议, 表彰) ----
export const ratingApi = {
  stars: (params, opts) => http.get('/stars', params, opts),
  list: (params, opts) => http.get('/party-ratings', params, opts),
  compute: (body) => http.post('/party-ratings/compute', body, { silent: true }),
  review: (body) => http.put('/party-reviews', body, { silent: true }),
}
export const commendationApi = {
  list: (params, opts) => http.get('/commendations', params, opts),
  create: (body) => http.post('/commendations', body, { silent: true }),
  due: (params, opts) => http.get('/commendations/due', params, opts),
}

// ---- certificates (志愿服务记录证明) ----
export const certificateApi = {
  /** ?area_id&volunteer_id&page (there is no GET /certificates/{id}) */
  list: (params, opts) => http.get('/certificates', params, opts),
  issue: (volunteer_id) => http.post('/certificates', { volunteer_id }, { silent: true }),
  pdf: (id) => request('GET', `/certificates/${enc(id)}/pdf`, { blob: true, silent: true }),
  /** no sign-in; 404 when there is no such number */
  verify: (number) => request('GET', `/public/certificates/${enc(number)}`, { silent: true, noRedirect: true }),
}

// ---- work units (单位门户) ----
// params: {year, org_id? (street staff pick the unit; a contact always gets their own), format: xlsx|pdf}
export const workUnitApi = {
  assessment: (params, opts) => http.get('/work-unit/assessment', params, opts),
  sheet: (params) => request('GET', '/work-unit/sheet', { query: params, blob: true, silent: true }),
  memberSheet: (id, params) => request('GET', `/work-unit/members/${enc(id)}/sheet`, { query: params, blob: true, silent: true }),
}

// ---- the volunteer's phone (我的志愿服务) ----
export const meVolunteerApi = {
  get: (opts) => http.get('/me/volunteer', undefined, opts),
  /** my own (stricter) limits; `null` clears them */
  limits: (body) => http.patch('/me/volunteer/limits', body, { silent: true }),
  postings: (params, opts) => http.get('/me/postings', params, opts),
  certificate: () => http.post('/me/certificate', {}, { silent: true }),
}
