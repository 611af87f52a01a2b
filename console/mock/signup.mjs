// Mock of 居民自助注册 (issue 15 point 8; crates/gongzhi/src/app/signup.rs): sign-up with a mobile number and an
// SMS code (public), the resident's claim of their registry record by name + ID number (any signed-in user;
// always `submitted`, matched or not), and the community workers' review (edit_registry at the matched
// person's area): confirm links the account (GET /me `person_linked`) and grants the resident role on the
// person's building, with an inbox message `claim.confirmed`; reject needs a reason.
// The mock sends no SMS: the code is always 123456 (printed at start). MOCK_SMS=off, or the number
// 19900000409, answers 409 signup.sms_unavailable. Limits as the server's: one code a minute and five a day per
// number, ten an hour per address (429 + Retry-After), five wrong tries kill a code, five claims a day.
// Seeded: `xinjumin` / Demo@2026 (signed up, no role, one rejected claim) and a few pending / decided claims by
// other signed-up residents in 朝阳社区; `jumin` is linked to a person of their household in 1号楼.
import { randomUUID } from 'node:crypto'
import { permsOfRole } from './roles.mjs'
import { registryHouseholds, registryPersons } from './registry.mjs'
import { postMessage } from './messages.mjs'

export const MOCK_CODE = '123456'
const MINUTE = 60000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const CODE_TTL = 10 * MINUTE
const RESEND_AFTER = MINUTE
const iso = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

let A // areas
let U // users
let addUser
let mkGrant
const codes = [] // {phone, code, addr, attempts, expires_at, created_at, used_at}
const claims = [] // {id, user_id, person_id|null, area_id|null, name, status: pending|unmatched|confirmed|rejected, reason, created_at, decided_by, decided_at}

const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const idCheck = (s17) => '10X98765432'[[...s17].reduce((s, c, i) => s + Number(c) * W[i], 0) % 11]
const maskName = (n) => (n ? [...n][0] + '*'.repeat(Math.max(1, [...n].length - 1)) : '')
const maskId = (v) => (v ? v.slice(0, 6) + '********' + v.slice(-4) : null)
const maskPhone = (p) => (p ? p.slice(0, 3) + '****' + p.slice(-4) : null)

function ancestors(id) {
  const out = []
  for (let a = id && A.get(id); a; a = a.parent_id && A.get(a.parent_id)) out.push(a)
  return out
}
const under = (id, rootId) => ancestors(id).some((a) => a.id === rootId)
const holds = (me, perm, areaId) => me.grants.some((g) => permsOfRole(g.role).includes(perm) && (!g.area_id || under(areaId, g.area_id)))

/** person id → {address, area_id (building), grid_id, community_id} of their current household. */
function homes() {
  const m = new Map()
  for (const h of registryHouseholds()) for (const pid of h.member_ids) if (!m.has(pid)) m.set(pid, h)
  return m
}
function findPerson(name, idNo) {
  for (const p of registryPersons().values()) if (!p.deleted && p.name === name && p.id_no === idNo) return p
  return null
}

function myView(c) {
  return {
    id: c.id, name: c.name, status: ['confirmed', 'rejected'].includes(c.status) ? c.status : 'submitted',
    reason: c.reason || null, created_at: c.created_at, decided_at: c.decided_at || null,
  }
}
function claimView(c, H = homes()) {
  const u = U.get(c.user_id)
  const p = registryPersons().get(c.person_id)
  const h = H.get(c.person_id)
  return {
    id: c.id, user_display_name: u?.display_name || '', user_phone_masked: maskPhone(u?.phone), claimed_name: c.name,
    person_name_masked: maskName(p?.name), id_no_masked: maskId(p?.id_no), address: h?.address || null,
    community_name: A.get(h?.community_id)?.name || '', grid_name: A.get(h?.grid_id)?.name || '',
    status: c.status, reason: c.reason || null, created_at: c.created_at, decided_by: c.decided_by || null, decided_at: c.decided_at || null,
  }
}

function newClaim(user, name, idNo, at = Date.now()) {
  const p = findPerson(name, idNo)
  const h = p && homes().get(p.id)
  const c = {
    id: randomUUID(), user_id: user.id, person_id: p?.id || null, area_id: h?.area_id || null, name,
    status: p && h ? 'pending' : 'unmatched', reason: null, created_at: iso(at), decided_by: null, decided_at: null,
  }
  claims.unshift(c)
  return c
}

