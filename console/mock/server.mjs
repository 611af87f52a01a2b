// A small in-memory stand-in for the gongzhi API (docs/api.md), for developing and
// screenshotting the console without the Rust server. Not used in production.
//   node mock/server.mjs            → http://127.0.0.1:18080 (serves ../dist too)
// Users: admin / Admin#2026pass (system_admin), street / Street#2026 (street_admin, must change pw)
// 接诉即办 demo users (Demo@2026): chengban (区城管委 handler), wuye (物业), zhujian (住建), jumin (resident)
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { initRegistry, registryApi, registryPersons } from './registry.mjs'
import { initCases, casesApi } from './cases.mjs'
import { initService, serviceApi } from './service.mjs'

const PORT = Number(process.env.PORT || 18080)
const DIST = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../dist')
const now = () => new Date().toISOString()

const areas = new Map()
function addArea(parent, kind, name, code, boundary = null) {
  const a = { id: randomUUID(), parent_id: parent?.id || null, kind, name, code, boundary, version: 1, updated_at: now() }
  areas.set(a.id, a)
  return a
}
const city = addArea(null, 'city', '保定市', '130600000000')
const jingxiu = addArea(city, 'district', '竞秀区', '130602000000')
const lianchi = addArea(city, 'district', '莲池区', '130606000000')
const street1 = addArea(jingxiu, 'street', '先锋街道', '130602001000')
const street2 = addArea(jingxiu, 'street', '新市场街道', '130602002000')
addArea(lianchi, 'street', '和平街道', '130606001000')
const comm1 = addArea(street1, 'community', '朝阳社区', '130602001001', {
  type: 'Polygon', coordinates: [[[115.46, 38.87], [115.47, 38.87], [115.47, 38.88], [115.46, 38.88], [115.46, 38.87]]],
})
addArea(street1, 'community', '红旗社区', '130602001002')
addArea(street2, 'community', '东风社区', '130602002001')
const grid1 = addArea(comm1, 'grid', '第一网格', '130602001001001')
const grid2 = addArea(comm1, 'grid', '第二网格', '130602001001002')
const bld1 = addArea(grid1, 'building', '1号楼', '130602001001001001')
addArea(grid1, 'building', '2号楼', '130602001001001002')
addArea(grid1, 'building', '3号楼', '130602001001001003')
addArea(grid2, 'building', '5号楼', '130602001001002001')
addArea(grid2, 'building', '6号楼', '130602001001002002')

const childrenOf = (id) => [...areas.values()].filter((a) => a.parent_id === id)
function pathOf(a) {
  const out = []
  let p = a.parent_id && areas.get(a.parent_id)
  while (p) { out.unshift({ id: p.id, name: p.name, kind: p.kind }); p = p.parent_id && areas.get(p.parent_id) }
  return out
}
const areaOut = (a) => ({ ...a, child_count: childrenOf(a.id).length, path: pathOf(a) })

const orgs = new Map()
function addOrg(parent, kind, name, area, linked = []) {
  const o = { id: randomUUID(), parent_id: parent?.id || null, kind, name, area_id: area.id, linked_area_ids: linked.map((x) => x.id), version: 1, updated_at: now() }
  orgs.set(o.id, o)
  return o
}
const sc = addOrg(null, 'street_committee', '先锋街道党工委', street1)
const cb = addOrg(sc, 'community_branch', '朝阳社区党总支', comm1)
const gb = addOrg(cb, 'grid_branch', '第一网格党支部', grid1)
addOrg(gb, 'building_group', '1号楼党小组', grid1)
addOrg(sc, 'unit', '保定市第一中心医院党委', street1, [comm1, street2])
const orgOut = (o) => {
  const a = areas.get(o.area_id)
  return {
    id: o.id, parent_id: o.parent_id, kind: o.kind, name: o.name, area_id: o.area_id, area_name: a?.name,
    linked_areas: o.linked_area_ids.map((id) => areas.get(id)).filter(Boolean).map((x) => ({ id: x.id, name: x.name, kind: x.kind })),
    child_count: [...orgs.values()].filter((c) => c.parent_id === o.id).length, version: o.version, updated_at: o.updated_at,
  }
}

