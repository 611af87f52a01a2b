// Mock of 回应关切 (docs/questions-api-draft.md): residents' questions about a community, routed like a case (the power
// list by category, else the community's unit: 属地兜底; mock/cases.mjs caseSupport) with an answer deadline of 5
// working days; answered by anyone holding answer_questions at the community or above, or by a member of the unit;
// published (reworded) on the community's public page; a repeat linked to the earlier published answer (its
// asked_count grows). Seeded in 朝阳社区: one open and overdue (路灯, 区城管委: `chengban` sees it), one open asked by
// `jumin` with personal details in it (供暖, 住建局: `zhujian`), one answered and public (helped 12, asked 3 times), one
// linked to it (jumin's); besides them one more public answer (路灯), one answered but not public, one declined
// (jumin's) and one open question of 红旗社区 (outside 朝阳社区's workers). `xinjumin` (no role) has no home community.
import { randomUUID } from 'node:crypto'
import { permsOfRole } from './roles.mjs'
import { caseSupport as CS } from './cases.mjs'
import { postMessage } from './messages.mjs'

let A // areas Map (server.mjs)
let U // users Map
const questions = new Map()

const MIN = 60000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const iso = (ms) => (ms == null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'))
const bjDay = (ms) => new Date(ms + 8 * HOUR).toISOString().slice(0, 10)
const STATUSES = ['open', 'answered', 'linked', 'declined', 'all']
const MAX = { title: 100, body: 2000, answer: 5000, public_title: 100, public_body: 2000, reason: 500, note: 500 }
const len = (s) => [...String(s ?? '')].length

function ancestors(id) {
  const out = []
  for (let a = id && A.get(id); a; a = a.parent_id && A.get(a.parent_id)) out.push(a)
  return out
}
const under = (id, rootId) => ancestors(id).some((a) => a.id === rootId)
const holds = (me, perm, areaId) => me.grants.some((g) => permsOfRole(g.role).includes(perm) && (!g.area_id || under(areaId, g.area_id)))
// like the server's mask_name: 陈居民 → 陈**
const mask = (name) => (name ? [...name][0] + '*'.repeat(Math.max(1, [...name].length - 1)) : '')
/** The community a resident lives in: the community at or above one of their resident grants. */
function homeCommunity(me) {
  for (const g of me.grants) {
    if (g.role !== 'resident' || !g.area_id) continue
    const c = ancestors(g.area_id).find((a) => a.kind === 'community')
    if (c) return c
  }
  return null
}
const communityByCode = (code) => [...A.values()].find((a) => a.kind === 'community' && a.code === String(code || '').trim()) || null

/** `me` sees the question: answer_questions at its community or above, or a member of the unit answering it. */
const sees = (me, q) => holds(me, 'answer_questions', q.community_id) || CS.memberOf(me, q.unit_id)
const overdue = (q) => q.status === 'open' && Date.now() > q.due_at
/** In scope without the permission (a grid worker of the community): 403 rather than 404. */
const inArea = (me, q) => me.grants.some((g) => !g.area_id || under(q.community_id, g.area_id) || under(g.area_id, q.community_id))
const mayAnswerSomewhere = (me) => me.grants.some((g) => permsOfRole(g.role).includes('answer_questions')) || CS.myUnitIds(me).length > 0

// ---- similarity, as the server (app/questions/similar.rs): the share of the query's character pairs found in the
// public title, question and answer (a match in the title ranks first), at least `min` (staff 0.15, residents 0.2) ----
function grams(text) {
  const chars = [...String(text || '').toLowerCase()].filter((c) => /[\p{L}\p{N}]/u.test(c))
  const out = new Set()
  if (chars.length === 1) out.add(chars[0])
  for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i] + chars[i + 1])
  return out
}
function share(query, text) {
  if (!query.size) return 0
  const have = grams(text)
  let n = 0
  for (const g of query) if (have.has(g)) n++
  return n / query.size
}
/** Published answers of the community, newest first. */
const published = (communityId) =>
  [...questions.values()].filter((q) => q.community_id === communityId && q.public).sort((a, b) => (b.published_at || 0) - (a.published_at || 0))
