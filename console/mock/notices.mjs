// Mock of 通知公告 with receipts (docs/notices-api-draft.md): notices to the households of an area (optionally only
// those with a member carrying one of the four non-sensitive tags) and to staff roles, read / acknowledged
// receipts per household (app, visit), the door-to-door list, reminders (409 within an hour), withdraw, and the
// resident's / staff's own notices (GET /me/notices). Seeded: one notice to 第一网格 requiring acknowledgement with a
// form (reminded two hours ago), one public notice to 朝阳社区, and one withdrawn. The resident `jumin` lives in a
// household of 1号楼 (reached in the app).
import { randomUUID } from 'node:crypto'
import { permsOfRole } from './roles.mjs'
import { registryHouseholds } from './registry.mjs'
import { postMessage } from './messages.mjs'

let A // areas Map (server.mjs)
let U // users Map
let H = [] // registry households (registryHouseholds())
const byId = new Map()
const notices = new Map()
const reach = new Map() // household id → app | sms | none
let juminHousehold = null

const HOUR = 3600000
const DAY = 24 * HOUR
const iso = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
const TAGS = ['living_alone_elderly', 'empty_nest_elderly', 'left_behind_child', 'entitled_group']
const STAFF_ROLES = ['grid_worker', 'building_leader', 'community_worker', 'volunteer', 'party_secretary']
const STATES = ['all', 'unread', 'unacked', 'acked', 'unreachable', 'door']

