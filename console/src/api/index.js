// One function per route of docs/api.md.
import { http } from './http'

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
  list: (params) => http.get('/users', params),
  create: (body) => http.post('/users', body, { silent: true }),
  update: (id, body) => http.patch(`/users/${enc(id)}`, body),
  resetPassword: (id, password) =>
    http.post(`/users/${enc(id)}/reset-password`, { password }, { silent: true }),
  addGrant: (id, role, area_id) => http.post(`/users/${enc(id)}/grants`, { role, area_id }, { silent: true }),
  removeGrant: (grantId) => http.del(`/grants/${enc(grantId)}`),
}

export const tokenApi = {
  list: () => http.get('/tokens'),
  create: (body) => http.post('/tokens', body, { silent: true }),
  revoke: (id) => http.post(`/tokens/${enc(id)}/revoke`),
}

export const auditApi = {
  list: (params) => http.get('/audit', params),
}

export const docsApi = {
  openapi: () => http.get('/api/openapi.json'),
}

/** Lists may come back paged ({items,total}) or as a bare array; accept both. */
export function itemsOf(res) {
  if (Array.isArray(res)) return res
  return (res && res.items) || []
}