function similarTo(text, communityId, min, exceptId = null, limit = 5) {
  const query = grams(text)
  if (!query.size) return []
  return published(communityId)
    .filter((q) => q.id !== exceptId)
    .map((q) => ({ q, s: share(query, `${q.public_title} ${q.public_body} ${q.answer}`), t: share(query, q.public_title) }))
    .filter((x) => x.s >= min)
    .sort((a, b) => b.s + b.t / 2 - (a.s + a.t / 2) || b.q.helped - a.q.helped)
    .slice(0, limit)
    .map((x) => publicOut(x.q))
}

// ---- shapes ----
const publicOut = (q) => ({ id: q.id, title: q.public_title, body: q.public_body, answer: q.answer, answered_at: iso(q.answered_at), helped: q.helped, asked_count: q.asked_count })
function summaryOut(q) {
  const c = CS.category(q.category_code)
  const u = CS.unit(q.unit_id)
  return {
    id: q.id, no: q.no, community_id: q.community_id, community_name: A.get(q.community_id)?.name || '', title: q.title, status: q.status,
    category_code: q.category_code, category_name: c?.name || null, unit_id: u?.id || null, unit_name: u?.name || null,
    asked_at: iso(q.asked_at), due_at: iso(q.due_at), overdue: overdue(q), answered_at: iso(q.answered_at), public: q.public, helped: q.helped, asked_count: q.asked_count,
  }
}
function detailOut(q, me) {
  const to = q.linked_to && questions.get(q.linked_to)
  return {
    ...summaryOut(q), body: q.body, asker_name: mask(q.asker_name), route_rule: q.route_rule, route_basis: q.route_basis,
    answer: q.answer, answered_by_name: q.answered_by_name, declined_reason: q.declined_reason,
    public_title: q.public_title, public_body: q.public_body, published_at: iso(q.published_at),
    linked_to: to ? { id: to.id, title: to.public_title || to.title } : null,
    similar: q.status === 'open' ? similarTo(`${q.title} ${q.body}`, q.community_id, 0.15, q.id) : [],
    // as the server: the caller may see it (and so act on it) and it is still open
    can_answer: sees(me, q) && q.status === 'open',
  }
}
function myOut(q) {
  const to = q.linked_to && questions.get(q.linked_to)
  return {
    id: q.id, no: q.no, community_name: A.get(q.community_id)?.name || '', title: q.title, body: q.body, status: q.status,
    asked_at: iso(q.asked_at), due_at: iso(q.due_at), answer: q.answer, answered_at: iso(q.answered_at), declined_reason: q.declined_reason,
    public: q.public, linked_to: to && to.public ? publicOut(to) : null,
  }
}

function ask({ community, title, body, category_code = null, asker, asker_name, at = Date.now() }) {
  const r = CS.route(category_code, community.id)
  const NO = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
  const duty = r.duty_id ? CS.duty(r.duty_id) : null
  const q = {
    id: randomUUID(), no: `Q${bjDay(at).replace(/-/g, '')}-${Array.from({ length: 8 }, () => NO[Math.floor(Math.random() * 32)]).join('')}`,
    community_id: community.id, category_code,
    unit_id: r.unit_id, route_rule: r.rule === 'power_list' || r.rule === 'territorial' ? r.rule : 'none',
    // the server's route_basis: the duty and its legal basis (power list only)
    route_basis: duty ? `${duty.name}：${duty.legal_basis}` : null,
    asker_id: asker, asker_name, title, body, status: 'open', asked_at: at, due_at: CS.addWorkingDays(at, 5),
    answer: null, answered_by_name: null, answered_at: null, declined_reason: null, linked_to: null,
    public: false, public_title: null, public_body: null, published_at: null, helped: 0, asked_count: 1,
  }
  questions.set(q.id, q)
  return q
}
const membersOf = (unitId) => (CS.unit(unitId)?.members || []).filter((id) => U.has(id))
const dueText = (q) => { const d = new Date(q.due_at + 8 * HOUR).toISOString(); return `${d.slice(0, 10)} ${d.slice(11, 16)}` }
function tellUnit(q, kind) {
  const vars = { no: q.no, title: q.title, community: A.get(q.community_id)?.name || '', due: dueText(q) }
  for (const id of membersOf(q.unit_id)) postMessage(id, { kind, vars, link: `/questions/${q.id}` })
}
function tellAsker(q, kind) {
  if (!U.has(q.asker_id)) return
  postMessage(q.asker_id, { kind, vars: { title: q.title, reason: q.declined_reason || '' }, link: `/m/questions/${q.id}` })
}

