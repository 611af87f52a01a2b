// A small in-memory stand-in for the gongzhi API (docs/api.md), for developing and
// screenshotting the console without the Rust server. Not used in production.
//   node mock/server.mjs            → http://127.0.0.1:18080 (serves ../dist too)
// Users: admin / Admin#2026pass (system_admin), street / Street#2026 (street_admin, must change pw)
// 接诉即办 demo users (Demo@2026): chengban (区城管委 handler), wuye (物业), zhujian (住建), jumin (resident)
// Delegated administration (Demo@2026): quji (区级管理员, 竞秀区), shequadmin (社区管理员, 朝阳社区),
// rexian (12345热线中心, 保定市). Roles and permissions: mock/roles.mjs (a copy of the server's table).
// Phone-only demo users (the phone home): wangge (网格员), louzhang (楼长), zhiyuan (志愿者), jumin (居民).
// GET /me/todos is answered per user from the other mocks' lists; POST /import/areas reads GeoJSON or CSV.
// 消息 (GET /me/messages…, /message-templates): mock/messages.mjs, each inbox seeded on first use.
// 通知公告 (/notices…, /me/notices…): mock/notices.mjs; jumin's household gets the seeded notices.
// 居民注册 (/public/signup…, /me/claims, /resident-claims…): mock/signup.mjs; the SMS code is always 123456;
// xinjumin / Demo@2026 signed up by themselves (no role, not linked).
// 回应关切 (/questions…, /me/questions…): mock/questions.mjs; jumin has three questions (open, linked, declined).
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import { randomUUID, randomInt } from 'node:crypto'
import { ROLE_INFO, permissionsOf, roleTable, rankOf, managerRank, parseRole } from './roles.mjs'
import { initRegistry, registryApi, registryPersons } from './registry.mjs'
import { initCases, casesApi, casesPublicApi, ratingSamples } from './cases.mjs'
import { initService, serviceApi, serviceImportApi } from './service.mjs'
import { messagesApi } from './messages.mjs'
import { initChannels, channelsApi } from './channels.mjs'
import { initNotices, noticesApi } from './notices.mjs'
import { initSignup, signupPublicApi, signupApi, claimSample, MOCK_CODE } from './signup.mjs'
import { initQuestions, questionsApi, questionsToAnswer } from './questions.mjs'
import { reachApi } from './reach.mjs' // users' e-mail / WeCom, /me/channels, the channel register import

const PORT = Number(process.env.PORT || 18080)
const DIST = process.env.DIST ? path.resolve(process.env.DIST) : path.resolve(path.dirname(new URL(import.meta.url).pathname), '../dist')
const now = () => new Date().toISOString()

const areas = new Map()
function addArea(parent, kind, name, code, boundary = null) {
  const a = { id: randomUUID(), parent_id: parent?.id || null, kind, name, code, boundary, version: 1, updated_at: now() }
  areas.set(a.id, a)
  return a
}
// the tree starts at a province here (a city may also be a root)
const province = addArea(null, 'province', '河北省', '130000000000')
const city = addArea(province, 'city', '保定市', '130600000000')
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
// `area`: the home area (the office the user belongs to); by default the area of the first grant
function addUser(username, display_name, password, grants, must = false, { area, phone = null } = {}) {
  const home = area || grants[0]?.[1] || null
  const u = {
    id: randomUUID(), username, display_name, password, disabled: false, must_change_password: must, locked_until: null, last_login_at: null,
    created_at: now(), grants: [], area_id: home?.id || null, phone,
  }
  for (const [role, a] of grants) u.grants.push(mkGrant(role, a.id))
  users.set(u.id, u)
  return u
}
function mkGrant(role, area_id) {
  const a = areas.get(area_id)
  return { id: randomUUID(), role, area_id, area_name: a?.name, area_kind: a?.kind }
}
addUser('admin', '系统管理员', 'Admin#2026pass', [['system_admin', city]], false, { phone: '13803120001' })
addUser('street', '王街道', 'Street#2026', [['street_admin', street1], ['party_secretary', street1]], true, { phone: '13903125678' })
const SURNAMES = '王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许'
for (let i = 1; i <= 26; i++) addUser('grid' + i, SURNAMES[i - 1] + ['晓梅', '建国', '丽娟', '志强', '秀英', '海燕'][i % 6], 'Grid#2026pass', [['grid_worker', i % 2 ? grid1 : grid2]], i % 7 === 0, { area: comm1, phone: i % 3 ? `1${35 + (i % 5)}0312${String(1000 + i * 37).slice(-4)}` : null })
// the demo users of `gongzhi demo` (password Demo@2026)
addUser('jiedao', '李街道', 'Demo@2026', [['street_admin', street1]], false, { phone: '13633125566' })
addUser('shequ', '张社区', 'Demo@2026', [['community_worker', comm1]], false, { phone: '15803126677' })
addUser('wangge', '刘网格', 'Demo@2026', [['grid_worker', grid1]], false, { area: comm1 })
addUser('louzhang', '赵楼长', 'Demo@2026', [['building_leader', bld1]], false, { area: comm1, phone: '18603127788' })
// delegated administration
addUser('quji', '钱区级', 'Demo@2026', [['district_admin', jingxiu]], false, { phone: '13731229900' })
addUser('shequadmin', '冯社区', 'Demo@2026', [['community_admin', comm1]], false, { phone: '13230128811' })
addUser('rexian', '褚热线', 'Demo@2026', [['hotline_centre', city]], false)
// a street admin who sits in the community office: read-only for the community admin (a role above theirs)
addUser('baopian', '蒋包片', 'Demo@2026', [['street_admin', street1]], false, { area: comm1, phone: '13503121234' })
for (const u of users.values()) {
  if (u.username === 'grid3') u.disabled = true
  if (u.username === 'grid5') u.locked_until = new Date(Date.now() + 20 * 60000).toISOString()
}
const mask = (p) => (p ? p.slice(0, 3) + '****' + p.slice(-4) : null)
const areaName = (id) => (id && areas.get(id)?.name) || null
/** The user as GET /users shows it: home area, masked phone; `manageable` for the caller `me`. */
const userOut = ({ password, phone, person_id, ...u }, me = null) => ({ ...u, area_name: areaName(u.area_id), phone_masked: mask(phone), manageable: me ? manages(me, u) : true })
/** GET /me: the user and the permissions their roles carry. */
const meOut = ({ password, phone, person_id, ...u }) => ({ ...u, area_name: areaName(u.area_id), permissions: permissionsOf(u), person_linked: !!person_id })
initRegistry({ areas, users })
// 渠道台账 (mock/channels.mjs): a few channels per community, some flagged, one retired and one merged
initChannels({ areas })
// 接诉即办 (mock/cases.mjs) adds the handler / resident demo users chengban, wuye, zhujian, jumin (Demo@2026)
initCases({ areas, users, addUser, tokens: () => tokens }) // tokens: declared below, read per request
// 党员下沉、志愿服务、积分 (mock/service.mjs) adds shuji (党组织书记), danwei (单位联系人), zhiyuan (志愿者), all Demo@2026
initService({ areas, users, addUser, orgs, addOrg, persons: registryPersons() })
// 通知公告 (mock/notices.mjs): after the demo users exist (jumin's household, the staff told)
initNotices({ areas, users })
// 居民注册 (mock/signup.mjs): signed-up residents (xinjumin …) and their claims; jumin linked to their household
initSignup({ areas, users, addUser, mkGrant })
// 回应关切 (mock/questions.mjs): after the demo users and the case units exist (routing, unit members)
initQuestions({ areas, users })