/** The demo: signed-up residents and their claims; `jumin` linked to a person of their household. */
export function initSignup({ areas, users, addUser: add, mkGrant: grant }) {
  A = areas
  U = users
  addUser = add
  mkGrant = grant
  const find = (name) => [...A.values()].find((a) => a.name === name)
  const H = registryHouseholds()
  const P = registryPersons()
  const bld1 = find('1号楼')
  // jumin's household (the same one mock/notices.mjs picks)
  const jh = H.find((h) => h.area_id === bld1?.id)
  const jumin = [...U.values()].find((u) => u.username === 'jumin')
  if (jumin && jh?.member_ids.length) jumin.person_id = jh.member_ids[0]
  const linked = new Set([...U.values()].map((u) => u.person_id).filter(Boolean))
  // adults of other households, each claimed by one signed-up resident
  const adults = H.filter((h) => h !== jh).flatMap((h) => h.member_ids.map((id) => P.get(id)).filter((p) => p && !linked.has(p.id) && p.id_no && p.birth_date && p.birth_date < '2006-01-01'))
  const now = Date.now()
  const seed = [
    ['xinjumin', '新居民', '13912345678', 11, 'rejected', 2 * DAY, '电话核实时无人接听，请携带身份证到社区办理'],
    ['wangayi', '王阿姨', '13512340001', 0, 'pending', 3 * HOUR],
    ['lixiansheng', '李先生', '15012340002', 7, 'pending', 26 * HOUR],
    ['zhaonainai', '赵奶奶', '18612340003', 19, 'pending', 50 * HOUR],
    ['sunjie', '孙姐', '13712340004', 33, 'confirmed', 5 * DAY],
    ['zhoushu', '周叔', '13812340005', 45, 'rejected', 6 * DAY, '经核实非本人，请本人到社区办理'],
  ]
  for (const [username, display, phone, k, status, ago, reason] of seed) {
    const u = addUser(username, display, 'Demo@2026', [], false, { phone })
    u.area_id = null
    u.created_at = iso(now - ago - HOUR)
    const p = k === null ? null : adults[k * 3 % Math.max(1, adults.length)]
    let c
    if (p) c = newClaim(u, p.name, p.id_no, now - ago)
    else c = newClaim(u, '陈新民', '130602198805120031', now - ago) // matches nobody
    if (status === 'pending') continue
    c.status = status
    c.decided_by = '张社区'
    c.decided_at = iso(now - ago + 4 * HOUR)
    if (status === 'rejected') c.reason = reason
    if (status === 'confirmed' && c.person_id) {
      u.person_id = c.person_id
      u.area_id = c.area_id
      u.grants.push(mkGrant('resident', c.area_id))
    }
  }
}

/** A person a demo user may claim (printed at start): an adult of 1号楼 not linked to an account. */
export function claimSample() {
  const H = registryHouseholds()
  const P = registryPersons()
  const b = [...A.values()].find((a) => a.name === '2号楼')
  const taken = new Set([...U.values()].map((u) => u.person_id).filter(Boolean))
  for (const h of H.filter((x) => x.area_id === b?.id)) {
    for (const id of h.member_ids) {
      const p = P.get(id)
      if (p?.id_no && !taken.has(p.id) && p.birth_date < '2006-01-01' && !claims.some((c) => c.person_id === p.id)) return p
    }
  }
  return null
}