export function initQuestions({ areas, users }) {
  A = areas
  U = users
  const find = (name) => [...A.values()].find((a) => a.name === name)
  const user = (n) => [...U.values()].find((u) => u.username === n)
  const cy = find('朝阳社区')
  const hq = find('红旗社区')
  if (!cy) return
  const jumin = user('jumin')
  const stranger = () => randomUUID() // a resident account the mock does not model
  const now = Date.now()
  // N days ago at hh:mm Beijing time (never in the future)
  const ago = (days, hh = 9, mm = 30) => Math.min(now - 30 * MIN, Date.parse(`${bjDay(now - days * DAY)}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:00+08:00`))
  const answered = (q, { by, at, answer, pub = null, helped = 0, asked = 1 }) => {
    Object.assign(q, { status: 'answered', answer, answered_by_name: by, answered_at: at, helped, asked_count: asked })
    if (pub) Object.assign(q, { public: true, public_title: pub[0], public_body: pub[1], published_at: at + 20 * MIN })
  }

  // answered and public: helped 12, asked 3 times (the linked one below and one more earlier repeat)
  const heat = ask({
    community: cy, category_code: '0503', asker: stranger(), asker_name: '李秀英', at: ago(24, 19, 12),
    title: '请问今年暖气什么时候开始供？', body: '我是 6 号楼的住户，家里有老人怕冷，想问问今年什么时候开始供暖，暖气不热的话找谁？',
  })
  answered(heat, {
    by: '吴住建', at: ago(22, 10, 5), helped: 12, asked: 3,
    answer: '保定市今年的采暖期为 11 月 15 日至次年 3 月 15 日，热力公司会在 11 月 10 日前后注水试压，请家中留人并检查暖气阀门是否漏水。\n供暖后室温低于 18℃ 或暖气不热，请拨打热力公司 24 小时服务电话 0312-96199 报修；也可以在“随手拍”里提交，社区会帮您跟进。',
    pub: ['今年冬季什么时候开始供暖？暖气不热找谁？', '居民询问今年采暖期的开始时间，以及暖气不热时向哪里反映。'],
  })
  // answered and public: street lights
  const light = ask({
    community: cy, category_code: '0301', asker: stranger(), asker_name: '赵建国', at: ago(40, 8, 41),
    title: '小区里路灯坏了应该找谁修？', body: '3 号楼和 5 号楼之间的路灯不亮了，不知道该找物业还是找城管。',
  })
  answered(light, {
    by: '孙承办', at: ago(38, 15, 20), helped: 5,
    answer: '小区内部道路的路灯由物业公司负责维修，请先联系保定安居物业（0312-5089999）；小区外市政道路的路灯由区城管委负责，可拨打 12345 或在“随手拍”中上报，一般 3 个工作日内修好。',
    pub: ['小区内外的路灯坏了分别找谁修？', '居民询问小区内部和小区外道路的路灯坏了应向哪个单位反映。'],
  })
  // answered, not public yet
  const card = ask({
    community: cy, category_code: '0602', asker: stranger(), asker_name: '周桂兰', at: ago(6, 20, 3),
    title: '社区能办老年人优待证吗？', body: '我母亲今年满 65 岁，想办一张老年人优待证，坐公交和逛公园用。需要带什么材料？',
  })
  answered(card, {
    by: '张社区', at: ago(5, 9, 48),
    answer: '可以。年满 60 周岁的本市户籍老人可以在社区服务站办理老年人优待证，请带本人身份证原件和一张一寸免冠照片，工作日 9:00–17:00 到居委会一楼服务窗口办理，当场可以领取。',
  })
  // open and overdue: asked ten days ago, routed to 区城管委 by the power list
  ask({
    community: cy, category_code: '0301', asker: stranger(), asker_name: '王海燕', at: ago(10, 21, 16),
    title: '东门外的路灯坏了，什么时候修？', body: '东门外往公交站那段路的路灯坏了一个多星期，晚上很黑，老人出门不方便，路灯坏了到底该找谁修？',
  })
  if (jumin) {
    // open (jumin's), with personal details the answerer must remove before publishing
    ask({
      community: cy, category_code: '0503', asker: jumin.id, asker_name: jumin.display_name.replace(/[（(].*$/, ''), at: ago(1, 22, 37),
      title: '暖气什么时候来？家里已经很冷了', body: '我家住 1 号楼 3 单元 502，这几天晚上屋里只有 15 度，孩子都感冒了。想问一下今年什么时候开始供暖，暖气不热找谁？我的电话 13812345678。',
    })
    // linked to the heating answer (jumin's)
    const rep = ask({
      community: cy, category_code: '0503', asker: jumin.id, asker_name: jumin.display_name, at: ago(9, 12, 10),
      title: '什么时候开始供暖啊', body: '去年供暖开始得晚，今年会按时供暖吗？',
    })
    Object.assign(rep, { status: 'linked', linked_to: heat.id, answer: heat.answer, answered_by_name: '张社区', answered_at: ago(8, 10, 30) })
    // declined (jumin's)
    const noise = ask({
      community: cy, category_code: '0403', asker: jumin.id, asker_name: jumin.display_name, at: ago(15, 23, 2),
      title: '楼上邻居半夜跺脚，能不能管管？', body: '楼上每天晚上十二点以后还在走来走去、拖椅子，敲过门也不管用。',
    })
    Object.assign(noise, {
      status: 'declined', declined_reason: '邻里之间的纠纷不适合通过公开答复处理。请您到居委会一楼调解室当面反映，我们会安排调解员上门协调。',
      answered_by_name: '张社区', answered_at: ago(14, 14, 15),
    })
  }
  // 红旗社区: outside 朝阳社区's workers
  if (hq) {
    ask({
      community: hq, category_code: null, asker: stranger(), asker_name: '陈德明', at: ago(2, 18, 25),
      title: '红旗社区的健身器材坏了谁来修？', body: '社区广场上的漫步机松了，踩上去晃得厉害。',
    })
  }
}

/** The questions `me` should answer (the home page's to-do questions_to_answer), most urgent first; null when none is theirs. */
export function questionsToAnswer(me) {
  if (!mayAnswerSomewhere(me)) return null
  const items = [...questions.values()].filter((q) => q.status === 'open' && sees(me, q)).sort((a, b) => a.due_at - b.due_at)
  return { total: items.length, overdue: items.filter(overdue).length, items: items.map(summaryOut) }
}

// Returns true when the route was handled.
export function questionsApi({ req, res, url, p, m, body, me, send, err, log }) {
  if (!/^\/(questions|me\/questions)(\/|$)/.test(p)) return false
  const en = (req.headers['accept-language'] || '').startsWith('en')
  const L = (zh, e) => (en ? e : zh)
  const ok = (status, b) => (send(res, status, b), true)
  const nf = () => (err(res, req, 404, 'not_found', '未找到', 'Not found'), true)
  const forbid = () => (err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this'), true)
  const bad = (fields, msg = null) => (err(res, req, 422, 'validation', msg?.[0] || '输入有误，请检查标出的字段', msg?.[1] || 'Invalid input; check the marked fields', fields), true)
  const notOpen = () => (err(res, req, 409, 'questions.not_open', '该提问已答复、关联或谢绝，请刷新查看', 'This question was already answered, linked or declined; reload it'), true)
  const q = (k) => url.searchParams.get(k) || ''
  const str = (v) => (typeof v === 'string' ? v.trim() : '')
  /** The server's required_text: trimmed, required, at most `max` characters. */
  const required = (errs, field, v, max = MAX[field]) => {
    const t = str(v)
    if (!t) errs[field] = L('请填写', 'Required')
    else if (len(t) > max) errs[field] = L(`最多 ${max} 个字符`, `At most ${max} characters`)
    return t
  }
  /** The community a question is about: the code given, else where the caller lives. */
  const communityFor = (code) => {
    if (str(code)) {
      const c = communityByCode(code)
      return c ? { community: c } : { error: L('没有这个社区，请从社区公开页进入提问', "No community has this code; ask from the community's public page") }
    }
    const c = homeCommunity(me)
    return c ? { community: c } : { error: L('请选择要提问的社区（从社区公开页进入，或先认领住户信息）', 'Choose the community (open its public page, or claim your record first)') }
  }
  let mm

  // ---- the resident's own ----
  if (p === '/me/questions' && m === 'GET') {
    const c = homeCommunity(me)
    const items = [...questions.values()].filter((x) => x.asker_id === me.id).sort((a, b) => b.asked_at - a.asked_at).map(myOut)
    return ok(200, { items, community: c ? { code: c.code, name: c.name } : null })
  }
  if (p === '/me/questions' && m === 'POST') {
    const errs = {}
    const title = required(errs, 'title', body.title)
    const text = required(errs, 'body', body.body, MAX.body)
    const cat = str(body.category_code) ? CS.category(str(body.category_code)) : null
    if (str(body.category_code) && (!cat || !cat.active)) errs.category_code = L('没有这个分类', 'No such category')
    if (Object.keys(errs).length) return bad(errs)
    const c = communityFor(body.community_code)
    if (c.error) return bad({ community_code: c.error })
    const community = c.community
    // five in 24 hours; the server answers 429 rate_limited with Retry-After: 3600
    if ([...questions.values()].filter((x) => x.asker_id === me.id && x.asked_at > Date.now() - DAY).length >= 5) {
      return (err(res, req, 429, 'rate_limited', '尝试次数过多，请 3600 秒后再试', 'Too many attempts; try again in 3600 s'), true)
    }
    const x = ask({ community, title, body: text, category_code: cat?.code || null, asker: me.id, asker_name: me.display_name })
    tellUnit(x, 'question.asked')
    log(req, me, 'question.ask', 'question', x.id, ['title', 'body'])
    return ok(201, myOut(x))
  }
  if (p === '/me/questions/similar' && m === 'GET') {
    const c = communityFor(q('community_code'))
    if (c.error) return bad({ community_code: c.error })
    return ok(200, { items: similarTo([...q('q')].slice(0, 200).join(''), c.community.id, 0.2) })
  }
  if ((mm = p.match(/^\/me\/questions\/([^/]+)$/)) && m === 'GET') {
    const x = questions.get(mm[1])
    if (!x || x.asker_id !== me.id) return nf()
    return ok(200, myOut(x))
  }
  if (p.startsWith('/me/questions')) return nf()

  // ---- staff ----
  if (p === '/questions' && m === 'GET') {
    if (!mayAnswerSomewhere(me)) return forbid()
    const status = q('status') || 'open'
    if (!STATUSES.includes(status)) return bad({ status: L('status 应为 open、answered、linked、declined 或 all', 'status must be open, answered, linked, declined or all') })
    const areaId = q('area_id')
    if (areaId && !A.get(areaId)) return nf()
    const text = q('q').trim().toLowerCase()
    // counts: over the caller's questions (and area_id), whatever the other filters, as the server
    const scope = [...questions.values()].filter((x) => sees(me, x)).filter((x) => !areaId || under(x.community_id, areaId))
    const counts = { open: 0, overdue: 0, answered: 0 }
    for (const x of scope) {
      if (x.status === 'open') counts.open++
      if (overdue(x)) counts.overdue++
      if (x.status === 'answered') counts.answered++
    }
    const all = scope
      .filter((x) => status === 'all' || x.status === status)
      .filter((x) => q('overdue') !== 'true' || overdue(x))
      .filter((x) => !text || [x.no, x.title].some((s) => s.toLowerCase().includes(text)))
      // open ones first, by deadline; the others newest first
      .sort((a, b) => (a.status === 'open' ? 0 : 1) - (b.status === 'open' ? 0 : 1) || (a.status === 'open' ? a.due_at - b.due_at : b.asked_at - a.asked_at))
      .map(summaryOut)
    const page = Math.max(1, Number(q('page') || 1))
    const size = Math.min(100, Math.max(1, Number(q('page_size') || 20)))
    return ok(200, { items: all.slice((page - 1) * size, page * size), total: all.length, counts, page, page_size: size })
  }
  if ((mm = p.match(/^\/questions\/([^/]+)(?:\/(answer|publish|unpublish|link|route|decline))?$/))) {
    const x = questions.get(mm[1])
    if (!x) return nf()
    if (!sees(me, x)) return inArea(me, x) ? forbid() : nf()
    const action = mm[2]
    if (!action && m === 'GET') return ok(200, detailOut(x, me))
    if (!action || m !== 'POST') return nf()
    const done = (kind, fields = []) => {
      log(req, me, `question.${kind}`, 'question', x.id, fields)
      return ok(200, detailOut(x, me))
    }
    const wording = (errs) => [required(errs, 'public_title', body.public_title), required(errs, 'public_body', body.public_body)]
    if (action === 'answer') {
      if (x.status !== 'open') return notOpen()
      const errs = {}
      const answer = required(errs, 'answer', body.answer)
      if (body.publish !== undefined && typeof body.publish !== 'boolean') errs.publish = L('publish 应为 true 或 false', 'publish must be true or false')
      const [pt, pb] = body.publish === true ? wording(errs) : []
      if (Object.keys(errs).length) return bad(errs)
      const at = Date.now()
      Object.assign(x, { status: 'answered', answer, answered_by_name: me.display_name, answered_at: at })
      if (body.publish === true) Object.assign(x, { public: true, public_title: pt, public_body: pb, published_at: at })
      tellAsker(x, 'question.answered')
      return done('answer', body.publish ? ['answer', 'public'] : ['answer'])
    }
    if (action === 'publish') {
      if (x.status !== 'answered') return (err(res, req, 409, 'questions.not_answered', '只有已答复的问题才能公开', 'Only an answered question can be published'), true)
      const errs = {}
      const [pt, pb] = wording(errs)
      if (Object.keys(errs).length) return bad(errs)
      Object.assign(x, { public: true, public_title: pt, public_body: pb, published_at: x.published_at || Date.now() })
      return done('publish', ['public_title', 'public_body'])
    }
    if (action === 'unpublish') {
      x.public = false
      return done('unpublish', ['public'])
    }
    if (action === 'link') {
      if (x.status !== 'open') return notOpen()
      const to = questions.get(str(body.to))
      if (!str(body.to)) return bad({ to: L('请选择一条已公开的答复', 'Choose a published answer') })
      if (!to || to.id === x.id || to.community_id !== x.community_id || !to.public) {
        return bad({ to: L('只能关联本社区已公开的答复', 'Link to a published answer of the same community') })
      }
      Object.assign(x, { status: 'linked', linked_to: to.id, answer: to.answer, answered_by_name: me.display_name, answered_at: Date.now() })
      to.asked_count++
      tellAsker(x, 'question.answered')
      return done('link', ['linked_to'])
    }
    if (action === 'route') {
      if (x.status !== 'open') return notOpen()
      const note = str(body.note)
      if (len(note) > MAX.note) return bad({ note: L(`最多 ${MAX.note} 个字符`, `At most ${MAX.note} characters`) })
      // another active unit at or above the community (the note goes to the audit log only, as on the server)
      const unit = CS.unit(str(body.unit_id))
      if (!unit || !unit.active || !under(x.community_id, unit.area_id) || unit.id === x.unit_id) {
        return bad({ unit_id: L('请选择本社区或其上级的另一个在用单位', 'Choose another active unit of the community or above it') })
      }
      Object.assign(x, { unit_id: unit.id, route_rule: 'manual', route_basis: null })
      tellUnit(x, 'question.routed')
      return done('route', ['unit_id'])
    }
    if (action === 'decline') {
      if (x.status !== 'open') return notOpen()
      const errs = {}
      const reason = required(errs, 'reason', body.reason)
      if (Object.keys(errs).length) return bad(errs)
      Object.assign(x, { status: 'declined', declined_reason: reason, answered_by_name: me.display_name, answered_at: Date.now() })
      tellAsker(x, 'question.declined')
      return done('decline', ['status'])
    }
  }
  return nf()
}