const tokens = []
const audit = []
const sessions = new Map() // token → {id, uid, created_at, last_seen_at, expires_at, client_addr, user_agent}
const DAY = 86400000
function openSession(uid, { ua = '', addr = '127.0.0.1', ago = 0 } = {}) {
  const tok = 'sess_' + randomUUID()
  const at = Date.now() - ago
  sessions.set(tok, { id: randomUUID(), uid, created_at: new Date(at).toISOString(), last_seen_at: new Date(Math.min(Date.now(), at + 3600000)).toISOString(), expires_at: new Date(at + 7 * DAY).toISOString(), client_addr: addr, user_agent: ua })
  return tok
}
// a few sessions so the 会话 drawer has something to show
{
  const WIN = 'Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36'
  const PHONE = 'Mozilla/5.0 (Linux; Android 12; HarmonyOS; ALN-AL00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0 Mobile Safari/537.36 MicroMessenger/8.0'
  for (const u of users.values()) {
    if (!/^(jiedao|shequ|wangge|grid1|grid2|street)$/.test(u.username)) continue
    openSession(u.id, { ua: WIN, addr: '10.12.3.' + (20 + u.username.length), ago: 2 * DAY + 3600000 })
    if (u.username !== 'street') openSession(u.id, { ua: PHONE, addr: '223.104.12.' + u.username.length, ago: 5 * 3600000 })
    u.last_login_at = new Date(Date.now() - 5 * 3600000).toISOString()
  }
}
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
  const s = tok && sessions.get(tok)
  if (s) s.last_seen_at = now()
  return s ? users.get(s.uid) : null
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
    // CSV uploads (POST /import/persons) arrive as the raw body: keep the bytes; so do the area files
    // (POST /import/areas: GeoJSON is read as a file, a broken one is the file's problem, not a 400)
    if (!/json/.test(req.headers['content-type'] || 'json') || /^\/api\/v1\/import\/areas/.test(req.url || '')) {
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

function tokenOf(req) {
  const auth = req.headers.authorization || ''
  return auth.startsWith('Bearer ') ? auth.slice(7) : /gongzhi_session=([^;]+)/.exec(req.headers.cookie || '')?.[1]
}
function sessionsOf(uid, currentTok) {
  return [...sessions.entries()].filter(([, s]) => s.uid === uid).map(([tok, { uid: _u, ...s }]) => ({ ...s, current: tok === currentTok }))
    .sort((a, b) => b.last_seen_at.localeCompare(a.last_seen_at))
}

// ---- delegated administration: who manages whom ----
const isSys = (u) => u.grants.some((g) => g.role === 'system_admin')
function underArea(id, rootId) {
  for (let a = id && areas.get(id); a; a = a.parent_id && areas.get(a.parent_id)) if (a.id === rootId) return true
  return false
}
/** The areas where `me` holds manage_users (null: everywhere, a system admin). */
function managedRoots(me) {
  if (isSys(me)) return null
  return me.grants.filter((g) => ['district_admin', 'street_admin', 'community_admin'].includes(g.role)).map((g) => g.area_id)
}
const inMyScope = (me, areaId) => { const r = managedRoots(me); return r === null || (!!areaId && r.some((x) => underArea(areaId, x))) }
const userRank = (u) => Math.max(0, ...u.grants.map((g) => rankOf(g.role)))
/** `me` may change `u`: in scope, and no role above mine. */
function manages(me, u) {
  if (isSys(me)) return true
  return inMyScope(me, u.area_id) && userRank(u) <= managerRank(me)
}
const mayGrant = (me, role, areaId) => isSys(me) || (role !== 'system_admin' && rankOf(role) <= managerRank(me) && inMyScope(me, areaId))
// a first password like the server's: three groups of four, no look-alikes
const PW = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
function firstPassword() {
  const part = () => Array.from({ length: 4 }, () => PW[randomInt(PW.length)]).join('')
  return `${part()}-${part()}-${part()}`
}
function findArea(s) {
  const v = String(s || '').trim()
  return [...areas.values()].find((a) => a.code === v) || [...areas.values()].find((a) => a.name === v) || null
}
// CSV cells (the mock reads CSV; the server reads .xlsx too)
function parseCsv(text) {
  const rows = []
  let row = [], cell = '', q = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++ } else if (c === '"') q = false
      else cell += c
    } else if (c === '"') q = true
    else if (c === ',') { row.push(cell); cell = '' }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(cell); rows.push(row); row = []; cell = ''
    } else cell += c
  }
  if (cell || row.length) { row.push(cell); rows.push(row) }
  return rows.filter((r) => r.some((x) => x.trim()))
}
/** POST /users/import: check every row; commit creates them (commit_valid: only the good rows). */
function importUsers(me, buf, mode, enMsg) {
  const w = (zh, e) => (enMsg ? e : zh)
  const report = { status: 'dry_run', rows: 0, ok_rows: 0, error_rows: 0, created: 0, skipped_rows: 0, problems: [], handover: [] }
  if (buf[0] === 0x50 && buf[1] === 0x4b) {
    // the mock cannot read a workbook: pretend its rows are these (so the dialog can be tried)
    buf = Buffer.from('用户名,姓名,手机号,角色,区域\nzhaoyun,赵云,13812345678,网格员,第一网格\nliuxin,刘欣,,社区工作者,朝阳社区\nbad name,张三,123,楼长,不存在的小区\nadmin,重复,,网格员,第一网格\n')
  }
  const rows = parseCsv(buf.toString('utf8').replace(/^\ufeff/, ''))
  const head = (rows.shift() || []).map((h) => h.trim())
  const col = (name) => head.indexOf(name)
  const need = ['用户名', '姓名', '角色', '区域']
  const missing = need.filter((h) => col(h) < 0)
  if (missing.length) return { error: w(`缺少列：${missing.join('、')}`, `Missing columns: ${missing.join(', ')}`) }
  const seen = new Set()
  const good = []
  rows.forEach((r, i) => {
    const rowNo = i + 2
    const get = (h) => (col(h) >= 0 ? (r[col(h)] || '').trim() : '')
    const probs = []
    const username = get('用户名'), name = get('姓名'), phone = get('手机号'), roleText = get('角色'), areaText = get('区域')
    if (!/^[a-z0-9._-]{3,32}$/.test(username)) probs.push(['用户名', w('用户名应为 3-32 位小写字母、数字、点、下划线或短横线', 'Username: 3–32 lowercase letters, digits, dot, underscore or hyphen')])
    else if ([...users.values()].some((u) => u.username === username) || seen.has(username)) probs.push(['用户名', w(`用户名 ${username} 已被使用`, `Username ${username} is taken`)])
    if (!name) probs.push(['姓名', w('姓名不能为空', 'The name is empty')])
    if (phone && !/^1[3-9]\d{9}$/.test(phone)) probs.push(['手机号', w('手机号应为 11 位数字', 'The mobile must be 11 digits')])
    const role = parseRole(roleText)
    const area = findArea(areaText)
    if (!role) probs.push(['角色', w(`不认识的角色“${roleText}”`, `Unknown role “${roleText}”`)])
    if (!area) probs.push(['区域', w(`找不到区域“${areaText}”（可填区域代码或名称）`, `No area “${areaText}” (give its code or name)`)])
    if (role && area && !mayGrant(me, role, area.id)) probs.push(['角色', w('只能授予不高于自己的角色，且须在自己管理的区域内', 'You can grant only roles up to your own, within the areas you manage')])
    seen.add(username)
    report.rows++
    if (probs.length) {
      report.error_rows++
      for (const [column, problem] of probs) report.problems.push({ row: rowNo, column, problem })
    } else {
      report.ok_rows++
      good.push({ username, name, phone, role, area })
    }
  })
  if (mode === 'dry_run') return report
  if (mode === 'commit' && report.error_rows) return { ...report, status: 'rejected' }
  for (const g of good) {
    const password = firstPassword()
    addUser(g.username, g.name, password, [[g.role, g.area]], true, { area: g.area, phone: g.phone || null })
    report.handover.push({ username: g.username, display_name: g.name, area_name: g.area.name, role: g.role, password })
  }
  return { ...report, status: 'committed', created: good.length, skipped_rows: report.error_rows }
}