const users = new Map()
function addUser(username, display_name, password, grants, must = false) {
  const u = { id: randomUUID(), username, display_name, password, disabled: false, must_change_password: must, locked_until: null, last_login_at: null, created_at: now(), grants: [] }
  for (const [role, area] of grants) u.grants.push(mkGrant(role, area.id))
  users.set(u.id, u)
  return u
}
function mkGrant(role, area_id) {
  const a = areas.get(area_id)
  return { id: randomUUID(), role, area_id, area_name: a?.name, area_kind: a?.kind }
}
addUser('admin', '系统管理员', 'Admin#2026pass', [['system_admin', city]])
addUser('street', '王街道', 'Street#2026', [['street_admin', street1], ['party_secretary', street1]], true)
for (let i = 1; i <= 26; i++) addUser('grid' + i, '网格员' + i, 'Grid#2026pass', [['grid_worker', grid1]])
// the demo users of `gongzhi demo` (password Demo@2026)
addUser('jiedao', '李街道', 'Demo@2026', [['street_admin', street1]])
addUser('shequ', '张社区', 'Demo@2026', [['community_worker', comm1]])
addUser('wangge', '刘网格', 'Demo@2026', [['grid_worker', grid1]])
addUser('louzhang', '赵楼长', 'Demo@2026', [['building_leader', bld1]])
const userOut = ({ password, ...u }) => u
initRegistry({ areas, users })
// 接诉即办 (mock/cases.mjs) adds the handler / resident demo users chengban, wuye, zhujian, jumin (Demo@2026)
initCases({ areas, users, addUser, tokens: () => tokens }) // tokens: declared below, read per request
// 党员下沉、志愿服务、积分 (mock/service.mjs) adds shuji (党组织书记), danwei (单位联系人), zhiyuan (志愿者), all Demo@2026
initService({ areas, users, addUser, orgs, addOrg, persons: registryPersons() })

const tokens = []
const audit = []
const sessions = new Map()
let seq = 0
function log(req, me, action, object_type, object_id, fields = [], result = 'ok') {
  audit.unshift({ seq: ++seq, at: now(), actor_id: me?.id || null, actor_name: me?.display_name || '—', role: me?.grants[0]?.role || null, action, object_type, object_id, fields, client_addr: '127.0.0.1', result, request_id: req.rid, area_id: null, detail: null })
}

const en = (req) => (req.headers['accept-language'] || '').startsWith('en')
function err(res, req, status, code, zh, enMsg, fields) {
  send(res, status, { error: { code, message: en(req) ? enMsg : zh, fields: fields || {} } })
}
function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': res.rid })
  res.end(body === undefined ? '' : JSON.stringify(body))
}

function meOf(req) {
  const auth = req.headers.authorization || ''
  let tok = auth.startsWith('Bearer ') ? auth.slice(7) : null
  if (!tok) tok = /gongzhi_session=([^;]+)/.exec(req.headers.cookie || '')?.[1]
  const uid = tok && sessions.get(tok)
  return uid ? users.get(uid) : null
}

const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'gongzhi API', version: '0.1.0', description: 'Mock document for console development.' },
  tags: [{ name: 'auth', description: '登录与会话' }, { name: 'areas', description: '区域' }],
  paths: {
    '/api/v1/auth/login': { post: { tags: ['auth'], summary: '登录', requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/LoginRequest' } } } }, responses: { 200: { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/LoginResponse' } } } }, 401: { description: '用户名或密码错误', content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } } } } } },
    '/api/v1/me': { get: { tags: ['auth'], summary: '当前用户', responses: { 200: { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Me' } } } } } } },
    '/api/v1/areas/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      get: { tags: ['areas'], summary: '区域详情', responses: { 200: { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Area' } } } }, 404: { description: 'Not found' } } },
      patch: { tags: ['areas'], summary: '修改区域', requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['version'], properties: { version: { type: 'integer' }, name: { type: 'string' }, code: { type: 'string' } } } } } }, responses: { 200: { description: 'OK' }, 409: { description: '版本冲突' } } },
    },
    '/api/v1/areas': { get: { tags: ['areas'], summary: '搜索区域', parameters: [{ name: 'q', in: 'query', schema: { type: 'string' }, description: '名称或代码' }, { name: 'limit', in: 'query', schema: { type: 'integer' } }], responses: { 200: { description: 'OK', content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Area' } } } } } } } },
  },
  components: { schemas: {
    LoginRequest: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string', format: 'password' } } },
    LoginResponse: { type: 'object', properties: { token: { type: 'string' }, user: { $ref: '#/components/schemas/Me' } } },
    Me: { type: 'object', properties: { id: { type: 'string' }, username: { type: 'string' }, display_name: { type: 'string' }, must_change_password: { type: 'boolean' }, grants: { type: 'array', items: { $ref: '#/components/schemas/Grant' } } } },
    Grant: { type: 'object', properties: { id: { type: 'string' }, role: { type: 'string', enum: ['system_admin', 'street_admin', 'grid_worker'] }, area_id: { type: 'string' }, area_name: { type: 'string' } } },
    Area: { type: 'object', properties: { id: { type: 'string' }, parent_id: { type: ['string', 'null'] }, kind: { type: 'string', enum: ['city', 'district', 'street', 'community', 'grid', 'building'] }, name: { type: 'string', description: '名称' }, code: { type: 'string' }, children: { type: 'array', items: { $ref: '#/components/schemas/Area' } } } },
    ErrorBody: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, fields: { type: 'object', additionalProperties: { type: 'string' } } } } } },
  } },
}