// POST /public/signup/code, POST /public/signup (no sign-in). Returns true when the route was handled.
export function signupPublicApi({ req, res, p, m, body, send, err }) {
  if (!/^\/public\/signup(\/code)?$/.test(p)) return false
  if (m !== 'POST') return (err(res, req, 405, 'method_not_allowed', '不支持该请求方法', 'This method is not allowed here'), true)
  const en = (req.headers['accept-language'] || '').startsWith('en')
  const L = (zh, e) => (en ? e : zh)
  const bad = (fields) => (err(res, req, 422, 'validation', '输入有误，请检查标出的字段', 'Invalid input; check the marked fields', fields), true)
  const limited = (s) => {
    res.setHeader('retry-after', String(s))
    err(res, req, 429, 'rate_limited', `尝试次数过多，请 ${s} 秒后再试`, `Too many attempts; try again in ${s} s`)
    return true
  }
  const phone = String(body.phone ?? '').replace(/[\s-]/g, '')
  const phoneOk = /^1[3-9]\d{9}$/.test(phone)
  const now = Date.now()
  const addr = req.socket?.remoteAddress || ''

  if (p === '/public/signup/code') {
    if (!phoneOk) return bad({ phone: L('请输入 11 位手机号码', 'Enter an 11-digit mobile number') })
    if (process.env.MOCK_SMS === 'off' || phone === '19900000409') {
      return (err(res, req, 409, 'signup.sms_unavailable', '本平台未开通短信验证码，请联系社区工作人员开通账号', 'This instance sends no SMS codes; ask your community office for an account'), true)
    }
    const mine = codes.filter((c) => c.phone === phone && c.created_at > now - DAY)
    const last = Math.max(0, ...mine.map((c) => c.created_at))
    if (now - last < RESEND_AFTER) return limited(Math.max(1, Math.ceil((RESEND_AFTER - (now - last)) / 1000)))
    if (mine.length >= 5) return limited(3600)
    if (codes.filter((c) => c.addr === addr && c.created_at > now - HOUR).length >= 10) return limited(600)
    codes.push({ phone, code: MOCK_CODE, addr, attempts: 0, expires_at: now + CODE_TTL, created_at: now, used_at: null })
    console.log(`signup code for ${phone}: ${MOCK_CODE}`)
    return (send(res, 202, { expires_in_s: CODE_TTL / 1000, resend_after_s: RESEND_AFTER / 1000 }), true)
  }

  // POST /public/signup: the account's fields first (a bad password does not spend the code)
  const f = {}
  if (!phoneOk) f.phone = L('请输入 11 位手机号码', 'Enter an 11-digit mobile number')
  const username = String(body.username ?? '').trim()
  if (username.length < 2 || username.length > 64) f.username = L('用户名长度应为 2–64 个字符', 'The username must be 2–64 characters')
  else if (!/^[A-Za-z0-9_.-]+$/.test(username)) f.username = L('用户名只能包含字母、数字、_ - .', 'The username may contain only letters, digits, _ - .')
  const display = String(body.display_name ?? '').trim()
  if (!display || [...display].length > 100) f.display_name = L('请填写姓名（最多 100 个字）', 'Enter a name (at most 100 characters)')
  const pw = String(body.password ?? '')
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(pw)).length
  if ([...pw].length < 8) f.password = L('密码至少 8 个字符', 'The password needs at least 8 characters')
  else if (classes < 3) f.password = L('密码需包含小写字母、大写字母、数字、符号中的至少 3 类', 'Use at least 3 of: lower case, upper case, digits, symbols')
  else if (username && pw.toLowerCase() === username.toLowerCase()) f.password = L('密码不能与用户名相同', 'The password must differ from the username')
  if (Object.keys(f).length) return bad(f)
  const wrong = () => bad({ code: L('验证码不正确或已过期，请重新获取', 'The code is wrong or expired; ask for a new one') })
  const code = String(body.code ?? '').trim()
  const live = codes.filter((c) => c.phone === phone && !c.used_at && c.expires_at > now).sort((a, b) => b.created_at - a.created_at)[0]
  if (!/^\d{6}$/.test(code) || !live || live.attempts >= 5) return wrong()
  if (live.code !== code) {
    live.attempts++
    return wrong()
  }
  if ([...U.values()].some((u) => u.phone === phone)) {
    return (err(res, req, 409, 'signup.phone_taken', '该手机号已注册，请直接登录', 'This number already has an account; sign in instead'), true)
  }
  if ([...U.values()].some((u) => u.username.toLowerCase() === username.toLowerCase())) {
    return (err(res, req, 409, 'conflict', '用户名已被使用', 'This username is taken', { username: L('该用户名已被使用，请换一个', 'This username is taken; choose another') }), true)
  }
  live.used_at = now
  const u = addUser(username, display, pw, [], false, { phone })
  u.area_id = null
  return (send(res, 201, { user_id: u.id, username: u.username }), true)
}