// ---- 首页待办 (GET /me/todos) ----
/** A GET answered by the registry / cases / service mocks for `me`, in-process (null when refused). */
function innerGet(req, me, path, params = {}) {
  const url = new URL('http://x/api/v1' + path)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v))
  let out = null
  const fake = { method: 'GET', headers: { 'accept-language': req.headers['accept-language'] || '' }, rid: req.rid }
  const args = {
    req: fake, res: { rid: req.rid }, url, p: path, m: 'GET', body: {}, me,
    send: (_r, status, body) => (out = { status, body }), err: (_r, _q, status) => (out = { status }), log: () => {},
  }
  registryApi(args) || casesApi(args) || serviceApi(args)
  return out && out.status === 200 ? out.body : null
}
const PHONE_ONLY = ['grid_worker', 'building_leader', 'volunteer', 'resident']
/** Like the server (crates/gongzhi/src/app/todos.rs): each to-do counted by the list its link opens. */
function todosOf(req, me) {
  const perms = new Set(permissionsOf(me))
  const has = (...r) => me.grants.some((g) => r.includes(g.role))
  const phone = me.grants.length > 0 && me.grants.every((g) => PHONE_ONLY.includes(g.role))
  const caseSample = (c) => ({ id: c.id, title: `${c.no} ${c.title}`, detail: c.handle_due_at || c.response_due_at || null, link: `/cases/${c.id}` })
  const items = []
  const push = (kind, label_zh, label_en, severity, link, page, sample) =>
    items.push({ kind, count: page?.total || 0, label_zh, label_en, severity, link, samples: (page?.items || []).slice(0, 5).map(sample) })
  if (perms.has('dispatch_cases')) {
    push('cases_overdue', '超期诉求', 'Overdue cases', 'danger', '/cases/dispatch?overdue=1',
      innerGet(req, me, '/cases', { queue: 'dispatch', status: 'dispatched,in_progress', overdue: 'true', page_size: 5 }), caseSample)
    push('cases_to_dispatch', '待派遣诉求', 'Cases to dispatch', 'warning', '/cases/dispatch',
      innerGet(req, me, '/cases', { queue: 'dispatch', status: 'received', page_size: 5 }), caseSample)
  }
  const handle = innerGet(req, me, '/cases', { queue: 'handle', status: 'dispatched,in_progress', page_size: 5 })
  if (handle && (handle.total || has('department_handler'))) {
    push('cases_to_handle', '待办理诉求', 'Cases to handle', handle.items.some((c) => c.overdue) ? 'danger' : 'warning', '/cases/handle', handle, caseSample)
  }
  if (perms.has('edit_registry')) {
    push('households_to_visit', '待走访核实的户', 'Households due a visit', 'info', phone ? '/visit' : '/registry',
      innerGet(req, me, '/households', { stale: 'true', page_size: 5 }),
      (h) => ({ id: h.id, title: h.address, detail: h.head_name || null, link: `/households/${h.id}` }))
  }
  if (perms.has('manage_service')) {
    push('activities_to_confirm', '待确认时长的活动', 'Activities to confirm', 'warning', '/service/activities?status=unconfirmed',
      innerGet(req, me, '/activities', { status: 'unconfirmed', page_size: 5 }),
      (a) => ({ id: a.id, title: a.title, detail: a.ends_at, link: `/service/activities/${a.id}` }))
  }
  // 回应关切: the open questions the user may answer (answer_questions at their community or above, or a member of the unit)
  const qs = questionsToAnswer(me)
  if (qs && (qs.total || perms.has('answer_questions'))) {
    push('questions_to_answer', '待答复的居民提问', 'Questions to answer', qs.overdue ? 'danger' : 'warning', '/questions', qs,
      (q) => ({ id: q.id, title: q.title, detail: q.due_at, link: `/questions/${q.id}` }))
  }
  const vol = has('volunteer') ? innerGet(req, me, '/me/volunteer') : null
  if (vol) {
    push('my_activities', '我报名的活动', 'My upcoming activities', 'info', '/m/volunteer', { total: vol.upcoming.length, items: vol.upcoming },
      (a) => ({ id: a.id, title: a.title, detail: a.starts_at, link: `/service/activities/${a.id}` }))
  }
  const OPEN = ['received', 'registered', 'dispatched', 'in_progress', 'arbitration', 'handled', 'verified']
  const mine = (innerGet(req, me, '/my/cases', { page_size: 200 })?.items || []).filter((c) => OPEN.includes(c.status))
  if (mine.length || has('resident')) push('my_cases_open', '我提交的未结诉求', 'My open requests', 'info', '/my/cases', { total: mine.length, items: mine }, caseSample)
  return { items }
}

