// One function per route of docs/api.md.
import { http, request } from './http'

const enc = encodeURIComponent

export const authApi = {
  login: (username, password) =>
    http.post('/auth/login', { username, password }, { noRedirect: true, silent: true }),
  logout: () => http.post('/auth/logout', undefined, { noRedirect: true, silent: true }),
  me: (opts) => http.get('/me', undefined, opts),
  changePassword: (old_password, new_password) =>
    http.post('/me/password', { old_password, new_password }, { silent: true }),
}

export const areaApi = {
  roots: () => http.get('/areas/roots'),
  get: (id, opts) => http.get(`/areas/${enc(id)}`, undefined, opts),
  children: (id) => http.get(`/areas/${enc(id)}/children`),
  search: (params) => http.get('/areas', params),
  create: (body) => http.post('/areas', body, { silent: true }),
  update: (id, body) => http.patch(`/areas/${enc(id)}`, body, { silent: true }),
  move: (id, new_parent_id, version, new_code) =>
    http.post(`/areas/${enc(id)}/move`, { new_parent_id, version, new_code }, { silent: true }),
  remove: (id) => http.del(`/areas/${enc(id)}`),
}

export const partyApi = {
  roots: () => http.get('/party-orgs/roots'),
  get: (id, opts) => http.get(`/party-orgs/${enc(id)}`, undefined, opts),
  children: (id) => http.get(`/party-orgs/${enc(id)}/children`),
  search: (params) => http.get('/party-orgs', params),
  create: (body) => http.post('/party-orgs', body, { silent: true }),
  update: (id, body) => http.patch(`/party-orgs/${enc(id)}`, body, { silent: true }),
  move: (id, new_parent_id, version) =>
    http.post(`/party-orgs/${enc(id)}/move`, { new_parent_id, version }, { silent: true }),
  remove: (id) => http.del(`/party-orgs/${enc(id)}`),
}

export const userApi = {
  list: (params, opts) => http.get('/users', params, opts),
  create: (body) => http.post('/users', body, { silent: true }),
  update: (id, body) => http.patch(`/users/${enc(id)}`, body),
  resetPassword: (id, password) =>
    http.post(`/users/${enc(id)}/reset-password`, { password }, { silent: true }),
  addGrant: (id, role, area_id) => http.post(`/users/${enc(id)}/grants`, { role, area_id }, { silent: true }),
  removeGrant: (grantId) => http.del(`/grants/${enc(grantId)}`),
}

export const tokenApi = {
  list: (opts) => http.get('/tokens', undefined, opts),
  create: (body) => http.post('/tokens', body, { silent: true }),
  revoke: (id) => http.post(`/tokens/${enc(id)}/revoke`),
}

// Data sharing (数据共享): rules are admin-managed; the receiving roles read through them (every read is audited).
export const sharingApi = {
  list: () => http.get('/sharing-rules'),
  create: (body) => http.post('/sharing-rules', body, { silent: true }),
  revoke: (id) => http.post(`/sharing-rules/${enc(id)}/revoke`),
}

export const sharedApi = {
  rules: (opts) => http.get('/shared/rules', undefined, opts),
  persons: (id, params) => http.get(`/shared/rules/${enc(id)}/persons`, params),
}

export const auditApi = {
  list: (params) => http.get('/audit', params),
}

export const docsApi = {
  openapi: () => http.get('/api/openapi.json'),
}

// ---- registry (一户一档) ----
export const registryApi = {
  vocab: () => http.get('/registry/vocab', undefined, { silent: true }),
  stats: (params) => http.get('/registry/stats', params),
  stale: (params) => http.get('/registry/stale', params),
  duplicates: (params) => http.get('/registry/duplicates', params),
}

export const dwellingApi = {
  list: (params) => http.get('/dwellings', params),
  get: (id, opts) => http.get(`/dwellings/${enc(id)}`, undefined, opts),
  create: (body) => http.post('/dwellings', body, { silent: true }),
  update: (id, body) => http.patch(`/dwellings/${enc(id)}`, body, { silent: true }),
  changeOwner: (id, body) => http.post(`/dwellings/${enc(id)}/owners`, body, { silent: true }),
}

export const householdApi = {
  list: (params) => http.get('/households', params),
  get: (id, opts) => http.get(`/households/${enc(id)}`, undefined, opts),
  create: (body) => http.post('/households', body, { silent: true }),
  update: (id, body) => http.patch(`/households/${enc(id)}`, body, { silent: true }),
  addMember: (id, body) => http.post(`/households/${enc(id)}/members`, body, { silent: true }),
  endMember: (id, memberId, body) => http.post(`/households/${enc(id)}/members/${enc(memberId)}/end`, body, { silent: true }),
  verify: (id, note) => http.post(`/households/${enc(id)}/verify`, note ? { note } : {}),
  file: (id, params, opts) => http.get(`/households/${enc(id)}/file`, params, opts),
  history: (id) => http.get(`/households/${enc(id)}/history`),
}

export const personApi = {
  list: (params, opts) => http.get('/persons', params, opts),
  get: (id, opts) => http.get(`/persons/${enc(id)}`, undefined, opts),
  create: (body) => http.post('/persons', body, { silent: true }),
  update: (id, body) => http.patch(`/persons/${enc(id)}`, body, { silent: true }),
  remove: (id, reason) => request('DELETE', `/persons/${enc(id)}`, { query: { reason }, silent: true }),
  reveal: (id, fields, reason) => http.post(`/persons/${enc(id)}/reveal`, { fields, reason }, { silent: true }),
  history: (id) => http.get(`/persons/${enc(id)}/history`),
}

export const visitApi = {
  list: (params) => http.get('/visits', params),
  create: (body) => http.post('/visits', body, { silent: true }),
}

export const needApi = {
  list: (params) => http.get('/needs', params),
  update: (id, body) => http.patch(`/needs/${enc(id)}`, body, { silent: true }),
}

export const entityApi = {
  list: (params) => http.get('/legal-entities', params),
  get: (id) => http.get(`/legal-entities/${enc(id)}`),
  create: (body) => http.post('/legal-entities', body, { silent: true }),
}

// Import / export. Files (CSV or an Excel .xlsx workbook; the server detects which by content) go as
// the raw request body (not multipart); downloads are fetched as blobs so the session cookie / bearer
// token is sent.
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
export const transferApi = {
  /** format: 'xlsx' (default: text-formatted columns + 填写说明 sheet) or 'csv' */
  template: (format = 'xlsx') => request('GET', `/import/templates/persons.${format === 'csv' ? 'csv' : 'xlsx'}`, { blob: true }),
  importPersons: (file, mode, signal) =>
    request('POST', '/import/persons', {
      query: { mode },
      raw: file,
      contentType: /\.xls[xm]$/i.test(file?.name || '') ? XLSX_TYPE : 'text/csv',
      signal,
      silent: true,
    }),
  /** The dry run's row report as an Excel workbook (the file is checked again; nothing is written). */
  importReportXlsx: (file, signal) =>
    request('POST', '/import/persons', {
      query: { mode: 'dry_run', report: 'xlsx' },
      raw: file,
      contentType: /\.xls[xm]$/i.test(file?.name || '') ? XLSX_TYPE : 'text/csv',
      blob: true,
      signal,
      silent: true,
    }),
  exportPersons: (params) => request('GET', '/export/persons.csv', { query: params, blob: true, silent: true }),
}

/** Lists may come back paged ({items,total}) or as a bare array; accept both. */
export function itemsOf(res) {
  if (Array.isArray(res)) return res
  return (res && res.items) || []
}