// /me/claims, /resident-claims… (signed in). Returns true when the route was handled.
export function signupApi({ req, res, url, p, m, body, me, send, err, log }) {
  if (!/^\/(me\/claims|resident-claims)(\/|$)/.test(p)) return false
  const en = (req.headers['accept-language'] || '').startsWith('en')
  const L = (zh, e) => (en ? e : zh)
  const ok = (status, b) => (send(res, status, b), true)
  const nf = () => (err(res, req, 404, 'not_found', '未找到该资源', 'Not found'), true)
  const bad = (fields) => (err(res, req, 422, 'validation', '输入有误，请检查标出的字段', 'Invalid input; check the marked fields', fields), true)
  const decided = () => (err(res, req, 409, 'claims.decided', '该认领已处理', 'This claim was already decided'), true)
  const now = Date.now()
  let mm

  if (p === '/me/claims' && m === 'GET') return ok(200, claims.filter((c) => c.user_id === me.id).slice(0, 50).map(myView))
  if (p === '/me/claims' && m === 'POST') {
    const f = {}
    const name = String(body.name ?? '').trim()
    if (!name || [...name].length > 64) f.name = L('请填写姓名（最多 64 个字）', 'Enter the name (at most 64 characters)')
    const idNo = String(body.id_no ?? '').trim().toUpperCase()
    if (!/^\d{17}[\dX]$/.test(idNo)) f.id_no = L('身份证号应为 18 位', 'The ID number must have 18 characters')
    else if (idCheck(idNo.slice(0, 17)) !== idNo[17]) f.id_no = L('身份证号校验位不正确', 'The check digit of the ID number is wrong')
    if (Object.keys(f).length) return bad(f)
    if (me.person_id) return (err(res, req, 409, 'claims.already_linked', '您的账号已关联住户信息', 'Your account is already linked to your record'), true)
    if (claims.filter((c) => c.user_id === me.id && Date.parse(c.created_at) > now - DAY).length >= 5) {
      res.setHeader('retry-after', '3600')
      return (err(res, req, 429, 'rate_limited', '尝试次数过多，请 3600 秒后再试', 'Too many attempts; try again in 3600 s'), true)
    }
    const c = newClaim(me, name, idNo)
    log(req, me, 'claim.submit', 'resident_claim', c.id)
    return ok(202, myView(c))
  }

  // ---- the workers' review ----
  const mineToSee = (c) => c.person_id && c.status !== 'unmatched' && holds(me, 'edit_registry', c.area_id)
  if (p === '/resident-claims' && m === 'GET') {
    const status = url.searchParams.get('status') || 'pending'
    if (!['pending', 'confirmed', 'rejected', 'all'].includes(status)) return bad({ status: L('status 应为 pending、confirmed、rejected 或 all', 'status must be pending, confirmed, rejected or all') })
    const page = Math.max(1, Number(url.searchParams.get('page') || 1))
    const size = Math.min(200, Math.max(1, Number(url.searchParams.get('page_size') || 20)))
    const H = homes()
    const all = claims.filter((c) => mineToSee(c) && (status === 'all' || c.status === status)).sort((a, b) => b.created_at.localeCompare(a.created_at))
    return ok(200, { items: all.slice((page - 1) * size, page * size).map((c) => claimView(c, H)), total: all.length, page, page_size: size })
  }
  if ((mm = p.match(/^\/resident-claims\/([^/]+)\/(confirm|reject)$/)) && m === 'POST') {
    const c = claims.find((x) => x.id === mm[1])
    if (!c || !c.person_id || c.status === 'unmatched' || !holds(me, 'read_registry', c.area_id)) return nf()
    if (!holds(me, 'edit_registry', c.area_id)) return (err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this'), true)
    if (mm[2] === 'reject') {
      const reason = String(body.reason ?? '').trim()
      if (!reason || [...reason].length > 500) return bad({ reason: L('请填写驳回理由（最多 500 字）', 'Give a reason (at most 500 characters)') })
      if (c.status !== 'pending') return decided()
      Object.assign(c, { status: 'rejected', reason, decided_by: me.display_name, decided_at: iso() })
      log(req, me, 'claim.reject', 'resident_claim', c.id)
      return ok(200, claimView(c))
    }
    if (c.status !== 'pending') return decided()
    const u = U.get(c.user_id)
    if (!u || u.person_id || [...U.values()].some((x) => x.person_id === c.person_id)) {
      return (err(res, req, 409, 'claims.taken', '该居民或该账号已关联，请核对', 'This resident or this account is already linked; check it'), true)
    }
    Object.assign(c, { status: 'confirmed', decided_by: me.display_name, decided_at: iso() })
    u.person_id = c.person_id
    u.area_id = u.area_id || c.area_id
    u.grants.push(mkGrant('resident', c.area_id))
    const community = A.get(homes().get(c.person_id)?.community_id)?.name || ''
    postMessage(u.id, { kind: 'claim.confirmed', vars: { community }, link: '/m/notices' })
    log(req, me, 'claim.confirm', 'resident_claim', c.id)
    return ok(200, claimView(c))
  }
  return nf()
}