// ---- 导入区域 (POST /import/areas, GET /import/templates/areas.csv) ----
const KIND_ORDER = ['province', 'city', 'district', 'street', 'community', 'grid', 'building']
const KIND_ZH = { province: '省', city: '市', district: '区', street: '街道', community: '社区', grid: '网格', building: '楼栋' }
function kindOfCode(code) {
  const z = (from) => /^0*$/.test(code.slice(from))
  if (code.length === 18) return 'building'
  if (code.length === 15) return 'grid'
  if (code.length !== 12) return null
  return z(2) ? 'province' : z(4) ? 'city' : z(6) ? 'district' : z(9) ? 'street' : 'community'
}
function parentCodeOf(kind, code) {
  const keep = (n) => code.slice(0, n) + '0'.repeat(12 - n)
  return { province: null, city: keep(2), district: keep(4), street: keep(6), community: keep(9), grid: code.slice(0, 12), building: code.slice(0, 15) }[kind]
}
const kindByWord = (w) => KIND_ORDER.find((k) => k === String(w).trim().toLowerCase() || KIND_ZH[k] === String(w).trim()) || null
const mayEditArea = (me, areaId) => isSys(me) || me.grants.some((g) => ['district_admin', 'street_admin'].includes(g.role) && underArea(areaId, g.area_id))
/** Reads the file (GeoJSON or CSV; a workbook is pretended), checks every row, and on commit writes all or nothing. */
function importAreas(req, me, buf, commit) {
  const M = (zh, e) => ({ zh, en: e })
  let text = buf.toString('utf8').replace(/^\ufeff/, '').trim()
  if (!text) return { error: M('文件为空', 'The file is empty') }
  const report = { status: 'dry_run', format: 'csv', rows: 0, ok_rows: 0, error_rows: 0, created: 0, updated: 0, unchanged: 0, by_kind: {}, problems: [] }
  let items = []
  if (text.startsWith('{')) {
    report.format = 'geojson'
    let v
    try { v = JSON.parse(text) } catch (e) { return { error: M('GeoJSON 无法解析，请检查文件是否完整（可用文本编辑器或 geojson.io 打开检查）', `The GeoJSON cannot be read: ${e.message}`) } }
    if (v?.type !== 'FeatureCollection' || !Array.isArray(v.features)) return { error: M('应为 GeoJSON FeatureCollection（features 数组）', 'Expected a GeoJSON FeatureCollection (a features array)') }
    items = v.features.map((f, i) => {
      const pr = f?.properties || {}
      const get = (...ks) => { for (const k of ks) if (pr[k] !== undefined && pr[k] !== null && String(pr[k]).trim()) return String(pr[k]).trim(); return null }
      return { row: i + 1, code: get('code', '编码', '区划代码') || '', name: get('name', '名称') || '', kind: get('kind', '类型'), parent_code: get('parent_code', '上级编码'), boundary: f?.geometry || null }
    })
  } else {
    if (buf[0] === 0x50 && buf[1] === 0x4b) {
      // the mock cannot read a workbook: pretend its rows are these
      report.format = 'xlsx'
      text = '编码,名称,类型,上级编码\n130602001003,向阳社区,社区,130602001000\n130602001003001,第一网格,网格,\n130602001003002,第二网格,,\n'
    }
    const rows = parseCsv(text)
    const head = (rows.shift() || []).map((h) => h.trim())
    const col = (...ns) => head.findIndex((h) => ns.some((n) => h.toLowerCase() === n.toLowerCase()))
    const [cCode, cName, cKind, cParent] = [col('编码', 'code'), col('名称', 'name'), col('类型', 'kind'), col('上级编码', 'parent_code')]
    if (cCode < 0 || cName < 0) return { error: M('缺少列：编码、名称（类型、上级编码可省略）', 'Missing columns: 编码 (code), 名称 (name); 类型 and 上级编码 are optional') }
    items = rows.map((r, i) => {
      const get = (c) => (c >= 0 ? (r[c] || '').trim() || null : null)
      return { row: i + 2, code: get(cCode) || '', name: get(cName) || '', kind: get(cKind), parent_code: get(cParent), boundary: null }
    })
  }
  if (!items.length) return { error: M('文件中没有区域', 'The file has no areas') }
  report.rows = items.length
  const byCode = new Map([...areas.values()].map((a) => [a.code, a]))
  const fileKinds = new Map()
  for (const it of items) { const k = (it.kind && kindByWord(it.kind)) || kindOfCode(it.code); if (k) fileKinds.set(it.code, k) }
  const problems = []
  const good = []
  const bad = new Set()
  const seen = new Set()
  for (const it of items) {
    const p = []
    if (!it.name) p.push(['名称', M('名称不能为空', 'The name is empty')])
    else if (it.name.length > 100) p.push(['名称', M('名称不能超过 100 个字', 'The name is longer than 100 characters')])
    if (!/^\d+$/.test(it.code)) p.push(['编码', M('编码应为数字', 'The code must be digits')])
    else if (seen.has(it.code)) p.push(['编码', M('与前面的行重复', 'Repeats an earlier row')])
    seen.add(it.code)
    let kind = null
    if (it.kind) { kind = kindByWord(it.kind); if (!kind) p.push(['类型', M('未知的区域类型（省、市、区、街道、社区、网格、楼栋）', 'Unknown kind (province, city, district, street, community, grid, building)')]) }
    else if (!p.length) { kind = kindOfCode(it.code); if (!kind) p.push(['编码', M('编码应为 12 位（社区及以上）、15 位（网格）或 18 位（楼栋）', 'The code must have 12 digits (community and above), 15 (grid) or 18 (building)')]) }
    if (it.boundary && !['Polygon', 'MultiPolygon'].includes(it.boundary.type)) p.push(['边界', M('边界应为 Polygon 或 MultiPolygon', 'The boundary must be a Polygon or MultiPolygon')])
    let parent = null
    if (kind && !p.length) {
      parent = it.parent_code || parentCodeOf(kind, it.code)
      if (kind === 'city' && !it.parent_code && parent && !fileKinds.has(parent) && !byCode.has(parent)) parent = null
      if (['grid', 'building'].includes(kind) && parent && !it.code.startsWith(parent)) p.push(['编码', M(`编码应以上级编码 ${parent} 开头`, `The code must start with the parent's code ${parent}`)])
      if (!parent && !['province', 'city'].includes(kind)) p.push(['上级编码', M(`${KIND_ZH[kind]}需要上级区域`, `A ${kind} needs a parent`)])
      else if (!parent && !isSys(me)) p.push(['编码', M('只有系统管理员可以建立省、市根区域', 'Only a system admin can create root areas')])
      else if (parent) {
        const pk = fileKinds.get(parent) || byCode.get(parent)?.kind
        const want = KIND_ORDER[KIND_ORDER.indexOf(kind) - 1]
        if (!pk) p.push(['上级编码', M(`上级区域 ${parent} 既不在文件中也不在系统中`, `The parent ${parent} is neither in the file nor in the system`)])
        else if (pk !== want) p.push(['上级编码', M(`${KIND_ZH[kind]}只能建在${KIND_ZH[want]}之下`, `A ${kind} must sit under a ${want}`)])
        else if (byCode.has(parent) && !mayEditArea(me, byCode.get(parent).id)) p.push(['上级编码', M('上级区域不在您可维护的范围内', 'The parent is outside the areas you may edit')])
      }
    }
    const ex = byCode.get(it.code)
    if (ex && kind && ex.kind !== kind) p.push(['编码', M('该编码已属于另一类型的区域', 'This code belongs to an area of another kind')])
    else if (ex && kind && !mayEditArea(me, ex.id)) p.push(['编码', M('该区域不在您可维护的范围内', 'This area is outside the areas you may edit')])
    if (p.length) { bad.add(it.code); for (const [c, m] of p) problems.push([it.row, c, m]) }
    else good.push({ ...it, kind, parent_code: parent, existing: ex || null })
  }
  // a row under a bad row cannot be placed either
  for (let changed = true; changed;) {
    changed = false
    for (let i = good.length - 1; i >= 0; i--) {
      const g = good[i]
      if (g.parent_code && bad.has(g.parent_code)) {
        bad.add(g.code); good.splice(i, 1); changed = true
        problems.push([g.row, '上级编码', M('上级区域这一行有问题', "The parent's row has a problem")])
      }
    }
  }
  const names = new Set()
  for (const g of good) {
    if (g.existing || !g.parent_code) continue
    const key = g.parent_code + '|' + g.name
    const clash = names.has(key) || [...areas.values()].some((a) => a.name === g.name && areas.get(a.parent_id)?.code === g.parent_code)
    if (clash) problems.push([g.row, '名称', M('同一上级下已有同名区域', 'An area with this name already exists under the same parent')])
    names.add(key)
  }
  problems.sort((a, b) => a[0] - b[0])
  const badRows = new Set(problems.map((x) => x[0]))
  report.error_rows = badRows.size
  report.ok_rows = report.rows - report.error_rows
  report.problems = problems.slice(0, 1000).map(([row, column, m]) => ({ row, column, problem: `${m.zh} / ${m.en}` }))
  const ok = good.filter((g) => !badRows.has(g.row))
  const sameBoundary = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
  for (const g of ok) {
    if (!g.existing) { report.created++; report.by_kind[g.kind] = (report.by_kind[g.kind] || 0) + 1 }
    else if (g.existing.name !== g.name || (g.boundary && !sameBoundary(g.existing.boundary, g.boundary))) report.updated++
    else report.unchanged++
  }
  if (!commit) return report
  if (report.error_rows) return { ...report, status: 'rejected' }
  ok.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.code.localeCompare(b.code))
  for (const g of ok) {
    if (g.existing) {
      const e = g.existing
      const f = []
      if (e.name !== g.name) { e.name = g.name; f.push('name') }
      if (g.boundary && !sameBoundary(e.boundary, g.boundary)) { e.boundary = g.boundary; f.push('boundary') }
      if (f.length) { e.version++; e.updated_at = now(); log(req, me, 'area.update', 'area', e.id, f) }
    } else {
      const parent = g.parent_code ? [...areas.values()].find((a) => a.code === g.parent_code) : null
      const a = addArea(parent, g.kind, g.name, g.code, g.boundary || null)
      log(req, me, 'area.create', 'area', a.id, ['name', 'code'])
    }
  }
  return { ...report, status: 'committed' }
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
    const tok = openSession(u.id, { ua: req.headers['user-agent'] || '', addr: '127.0.0.1' })
    u.last_login_at = now()
    log(req, u, 'auth.login', 'user', u.id)
    res.setHeader('set-cookie', `gongzhi_session=${tok}; HttpOnly; SameSite=Strict; Path=/`)
    return send(res, 200, { token: tok, user: meOut(u) })
  }
  const me = meOf(req)
  // the certificate check and the resident's rating link (/public/rate/{token}) are public (no sign-in)
  if (p.startsWith('/public/') && (signupPublicApi({ req, res, p, m, body, send, err }) || casesPublicApi({ req, res, p, m, body, send, err }) || serviceApi({ req, res, url, p, m, body, me, send, err, log }))) return
  if (!me) return err(res, req, 401, 'auth.required', '请先登录', 'Please sign in')
  if (p === '/auth/logout') { sessions.delete(tokenOf(req)); res.setHeader('set-cookie', 'gongzhi_session=; Max-Age=0; Path=/'); return send(res, 204) }
  let mm0
  if (p === '/me' && m === 'GET') return send(res, 200, meOut(me))
  if (p === '/roles' && m === 'GET') return send(res, 200, roleTable(me))
  // my own sessions (components/MySessions.vue)
  if (p === '/me/sessions' && m === 'GET') return send(res, 200, sessionsOf(me.id, tokenOf(req)))
  if (p === '/me/sessions/end-others' && m === 'POST') {
    let ended = 0
    for (const [tok, s] of sessions) if (s.uid === me.id && tok !== tokenOf(req)) { sessions.delete(tok); ended++ }
    return send(res, 200, { ended })
  }
  if ((mm0 = p.match(/^\/me\/sessions\/([^/]+)$/)) && m === 'DELETE') {
    for (const [tok, s] of sessions) if (s.uid === me.id && s.id === mm0[1]) sessions.delete(tok)
    return send(res, 204)
  }
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
  // 消息中心 and message templates (mock/messages.mjs); the links of the seeded messages open cases the user sees
  const casesOf = (u) => innerGet(req, u, '/cases', { page_size: 30 })?.items || innerGet(req, u, '/cases', { queue: 'handle', page_size: 30 })?.items || null
  if (messagesApi({ req, res, url, p, m, body, me, send, err, log, cases: casesOf })) return
  // 首页待办 (before the registry mock, which answers /import/…)
  if (p === '/me/todos' && m === 'GET') return send(res, 200, todosOf(req, me))
  if ((p === '/import/areas' && m === 'POST') || (p === '/import/templates/areas.csv' && m === 'GET')) {
    if (!permissionsOf(me).includes('edit_areas')) return err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this')
    if (m === 'GET') {
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="areas-template.csv"; filename*=UTF-8''${encodeURIComponent('区域导入模板.csv')}` })
      return res.end('\ufeff编码,名称,类型,上级编码\n130602001003,向阳社区,社区,130602001000\n130602001003001,第一网格,网格,\n')
    }
    const mode = url.searchParams.get('mode') || 'dry_run'
    if (!['dry_run', 'commit'].includes(mode)) return err(res, req, 422, 'validation', 'mode 应为 dry_run 或 commit', 'mode must be dry_run or commit', { mode: 'dry_run | commit' })
    const r = importAreas(req, me, body.__raw || Buffer.alloc(0), mode === 'commit')
    if (r.error) { const msg = en(req) ? r.error.en : r.error.zh; return err(res, req, 422, 'validation', msg, msg, { file: msg }) }
    return send(res, 200, r)
  }
  // 志愿者 / 党员名册 import (mock/service.mjs), before the registry mock, which answers /import/…
  if (serviceImportApi({ req, res, url, p, m, body, me, send, err, log })) return
  // 居民注册: the resident's claims and the workers' review, mock/signup.mjs
  if (signupApi({ req, res, url, p, m, body, me, send, err, log })) return
  // 回应关切 (questions and public answers, docs/questions-api-draft.md), mock/questions.mjs
  if (questionsApi({ req, res, url, p, m, body, me, send, err, log })) return
  // 通知公告 (notices with receipts, docs/notices-api-draft.md), mock/notices.mjs
  if (noticesApi({ req, res, url, p, m, body, me, send, err, log })) return
  if (reachApi({ req, res, url, p, m, body, me, send, err, log, users, areas, manages })) return
  // 渠道台账 (community channels), mock/channels.mjs
  if (channelsApi({ req, res, url, p, m, body, me, send, err, log })) return
  // registry (一户一档), mock/registry.mjs
  if (registryApi({ req, res, url, p, m, body, me, send, err, log })) return
  // 接诉即办 (cases, units, calendar, stats), mock/cases.mjs
  if (casesApi({ req, res, url, p, m, body, me, send, err, log })) return
  // 党员下沉、志愿服务、积分, mock/service.mjs
  if (serviceApi({ req, res, url, p, m, body, me, send, err, log })) return
  // users: system admins and delegated admins (manage_users: district, street and community admins)
  const roots = managedRoots(me)
  const manager = roots === null || roots.length > 0
  const forbid = () => err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this')
  const nf = () => err(res, req, 404, 'not_found', '未找到', 'Not found')
  const aboveOwn = () => err(res, req, 403, 'users.role_above_own', '只能授予不高于自己的角色，且须在自己管理的区域内', 'You can grant only roles up to your own, within the areas you manage')
  if (p.startsWith('/users') && !manager) return forbid()
  if (p === '/users/import/template.xlsx' && m === 'GET') {
    // the mock sends a CSV (the server an .xlsx with a 填写说明 sheet)
    const text = '\ufeff用户名,姓名,手机号,角色,区域\r\nzhangsan,张三,13800000000,网格员,130602001001001\r\n'
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="users-template.csv"; filename*=UTF-8''${encodeURIComponent('用户导入模板.csv')}` })
    return res.end(text)
  }
  if (p === '/users/import' && m === 'POST') {
    const mode = url.searchParams.get('mode') || 'dry_run'
    if (!['dry_run', 'commit', 'commit_valid'].includes(mode)) return err(res, req, 422, 'validation', '输入有误', 'Invalid input', { mode: 'dry_run | commit | commit_valid' })
    const buf = body.__raw || Buffer.alloc(0)
    if (!buf.length) return err(res, req, 422, 'validation', '文件是空的', 'The file is empty', { file: en(req) ? 'The file is empty' : '文件是空的' })
    const r = importUsers(me, buf, mode, en(req))
    if (r.error) return err(res, req, 422, 'validation', r.error, r.error, { file: r.error })
    if (r.status === 'committed') log(req, me, 'user.import', 'user', null, ['username'])
    return send(res, 200, r)
  }
  if (p === '/users' && m === 'GET') {
    const q = url.searchParams.get('q') || ''
    const areaQ = url.searchParams.get('area_id')
    const page = Number(url.searchParams.get('page') || 1), size = Number(url.searchParams.get('page_size') || 20)
    const all = [...users.values()]
      .filter((u) => (roots === null || inMyScope(me, u.area_id)) && (!areaQ || underArea(u.area_id, areaQ)))
      .filter((u) => !q || u.username.includes(q) || u.display_name.includes(q))
      .sort((a, b) => a.username.localeCompare(b.username))
    return send(res, 200, { items: all.slice((page - 1) * size, page * size).map((u) => userOut(u, me)), total: all.length, page, page_size: size })
  }
  if (p === '/users' && m === 'POST') {
    const fields = {}
    if (!/^[a-z0-9._-]{3,32}$/.test(body.username || '')) fields.username = en(req) ? '3–32 lowercase letters, digits, dot, underscore or hyphen' : '3-32 位小写字母、数字、点、下划线或短横线'
    else if ([...users.values()].some((u) => u.username === body.username)) fields.username = en(req) ? 'Already taken' : '已被使用'
    if (!String(body.display_name || '').trim()) fields.display_name = en(req) ? 'Enter a name' : '请输入姓名'
    if (body.phone && !/^1[3-9]\d{9}$/.test(body.phone)) fields.phone = en(req) ? 'Enter an 11-digit mobile number' : '请输入 11 位手机号码'
    if (!isAdmin && !body.area_id) fields.area_id = en(req) ? 'Choose the home area' : '请选择所属区域'
    if (body.role && !ROLE_INFO[body.role]) fields.role = en(req) ? 'Unknown role' : '不认识的角色'
    if (Object.keys(fields).length) return err(res, req, 422, 'validation', '输入有误，请检查标出的字段', 'Invalid input; check the marked fields', fields)
    if (body.area_id && !areas.get(body.area_id)) return nf()
    if (!inMyScope(me, body.area_id) && !isAdmin) return nf()
    if (body.role && !mayGrant(me, body.role, body.area_id)) return aboveOwn()
    const generated = !body.password
    const password = body.password || firstPassword()
    const u = addUser(body.username, body.display_name.trim(), password, body.role ? [[body.role, areas.get(body.area_id)]] : [], generated ? true : body.must_change_password ?? true, { area: areas.get(body.area_id) || null, phone: body.phone || null })
    if (!body.area_id) u.area_id = null
    log(req, me, 'user.create', 'user', u.id, ['username', 'display_name'])
    return send(res, 201, { ...userOut(u, me), ...(generated ? { initial_password: password } : {}) })
  }
  if ((mm = p.match(/^\/users\/([^/]+)(\/reset-password|\/grants|\/reveal-phone|\/sessions)?$/))) {
    const u = users.get(mm[1])
    if (!u || (roots !== null && !inMyScope(me, u.area_id))) return nf()
    const sub = mm[2]
    if (m === 'GET' && !sub) return send(res, 200, userOut(u, me))
    if (!manages(me, u)) return forbid()
    if (sub === '/reset-password' && m === 'POST') {
      u.password = body.password || firstPassword()
      u.must_change_password = true
      log(req, me, 'user.reset_password', 'user', u.id, ['password'])
      return send(res, 200, { username: u.username, display_name: u.display_name, password: u.password })
    }
    if (sub === '/reveal-phone' && m === 'POST') {
      if (String(body.reason || '').trim().length < 2) return err(res, req, 422, 'validation', '请写明查看原因', 'Give a reason', { reason: en(req) ? 'At least 2 characters' : '原因至少 2 个字' })
      log(req, me, 'user.reveal', 'user', u.id, ['phone'])
      return send(res, 200, { phone: u.phone })
    }
    if (sub === '/sessions' && m === 'GET') return send(res, 200, sessionsOf(u.id, tokenOf(req)))
    if (sub === '/sessions' && m === 'DELETE') {
      let ended = 0
      for (const [tok, s] of sessions) if (s.uid === u.id && tok !== tokenOf(req)) { sessions.delete(tok); ended++ }
      log(req, me, 'user.end_sessions', 'user', u.id)
      return send(res, 200, { ended })
    }
    if (sub === '/grants' && m === 'POST') {
      if (!areas.get(body.area_id) || !inMyScope(me, body.area_id)) return nf()
      if (!mayGrant(me, body.role, body.area_id)) return aboveOwn()
      const g = mkGrant(body.role, body.area_id)
      u.grants.push(g)
      log(req, me, 'grant.create', 'grant', g.id, ['role', 'area_id'])
      return send(res, 201, g)
    }
    if (!sub && m === 'PATCH') {
      if ('area_id' in body && body.area_id && !inMyScope(me, body.area_id)) return nf()
      if ('phone' in body && body.phone && !/^1[3-9]\d{9}$/.test(body.phone)) return err(res, req, 422, 'validation', '输入有误', 'Invalid input', { phone: en(req) ? 'Enter an 11-digit mobile number' : '请输入 11 位手机号码' })
      if ('disabled' in body) u.disabled = body.disabled
      if (body.display_name) u.display_name = body.display_name
      if ('phone' in body) u.phone = body.phone || null
      if (body.area_id) u.area_id = body.area_id
      if (body.unlock) u.locked_until = null
      log(req, me, 'user.update', 'user', u.id, Object.keys(body))
      return send(res, 200, userOut(u, me))
    }
  }
  if ((mm = p.match(/^\/grants\/([^/]+)$/)) && m === 'DELETE') {
    const owner = [...users.values()].find((u) => u.grants.some((g) => g.id === mm[1]))
    if (!owner) return nf()
    const g = owner.grants.find((x) => x.id === mm[1])
    if (!manager || !manages(me, owner) || !mayGrant(me, g.role, g.area_id)) return forbid()
    owner.grants = owner.grants.filter((x) => x.id !== mm[1])
    log(req, me, 'grant.delete', 'grant', g.id)
    return send(res, 204)
  }
  if (!isAdmin && !p.startsWith('/audit')) return err(res, req, 403, 'forbidden', '没有权限', 'Forbidden')
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
}).listen(PORT, '127.0.0.1', () => {
  console.log(`mock gongzhi API on http://127.0.0.1:${PORT}`)
  const cs = claimSample()
  console.log(`sign-up: /signup, SMS code ${MOCK_CODE}; xinjumin / Demo@2026 (no role)${cs ? `; a record to claim: ${cs.name} ${cs.id_no}` : ''}`)
  console.log(`rating link samples: ${ratingSamples().map((k) => `/rate/${k}`).join(' ')} (other tokens: 404)`)
})