let seed = 15
function rnd() {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

function ancestors(id) {
  const out = []
  let a = A.get(id)
  while (a) { out.push(a); a = a.parent_id && A.get(a.parent_id) }
  return out
}
const under = (id, rootId) => !!id && ancestors(id).some((a) => a.id === rootId)
/** A grant of `me` whose role carries `perm` covers the area. */
const holds = (me, perm, areaId) => me.grants.some((g) => permsOfRole(g.role).includes(perm) && (!g.area_id || under(areaId, g.area_id)))
/** `me` reads the notice: read_registry at its area, or at an area under it (a grid worker, a community-wide notice). */
const READERS = ['read_registry', 'send_notices']
const reads = (me, n) => READERS.some((p) => holds(me, p, n.area_id) || me.grants.some((g) => permsOfRole(g.role).includes(p) && g.area_id && under(g.area_id, n.area_id)))
/** The caller's part of a notice: the receipts of the households in their areas (coverage, by grid, the list). */
const mine = (me, n) => [...n.receipts.values()].filter((r) => READERS.some((p) => holds(me, p, byId.get(r.household_id).area_id)))
const mask = (name) => (name ? [...name][0] + '*'.repeat(Math.max(1, [...name].length - 1)) : '')

/** The households a NewNotice addresses. */
function addressed(b) {
  if (b.household_ids?.length) return b.household_ids.filter((id) => byId.has(id))
  if (b.households === false) return []
  return H.filter((h) => under(h.area_id, b.area_id) && (!b.tags?.length || h.tags.some((x) => b.tags.includes(x)))).map((h) => h.id)
}
/** The staff told: users holding one of the roles at the notice's area, under it, or above it. */
function staffOf(n) {
  if (!n.roles.length) return []
  return [...U.values()].filter((u) => !u.disabled && u.grants.some((g) => n.roles.includes(g.role) && g.area_id && (under(g.area_id, n.area_id) || under(n.area_id, g.area_id)))).map((u) => u.id)
}
const done = (n, r) => (n.requires_ack ? !!r.acked_at : !!(r.read_at || r.acked_at))

function coverage(n, me) {
  const c = { households: 0, reached_app: 0, reached_sms: 0, unreachable: 0, read: 0, acked: 0, staff: n.staff.size, staff_read: 0 }
  for (const r of mine(me, n)) {
    c.households++
    if (r.reach === 'app') c.reached_app++
    else if (r.reach === 'sms') c.reached_sms++
    else c.unreachable++
    if (r.read_at) c.read++
    if (r.acked_at) c.acked++
  }
  for (const at of n.staff.values()) if (at) c.staff_read++
  return c
}
function byGrid(n, me) {
  const m = new Map()
  for (const r of mine(me, n)) {
    const h = byId.get(r.household_id)
    let g = m.get(h.grid_id)
    if (!g) {
      g = { grid_id: h.grid_id, grid_name: A.get(h.grid_id)?.name || '', community_name: A.get(h.community_id)?.name || '', households: 0, reached: 0, unreachable: 0, read: 0, acked: 0 }
      m.set(h.grid_id, g)
    }
    g.households++
    if (r.reach === 'none') g.unreachable++
    else g.reached++
    if (r.read_at) g.read++
    if (r.acked_at) g.acked++
  }
  return [...m.values()].sort((a, b) => (A.get(a.grid_id)?.code || '').localeCompare(A.get(b.grid_id)?.code || ''))
}
function noticeOut(n, me, detail = false) {
  const out = {
    id: n.id, area_id: n.area_id, area_name: A.get(n.area_id)?.name || '', title: n.title, body: n.body, households: n.households, tags: n.tags,
    roles: n.roles, listed: n.listed, requires_ack: n.requires_ack, form: n.form, public: n.public, urgent: n.urgent, status: n.status,
    withdrawn_reason: n.withdrawn_reason || null, author_name: n.author_name, created_at: n.created_at, reminders: n.reminders,
    last_reminded_at: n.last_reminded_at, coverage: coverage(n, me),
  }
  if (detail) out.by_grid = byGrid(n, me)
  return out
}
function rowOut(n, r) {
  const h = byId.get(r.household_id)
  const out = {
    household_id: h.id, address: h.address, grid_name: A.get(h.grid_id)?.name || '', head_name: mask(h.head_name), reach: r.reach,
    read_at: r.read_at, acked_at: r.acked_at, via: r.via, acked_by: r.acked_by, answer: r.answer,
  }
  for (const k of ['read_at', 'acked_at', 'via', 'acked_by', 'answer']) if (out[k] == null) delete out[k]
  return out
}
function inState(n, r, state) {
  switch (state) {
    case 'unread': return !r.read_at
    case 'unacked': return n.requires_ack && !r.acked_at
    case 'acked': return !!r.acked_at
    case 'unreachable': return r.reach === 'none'
    case 'door': return !done(n, r) && (r.reach === 'none' || (n.reminders > 0 && r.reminded))
    default: return true
  }
}

/** The household of a resident user (the mock links `jumin` only). */
const householdOf = (me) => (me.grants.some((g) => g.role === 'resident') && me.username === 'jumin' ? juminHousehold : null)
function myNotices(me) {
  const hid = householdOf(me)
  return [...notices.values()]
    .filter((n) => n.status === 'published' && ((hid && n.receipts.has(hid)) || n.staff.has(me.id)))
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
}
function myOut(me, n) {
  const hid = householdOf(me)
  const r = hid && n.receipts.get(hid)
  const out = {
    id: n.id, title: n.title, body: n.body, area_name: A.get(n.area_id)?.name || '', author_name: n.author_name, created_at: n.created_at,
    urgent: n.urgent, requires_ack: n.requires_ack, form: n.form,
    read_at: r ? r.person_read.get(me.id) || null : n.staff.get(me.id) || null,
    acked_at: r ? r.acked_at : n.staffAck.get(me.id)?.at || null, acked_by: r ? r.acked_by : n.staffAck.get(me.id) ? me.display_name : null,
    answer: r ? r.answer : n.staffAck.get(me.id)?.answer || null,
  }
  for (const k of ['read_at', 'acked_at', 'acked_by', 'answer']) if (out[k] == null) delete out[k]
  return out
}
/** Answers checked against the form: {answer, errors}. */
function checkAnswer(n, given, L) {
  const answer = {}
  const errors = {}
  const src = given && typeof given === 'object' ? given : {}
  for (const f of n.form) {
    const v = String(src[f.key] ?? '').trim()
    if (!v) {
      if (f.required) errors[`answer.${f.key}`] = L(`请填写“${f.label}”`, `“${f.label}” is required`)
      continue
    }
    if (f.kind === 'choice' && !f.options.includes(v)) errors[`answer.${f.key}`] = L(`“${f.label}”请从选项中选择`, `Choose one of the options of “${f.label}”`)
    else if ([...v].length > 500) errors[`answer.${f.key}`] = L('最多 500 个字', 'At most 500 characters')
    else answer[f.key] = v
  }
  return { answer, errors }
}

function tell(n, kind) {
  const vars = { title: n.title, area: A.get(n.area_id)?.name || '' }
  const residents = [...U.values()].filter((u) => householdOf(u) && n.receipts.has(householdOf(u)))
  for (const u of residents) {
    const r = n.receipts.get(householdOf(u))
    if (kind === 'notice.reminder' && done(n, r)) continue
    postMessage(u.id, { kind, vars, link: `/m/notices/${n.id}`, urgent: n.urgent })
  }
  if (kind === 'notice.published') {
    // like the server: every recipient's link opens their own view of the notice
    for (const id of n.staff.keys()) postMessage(id, { kind, vars, link: `/m/notices/${n.id}`, urgent: n.urgent })
  }
}

function create(b, author, at = Date.now()) {
  const form = (b.form || []).map((f) => ({ key: f.key, label: f.label, kind: f.kind, options: f.kind === 'choice' ? f.options : [], required: !!f.required }))
  const n = {
    id: randomUUID(), area_id: b.area_id, title: b.title, body: b.body, tags: b.tags || [], roles: b.roles || [],
    requires_ack: !!b.requires_ack || form.length > 0, form, public: !!b.public, urgent: !!b.urgent, status: 'published',
    households: b.households !== false, listed: !!b.household_ids?.length, author_name: author, created_at: iso(at), reminders: 0, last_reminded_at: null, receipts: new Map(), staff: new Map(), staffAck: new Map(),
  }
  for (const id of addressed(b)) n.receipts.set(id, { household_id: id, reach: reach.get(id) || 'none', read_at: null, acked_at: null, via: null, acked_by: null, answer: null, reminded: false, person_read: new Map() })
  for (const id of staffOf(n)) n.staff.set(id, null)
  notices.set(n.id, n)
  return n
}

export function initNotices({ areas, users }) {
  A = areas
  U = users
  H = registryHouseholds()
  for (const h of H) byId.set(h.id, h)
  for (const h of H) reach.set(h.id, rnd() < 0.5 ? 'app' : rnd() < 0.72 ? 'sms' : 'none')
  const find = (name) => [...A.values()].find((a) => a.name === name)
  const grid1 = find('第一网格')
  const comm = find('朝阳社区')
  const bld1 = find('1号楼')
  juminHousehold = H.find((h) => h.area_id === bld1?.id)?.id || null
  if (juminHousehold) reach.set(juminHousehold, 'app')
  const now = Date.now()
  if (!grid1 || !comm) return

  // 1: to 第一网格, acknowledgement with a form, reminded two hours ago
  const gas = create({
    area_id: grid1.id, title: '燃气安全入户检查预约', roles: ['grid_worker', 'building_leader'], requires_ack: true,
    body: '各位居民：\n为保障冬季用气安全，保定市燃气公司将于下周一至周五对第一网格各楼栋进行入户安全检查，检查不收取任何费用。\n请确认收到本通知，并选择方便入户的时间段。家中只有老人的，网格员会电话联系。\n\n朝阳社区居委会',
    form: [
      { key: 'slot', label: '方便入户的时间', kind: 'choice', options: ['上午 9:00-12:00', '下午 14:00-17:00', '晚上 18:00-20:00'], required: true },
      { key: 'note', label: '备注', kind: 'text', options: [], required: false },
    ],
  }, '张社区', now - 26 * HOUR)
  let i = 0
  for (const r of gas.receipts.values()) {
    i++
    if (r.household_id === juminHousehold) continue
    if (r.reach !== 'none' && rnd() < 0.62) {
      r.read_at = iso(now - 25 * HOUR + i * 7 * 60000)
      if (rnd() < 0.7) {
        r.acked_at = iso(Date.parse(r.read_at) + 5 * 60000)
        r.via = 'app'
        r.acked_by = mask(byId.get(r.household_id).head_name)
        r.answer = { slot: gas.form[0].options[Math.floor(rnd() * 3)], ...(rnd() < 0.2 ? { note: '家里有老人，请提前打电话' } : {}) }
      }
    }
    if (!r.acked_at && r.reach !== 'none') r.reminded = true
  }
  // two households told at the door already
  let visits = 0
  for (const r of gas.receipts.values()) {
    if (visits < 2 && r.reach === 'none') {
      visits++
      Object.assign(r, { read_at: iso(now - 3 * HOUR), acked_at: iso(now - 3 * HOUR), via: 'visit', acked_by: '刘网格', answer: { slot: gas.form[0].options[1] } })
    }
  }
  gas.reminders = 1
  gas.last_reminded_at = iso(now - 2 * HOUR)
  for (const id of gas.staff.keys()) if (rnd() < 0.6) gas.staff.set(id, iso(now - 20 * HOUR))

  // 2: public to the community, no acknowledgement
  const water = create({
    area_id: comm.id, title: '停水通知：朝阳社区管网改造', public: true, urgent: true, roles: ['grid_worker', 'building_leader', 'community_worker'],
    body: '因市政供水管网改造，本周六 8:00 至 18:00 朝阳社区全域停水，请居民提前储水。如遇紧急情况请拨打社区值班电话 0312-5012345。',
  }, '张社区', now - 3 * DAY)
  for (const r of water.receipts.values()) if (r.reach !== 'none' && rnd() < 0.74) r.read_at = iso(now - 3 * DAY + Math.floor(rnd() * 40) * HOUR)
  for (const id of water.staff.keys()) water.staff.set(id, iso(now - 2 * DAY))

  // 3: withdrawn
  const old = create({
    area_id: comm.id, title: '老年人免费体检报名', tags: ['living_alone_elderly', 'empty_nest_elderly'], requires_ack: true,
    body: '社区卫生服务站将为 65 岁以上老人提供免费体检，请确认是否参加。',
    form: [{ key: 'join', label: '是否参加', kind: 'choice', options: ['参加', '不参加'], required: true }],
  }, '张社区', now - 9 * DAY)
  Object.assign(old, { status: 'withdrawn', withdrawn_reason: '体检时间调整，另行通知' })
}

// Returns true when the route was handled.
export function noticesApi({ req, res, url, p, m, body, me, send, err, log }) {
  if (!/^\/(notices|me\/notices)(\/|$)/.test(p)) return false
  const en = (req.headers['accept-language'] || '').startsWith('en')
  const L = (zh, e) => (en ? e : zh)
  const ok = (status, b) => (send(res, status, b), true)
  const nf = () => (err(res, req, 404, 'not_found', '未找到', 'Not found'), true)
  const forbid = () => (err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this'), true)
  const bad = (fields, msg = null) => (err(res, req, 422, 'validation', msg?.[0] || '输入有误，请检查标出的字段', msg?.[1] || 'Invalid input; check the marked fields', fields), true)
  const withdrawn = () => (err(res, req, 409, 'notices.withdrawn', '该通知已撤回', 'The notice has been withdrawn'), true)
  const q = (k) => url.searchParams.get(k) || ''
  const paging = () => {
    const page = Math.max(1, Number(q('page') || 1))
    const size = Math.min(200, Math.max(1, Number(q('page_size') || 20)))
    return { page, size }
  }
  let mm

  // ---- my notices ----
  if (p === '/me/notices' && m === 'GET') {
    const all = myNotices(me).map((n) => myOut(me, n))
    const { page, size } = paging()
    return ok(200, { items: all.slice((page - 1) * size, page * size), total: all.length, unread: all.filter((x) => !x.read_at).length, page, page_size: size })
  }
  if ((mm = p.match(/^\/me\/notices\/([^/]+)(\/ack)?$/))) {
    const n = myNotices(me).find((x) => x.id === mm[1])
    if (!n) return nf()
    const hid = householdOf(me)
    const r = hid && n.receipts.get(hid)
    const at = iso()
    if (!mm[2] && m === 'GET') {
      if (r) {
        if (!r.person_read.get(me.id)) r.person_read.set(me.id, at)
        if (!r.read_at) r.read_at = at
      } else if (n.staff.has(me.id) && !n.staff.get(me.id)) n.staff.set(me.id, at)
      return ok(200, myOut(me, n))
    }
    if (mm[2] && m === 'POST') {
      if (!n.requires_ack) return (err(res, req, 422, 'notices.ack_not_required', '这条通知不需要确认', 'This notice needs no acknowledgement'), true)
      if (r ? r.acked_at : n.staffAck.has(me.id)) return ok(200, myOut(me, n))
      const { answer, errors } = checkAnswer(n, body.answer, L)
      if (Object.keys(errors).length) return bad(errors, ['请填写回执中标出的项目', 'Fill in the marked answers'])
      if (!r) {
        if (!n.staff.get(me.id)) n.staff.set(me.id, at)
        n.staffAck.set(me.id, { at, answer: n.form.length ? answer : null })
        return ok(200, myOut(me, n))
      }
      if (!r.person_read.get(me.id)) r.person_read.set(me.id, at)
      Object.assign(r, { read_at: r.read_at || at, acked_at: at, via: 'app', acked_by: me.display_name, answer: n.form.length ? answer : null })
      log(req, me, 'notice.ack', 'notice', n.id)
      return ok(200, myOut(me, n))
    }
    return nf()
  }

  // ---- notices (staff) ----
  if (p === '/notices' && m === 'GET') {
    const status = q('status') || 'published'
    if (!['published', 'withdrawn', 'all'].includes(status)) return bad({ status: L('status 应为 published、withdrawn 或 all', 'status must be published, withdrawn or all') })
    const areaId = q('area_id')
    if (areaId && !A.get(areaId)) return nf()
    const text = q('q').trim().toLowerCase()
    const all = [...notices.values()]
      .filter((n) => reads(me, n) && (status === 'all' || n.status === status))
      .filter((n) => !areaId || under(n.area_id, areaId) || under(areaId, n.area_id))
      .filter((n) => !text || n.title.toLowerCase().includes(text) || n.body.toLowerCase().includes(text))
      .sort((a, b) => b.created_at.localeCompare(a.created_at))
      .map((n) => noticeOut(n, me))
    const { page, size } = paging()
    return ok(200, { items: all.slice((page - 1) * size, page * size), total: all.length, page, page_size: size })
  }
  if (p === '/notices' && m === 'POST') {
    const errs = {}
    const area = body.area_id && A.get(body.area_id)
    if (!area) errs.area_id = L('请选择发布区域', 'Choose the area')
    else if (!holds(me, 'read_registry', area.id) && !holds(me, 'send_notices', area.id)) return nf()
    else if (!holds(me, 'send_notices', area.id)) return forbid()
    const title = String(body.title ?? '').trim()
    const text = String(body.body ?? '').trim()
    if (!title || [...title].length > 100) errs.title = L('请填写标题（最多 100 个字）', 'Give a title (at most 100 characters)')
    if (!text || [...text].length > 5000) errs.body = L('请填写正文（最多 5000 个字）', 'Write the text (at most 5000 characters)')
    const tags = Array.isArray(body.tags) ? body.tags : []
    const badTags = tags.filter((x) => !TAGS.includes(x))
    if (badTags.length) errs.tags = L(`只能按独居老人、空巢老人、留守儿童、优抚对象筛选（${badTags.join('、')}）`, `Only living_alone_elderly, empty_nest_elderly, left_behind_child, entitled_group (${badTags.join(', ')})`)
    const roles = Array.isArray(body.roles) ? body.roles : []
    const badRoles = roles.filter((x) => !STAFF_ROLES.includes(x))
    if (badRoles.length) errs.roles = L(`不认识的角色：${badRoles.join('、')}`, `Unknown roles: ${badRoles.join(', ')}`)
    const ids = Array.isArray(body.household_ids) ? body.household_ids : []
    if (ids.length > 5000) errs.household_ids = L('最多 5000 户', 'At most 5000 households')
    else if (area && ids.some((id) => !byId.has(id) || !under(byId.get(id).area_id, area.id))) errs.household_ids = L('有的户不在发布区域内', 'Some households are outside the area')
    const form = Array.isArray(body.form) ? body.form : []
    const keys = new Set()
    form.forEach((f, i) => {
      const label = String(f?.label ?? '').trim()
      if (!label || [...label].length > 50) errs[`form[${i}].label`] = L('请填写项目名称（最多 50 个字）', 'Give the label (at most 50 characters)')
      if (!['text', 'choice'].includes(f?.kind)) errs[`form[${i}].kind`] = L('类型应为 text 或 choice', 'kind must be text or choice')
      const key = String(f?.key ?? '')
      if (!/^[A-Za-z0-9_]{1,32}$/.test(key) || keys.has(key)) errs[`form[${i}].key`] = L('项目键重复或无效', 'Duplicate or invalid key')
      keys.add(key)
      if (f?.kind === 'choice') {
        const opts = (Array.isArray(f.options) ? f.options : []).map((o) => String(o).trim()).filter(Boolean)
        if (opts.length < 2) errs[`form[${i}].options`] = L('单选至少要有 2 个选项', 'A choice needs at least 2 options')
        else if (new Set(opts).size !== opts.length) errs[`form[${i}].options`] = L('选项不能重复', 'Options must differ')
        f.options = opts
      }
      f.label = label
    })
    if (form.length > 10) errs.form = L('最多 10 个回执项目', 'At most 10 answers')
    if (!Object.keys(errs).length) {
      const hs = addressed({ ...body, area_id: area.id, tags })
      if (!hs.length && !roles.length) {
        if (body.households === false && !ids.length) errs.households = L('请至少选择住户或一类工作人员', 'Address the households or at least one staff role')
        else errs.tags = L('发布区域内没有符合条件的户', 'No household of the area matches')
      }
    }
    if (Object.keys(errs).length) return bad(errs)
    const n = create({ ...body, title, body: text, tags, roles, form }, me.display_name)
    tell(n, 'notice.published')
    log(req, me, 'notice.create', 'notice', n.id, ['title', 'body'])
    return ok(201, noticeOut(n, me, true))
  }
  if ((mm = p.match(/^\/notices\/([^/]+)(\/households|\/remind|\/withdraw|\/households\/([^/]+)\/ack)?$/))) {
    const n = notices.get(mm[1])
    if (!n || !reads(me, n)) return nf()
    const sub = mm[2] || ''
    if (!sub && m === 'GET') return ok(200, noticeOut(n, me, true))
    if (sub === '/households' && m === 'GET') {
      const state = q('state') || 'all'
      if (!STATES.includes(state)) return bad({ state: L('state 应为 all、unread、unacked、acked、unreachable 或 door', 'state must be all, unread, unacked, acked, unreachable or door') })
      const gridId = q('grid_id')
      const all = mine(me, n)
        .filter((r) => (!gridId || byId.get(r.household_id).grid_id === gridId) && inState(n, r, state))
        .sort((a, b) => byId.get(a.household_id).address.localeCompare(byId.get(b.household_id).address, 'zh'))
        .map((r) => rowOut(n, r))
      const { page, size } = paging()
      return ok(200, { items: all.slice((page - 1) * size, page * size), total: all.length, page, page_size: size })
    }
    if (sub === '/remind' && m === 'POST') {
      if (!holds(me, 'send_notices', n.area_id)) return forbid()
      if (n.status !== 'published') return withdrawn()
      if (n.last_reminded_at && Date.now() - Date.parse(n.last_reminded_at) < HOUR) {
        const next = new Date(Date.parse(n.last_reminded_at) + HOUR + 8 * HOUR).toISOString().slice(11, 16)
        return (err(res, req, 409, 'notices.remind_too_soon', `一小时内只能提醒一次，请在 ${next} 以后再提醒`, `Remind at most once an hour; try again after ${next}`), true)
      }
      let reminded = 0
      for (const r of n.receipts.values()) if (r.reach !== 'none' && !done(n, r)) { r.reminded = true; reminded++ }
      n.reminders++
      n.last_reminded_at = iso()
      tell(n, 'notice.reminder')
      log(req, me, 'notice.remind', 'notice', n.id)
      return ok(200, { reminded })
    }
    if (sub === '/withdraw' && m === 'POST') {
      if (!holds(me, 'send_notices', n.area_id)) return forbid()
      if (n.status !== 'published') return withdrawn()
      const reason = String(body.reason ?? '').trim()
      if (!reason || [...reason].length > 500) return bad({ reason: L('请写明撤回原因（最多 500 字）', 'Give the reason (at most 500 characters)') })
      Object.assign(n, { status: 'withdrawn', withdrawn_reason: reason })
      log(req, me, 'notice.withdraw', 'notice', n.id, ['status'])
      return ok(200, noticeOut(n, me, true))
    }
    if (mm[3] && m === 'POST') {
      const r = n.receipts.get(mm[3])
      if (!r || !holds(me, 'read_registry', byId.get(r.household_id).area_id)) return nf()
      if (!holds(me, 'edit_registry', byId.get(r.household_id).area_id)) return forbid()
      if (n.status !== 'published') return withdrawn()
      if (r.acked_at) return ok(200, rowOut(n, r))
      const { answer, errors } = checkAnswer(n, body.answer, L)
      const note = String(body.note ?? '').trim()
      if ([...note].length > 500) errors.note = L('最多 500 个字', 'At most 500 characters')
      if (Object.keys(errors).length) return bad(errors)
      const at = iso()
      Object.assign(r, { read_at: r.read_at || at, acked_at: at, via: 'visit', acked_by: me.display_name, answer: n.form.length ? answer : null, note: note || null })
      log(req, me, 'notice.ack_visit', 'notice', n.id)
      return ok(200, rowOut(n, r))
    }
  }
  return nf()
}