function readBody(req) {
  return new Promise((resolve) => {
    // CSV uploads (POST /import/persons) arrive as the raw body: keep the bytes
    if (!/json/.test(req.headers['content-type'] || 'json')) {
      const parts = []
      req.on('data', (c) => parts.push(c))
      req.on('end', () => resolve({ __raw: Buffer.concat(parts) }))
      return
    }
    let s = ''
    req.on('data', (c) => (s += c))
    // a literal `null` body (e.g. PATCH /me/volunteer/limits: clear) is not malformed
    req.on('end', () => { try { resolve(s.trim() === 'null' ? { __null: true } : s ? JSON.parse(s) : {}) } catch { resolve(null) } })
  })
}

function searchAreas(q, kind, limit) {
  q = (q || '').toLowerCase()
  return [...areas.values()].filter((a) => (!q || a.name.toLowerCase().includes(q) || a.code.includes(q)) && (!kind || a.kind === kind)).slice(0, limit || 20).map(areaOut)
}

async function api(req, res, url) {
  const p = url.pathname.replace(/^\/api\/v1/, '')
  const m = req.method
  const body = ['POST', 'PATCH', 'PUT'].includes(m) ? await readBody(req) : {}
  if (body === null) return err(res, req, 400, 'malformed_json', '请求体不是有效的 JSON', 'Malformed JSON')
  if (url.pathname === '/api/openapi.json') return send(res, 200, OPENAPI)
  if (p === '/auth/login' && m === 'POST') {
    const u = [...users.values()].find((x) => x.username === body.username)
    if (!u || u.password !== body.password) return err(res, req, 401, 'auth.invalid_credentials', '用户名或密码错误', 'Wrong username or password')
    if (u.disabled) return err(res, req, 401, 'auth.invalid_credentials', '用户名或密码错误', 'Wrong username or password')
    const tok = 'sess_' + randomUUID()
    sessions.set(tok, u.id)
    u.last_login_at = now()
    log(req, u, 'auth.login', 'user', u.id)
    res.setHeader('set-cookie', `gongzhi_session=${tok}; HttpOnly; SameSite=Strict; Path=/`)
    return send(res, 200, { token: tok, user: userOut(u) })
  }
  const me = meOf(req)
  // the certificate check is public (no sign-in)
  if (p.startsWith('/public/') && serviceApi({ req, res, url, p, m, body, me, send, err, log })) return
  if (!me) return err(res, req, 401, 'auth.required', '请先登录', 'Please sign in')
  if (p === '/auth/logout') { res.setHeader('set-cookie', 'gongzhi_session=; Max-Age=0; Path=/'); return send(res, 204) }
  if (p === '/me' && m === 'GET') return send(res, 200, userOut(me))
  if (p === '/me/password' && m === 'POST') {
    if (body.old_password !== me.password) return err(res, req, 422, 'validation', '输入有误', 'Invalid input', { old_password: en(req) ? 'Wrong password' : '当前密码不正确' })
    me.password = body.new_password
    me.must_change_password = false
    return send(res, 204)
  }
  if (me.must_change_password) return err(res, req, 403, 'auth.password_change_required', '请先修改密码', 'Change your password first')
  const isAdmin = me.grants.some((g) => g.role === 'system_admin')
  let mm
  // areas
  if (p === '/areas/roots') {
    const ids = new Set(me.grants.map((g) => g.area_id))
    return send(res, 200, [...ids].map((id) => areas.get(id)).filter(Boolean).map(areaOut))
  }
  if (p === '/areas' && m === 'GET') return send(res, 200, searchAreas(url.searchParams.get('q'), url.searchParams.get('kind'), Number(url.searchParams.get('limit'))))
  if (p === '/areas' && m === 'POST') {
    const fields = {}
    if (!body.name) fields.name = '不能为空'
    if ([...areas.values()].some((a) => a.code === body.code)) fields.code = en(req) ? 'Code already used' : '代码已被使用'
    if (Object.keys(fields).length) return err(res, req, 422, 'validation', '输入有误', 'Invalid input', fields)
    const a = addArea(body.parent_id ? areas.get(body.parent_id) : null, body.kind, body.name, body.code, body.boundary || null)
    log(req, me, 'area.create', 'area', a.id, ['name', 'code'])
    return send(res, 201, areaOut(a))
  }
  if ((mm = p.match(/^\/areas\/([^/]+)(\/children|\/move)?$/))) {
    const a = areas.get(mm[1])
    if (!a) return err(res, req, 404, 'not_found', '未找到', 'Not found')
    if (mm[2] === '/children') return send(res, 200, childrenOf(a.id).map(areaOut))
    if (mm[2] === '/move') {
      if (body.version !== a.version) return err(res, req, 409, 'conflict', '已被他人修改', 'Changed by someone else')
      a.parent_id = body.new_parent_id; a.version++
      log(req, me, 'area.move', 'area', a.id, ['parent_id'])
      return send(res, 200, areaOut(a))
    }
    if (m === 'GET') return send(res, 200, areaOut(a))
    if (m === 'PATCH') {
      if (body.version !== a.version) return err(res, req, 409, 'conflict', '已被他人修改，请刷新', 'Changed by someone else, reload')
      const f = []
      for (const k of ['name', 'code', 'boundary']) if (k in body) { a[k] = body[k]; f.push(k) }
      a.version++; a.updated_at = now()
      log(req, me, 'area.update', 'area', a.id, f)
      return send(res, 200, areaOut(a))
    }
    if (m === 'DELETE') {
      if (childrenOf(a.id).length) return err(res, req, 409, 'conflict', '该区域还有下级，不能删除', 'Area has children')
      areas.delete(a.id)
      log(req, me, 'area.delete', 'area', a.id)
      return send(res, 204)
    }
  }
  // party orgs
  if (p === '/party-orgs/roots') return send(res, 200, [...orgs.values()].filter((o) => !o.parent_id).map(orgOut))
  if (p === '/party-orgs' && m === 'GET') {
    const q = (url.searchParams.get('q') || '').toLowerCase()
    return send(res, 200, [...orgs.values()].filter((o) => !q || o.name.includes(q)).slice(0, 30).map(orgOut))
  }
  if (p === '/party-orgs' && m === 'POST') {
    if (!body.name) return err(res, req, 422, 'validation', '输入有误', 'Invalid input', { name: '不能为空' })
    const o = addOrg(body.parent_id ? orgs.get(body.parent_id) : null, body.kind, body.name, areas.get(body.area_id), (body.linked_area_ids || []).map((id) => areas.get(id)))
    return send(res, 201, orgOut(o))
  }
  if ((mm = p.match(/^\/party-orgs\/([^/]+)(\/children|\/move)?$/))) {
    const o = orgs.get(mm[1])
    if (!o) return err(res, req, 404, 'not_found', '未找到', 'Not found')
    if (mm[2] === '/children') return send(res, 200, [...orgs.values()].filter((c) => c.parent_id === o.id).map(orgOut))
    if (mm[2] === '/move') { o.parent_id = body.new_parent_id; o.version++; return send(res, 200, orgOut(o)) }
    if (m === 'GET') return send(res, 200, orgOut(o))
    if (m === 'PATCH') {
      if (body.version !== o.version) return err(res, req, 409, 'conflict', '已被他人修改', 'Changed by someone else')
      if ('name' in body) o.name = body.name
      if ('area_id' in body) o.area_id = body.area_id
      if ('linked_area_ids' in body) o.linked_area_ids = body.linked_area_ids
      o.version++
      return send(res, 200, orgOut(o))
    }
    if (m === 'DELETE') { orgs.delete(o.id); return send(res, 204) }
  }
  // registry (一户一档), mock/registry.mjs
  if (registryApi({ req, res, url, p, m, body, me, send, err, log })) return
  // 接诉即办 (cases, units, calendar, stats), mock/cases.mjs
  if (casesApi({ req, res, url, p, m, body, me, send, err, log })) return
  // 党员下沉、志愿服务、积分, mock/service.mjs
  if (serviceApi({ req, res, url, p, m, body, me, send, err, log })) return
  if (!isAdmin && !p.startsWith('/audit')) return err(res, req, 403, 'forbidden', '没有权限', 'Forbidden')
  // users
  if (p === '/users' && m === 'GET') {
    const q = url.searchParams.get('q') || ''
    const page = Number(url.searchParams.get('page') || 1), size = Number(url.searchParams.get('page_size') || 20)
    const all = [...users.values()].filter((u) => !q || u.username.includes(q) || u.display_name.includes(q))
    return send(res, 200, { items: all.slice((page - 1) * size, page * size).map(userOut), total: all.length, page, page_size: size })
  }
  if (p === '/users' && m === 'POST') {
    if ([...users.values()].some((u) => u.username === body.username)) return err(res, req, 409, 'conflict', '用户名已存在', 'Username taken', { username: en(req) ? 'Already taken' : '已被使用' })
    const u = addUser(body.username, body.display_name, body.password, [], body.must_change_password ?? true)
    return send(res, 201, userOut(u))
  }
  if ((mm = p.match(/^\/users\/([^/]+)(\/reset-password|\/grants)?$/))) {
    const u = users.get(mm[1])
    if (!u) return err(res, req, 404, 'not_found', '未找到', 'Not found')
    if (mm[2] === '/reset-password') { u.password = body.password; u.must_change_password = true; return send(res, 204) }
    if (mm[2] === '/grants') { const g = mkGrant(body.role, body.area_id); u.grants.push(g); return send(res, 201, g) }
    if (m === 'PATCH') { Object.assign(u, 'disabled' in body ? { disabled: body.disabled } : {}, body.display_name ? { display_name: body.display_name } : {}); return send(res, 200, userOut(u)) }
  }
  if ((mm = p.match(/^\/grants\/([^/]+)$/)) && m === 'DELETE') {
    for (const u of users.values()) u.grants = u.grants.filter((g) => g.id !== mm[1])
    return send(res, 204)
  }
  if (p === '/tokens' && m === 'GET') return send(res, 200, tokens)
  if (p === '/tokens' && m === 'POST') {
    const secret = 'gz_' + randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '').slice(0, 12)
    const tk = { id: randomUUID(), name: body.name, prefix: secret.slice(0, 10), grants: (body.grants || []).map((g) => mkGrant(g.role, g.area_id)), created_at: now(), expires_at: body.expires_at || null, last_used_at: null, revoked_at: null, created_by_name: me.display_name }
    tokens.unshift(tk)
    return send(res, 201, { ...tk, token: secret })
  }
  if ((mm = p.match(/^\/tokens\/([^/]+)\/revoke$/))) { const tk = tokens.find((x) => x.id === mm[1]); if (tk) tk.revoked_at = now(); return send(res, 204) }
  if (p === '/audit') {
    const page = Number(url.searchParams.get('page') || 1), size = Number(url.searchParams.get('page_size') || 20)
    const r = url.searchParams.get('result')
    const all = audit.filter((a) => !r || a.result === r)
    return send(res, 200, { items: all.slice((page - 1) * size, page * size), total: all.length, page, page_size: size })
  }
  return err(res, req, 404, 'not_found', '未找到', 'Not found')
}

http.createServer(async (req, res) => {
  req.rid = res.rid = req.headers['x-request-id'] || randomUUID()
  const url = new URL(req.url, 'http://x')
  if (url.pathname.startsWith('/api/')) return api(req, res, url)
  if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' })
  let file = path.join(DIST, decodeURIComponent(url.pathname))
  if (!file.startsWith(DIST) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(DIST, 'index.html')
  const type = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html; charset=utf-8', '.svg': 'image/svg+xml' }[path.extname(file)] || 'application/octet-stream'
  res.writeHead(200, { 'content-type': type })
  fs.createReadStream(file).pipe(res)
}).listen(PORT, '127.0.0.1', () => console.log(`mock gongzhi API on http://127.0.0.1:${PORT}`))
