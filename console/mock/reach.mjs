// Mock of the reach additions (issue 15 points 2 and 7; crates/gongzhi/src/app/users.rs, app/messages/mod.rs
// `my_channels`, app/channel_import.rs):
// - users get an e-mail (kept here, shown as `email_masked`) and a WeCom account id (`wecom_userid`):
//   PATCH /users/{id} {email, wecom_userid} ("" clears; 422 fields.email / fields.wecom_userid). The rest of
//   the PATCH (and who may make it) stays with server.mjs: this part only checks, stores and steps aside.
// - GET /me/channels, PUT /me/channels/{channel} {enabled}: inbox (fixed), sms, email, wecom_app, webhook.
//   The instance "has" the channels named in MOCK_CHANNELS (default sms,email,wecom_app: no webhook); a
//   person's channel is available when the instance has it and the person has the address.
// - 渠道台账 from a sheet: GET /community-channels/import/template.xlsx (a CSV here) and
//   POST /community-channels/import?mode=dry_run|commit|commit_valid with the raw CSV; an .xlsx cannot be
//   read here, so it stands for a sample sheet (a row with an empty 类型 for a new channel, one in an unknown
//   community). Rows are checked like the server's and written through mock/channels.mjs (in-process).
// Seeded: admin, jiedao and shequ have an e-mail; shequ and wangge a WeCom account.
import { permsOfRole } from './roles.mjs'
import { channelsApi } from './channels.mjs'

const CONFIGURED = new Set(String(process.env.MOCK_CHANNELS ?? 'sms,email,wecom_app').split(',').map((s) => s.trim()).filter(Boolean))
const OPTIONAL = ['sms', 'email', 'wecom_app', 'webhook']
const emails = new Map() // user id → address (the server keeps it encrypted)
const optouts = new Map() // user id → Set of channels turned off
let seeded = false

const maskEmail = (e) => {
  const i = e.indexOf('@')
  return i < 0 ? '***' : `${[...e.slice(0, i)].slice(0, 2).join('')}***${e.slice(i)}`
}
function setEmail(u, e) {
  if (e) emails.set(u.id, e)
  else emails.delete(u.id)
  u.email_masked = e ? maskEmail(e) : null
}
function seed(users) {
  // every user answers both fields (null when none), also those created since
  for (const u of users.values()) {
    if (!('email_masked' in u)) u.email_masked = null
    if (!('wecom_userid' in u)) u.wecom_userid = null
  }
  if (seeded) return
  seeded = true
  const by = (name) => [...users.values()].find((u) => u.username === name)
  for (const [name, mail, wecom] of [
    ['admin', 'yanfei.admin@gz.example.cn', null],
    ['jiedao', 'lijiedao@xianfeng.example.cn', null],
    ['shequ', 'zhangshequ@chaoyang.example.cn', 'ZhangSheQu'],
    ['wangge', null, 'LiuWangGe'],
  ]) {
    const u = by(name)
    if (!u) continue
    if (mail) setEmail(u, mail)
    if (wecom) u.wecom_userid = wecom
  }
}

// ---- sheet cells ----
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
  return rows
}
const shDay = (ms = Date.now()) => new Date(ms + 8 * 3600000).toISOString().slice(0, 10)
const daysAgo = (n) => shDay(Date.now() - n * 86400000)
// what an .xlsx stands for here
const SAMPLE = () => [
  '社区,渠道名称,类型,服务对象,用途,负责人,成员数,上月发帖数,最近活跃日期',
  `130602001001,朝阳社区居民二群,,,,网格员刘芳,61,18,${daysAgo(3)}`,
  `朝阳社区,朝阳社区居民群,微信群,朝阳社区全体居民,邻里互助、通知转发,网格员,492,103,${daysAgo(1)}`,
  `朝阳社区,朝阳社区青年志愿者群,微信群,社区青年志愿者,志愿活动招募,李建国,45,12,${daysAgo(6)}`,
  `朝阳社区,朝阳社区议事协商群,,居民代表,居民议事,张华,30,6,${daysAgo(9)}`,
  `幸福社区,幸福社区居民群,微信群,幸福社区全体居民,通知,王芳,200,20,${daysAgo(2)}`,
].join('\n')
const COLUMNS = ['社区', '渠道名称', '类型', '服务对象', '用途', '负责人', '成员数', '上月发帖数', '最近活跃日期']
const REQUIRED = ['社区', '渠道名称']
const KINDS = [['wechat_official', '公众号'], ['wechat_group', '微信群'], ['wecom_group', '企业微信群'], ['video', '视频号'], ['hotline', '热线电话'], ['other', '其他']]
const kindOf = (s) => KINDS.find(([k, zh]) => k === s || zh === s)?.[0] || null

// Returns true when the route was handled.
export function reachApi({ req, res, url, p, m, body, me, send, err, log, users, areas, manages }) {
  const en = (req.headers['accept-language'] || '').startsWith('en')
  const L = (zh, e) => (en ? e : zh)
  const bad = (fields) => (err(res, req, 422, 'validation', '输入有误，请检查标出的字段', 'Invalid input; check the marked fields', fields), true)
  seed(users)
  let mm

  // ---- PATCH /users/{id}: the e-mail and the WeCom account; server.mjs does the rest ----
  if ((mm = p.match(/^\/users\/([^/]+)$/)) && m === 'PATCH' && body && ('email' in body || 'wecom_userid' in body)) {
    const u = users.get(mm[1])
    if (!u || !manages(me, u)) return false // 404 / 403 as server.mjs answers them
    if ('phone' in body && body.phone && !/^1[3-9]\d{9}$/.test(body.phone)) return false // its 422 comes first, as on the server
    let email, wecom
    if ('email' in body) {
      email = String(body.email ?? '').trim()
      if (email && (email.length > 120 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))) return bad({ email: L('不是有效的电子邮箱地址', 'Not a valid e-mail address') })
    }
    if ('wecom_userid' in body) {
      wecom = String(body.wecom_userid ?? '').trim()
      if (wecom && !/^[A-Za-z0-9_.@-]{1,64}$/.test(wecom)) return bad({ wecom_userid: L('企业微信账号只能包含字母、数字和 _ - . @，最多 64 个字符', 'A WeCom account id has letters, digits and _ - . @ only, at most 64') })
    }
    if (email !== undefined) setEmail(u, email)
    if (wecom !== undefined) u.wecom_userid = wecom || null
    delete body.email
    delete body.wecom_userid
    return false
  }

  // ---- my channels ----
  const list = () => {
    const off = optouts.get(me.id) || new Set()
    const has = { sms: !!me.phone, email: emails.has(me.id), wecom_app: !!me.wecom_userid, webhook: true }
    return [
      { channel: 'inbox', enabled: true, available: true, fixed: true },
      ...OPTIONAL.map((c) => ({ channel: c, enabled: !off.has(c), available: CONFIGURED.has(c) && has[c], fixed: false })),
    ]
  }
  if (p === '/me/channels' && m === 'GET') return send(res, 200, list()), true
  if ((mm = p.match(/^\/me\/channels\/([^/]+)$/)) && m === 'PUT') {
    const c = decodeURIComponent(mm[1])
    if (c === 'inbox') return bad({ channel: L('站内消息不能关闭', 'The inbox cannot be turned off') })
    if (!OPTIONAL.includes(c)) return err(res, req, 404, 'not_found', '未找到', 'Not found'), true
    if (typeof body?.enabled !== 'boolean') return bad({ enabled: L('应为 true 或 false', 'true or false') })
    const off = optouts.get(me.id) || new Set()
    if (body.enabled) off.delete(c)
    else off.add(c)
    optouts.set(me.id, off)
    log(req, me, 'message_channel.update', 'user', me.id, [c])
    return send(res, 200, list()), true
  }

  // ---- 渠道台账 from a sheet ----
  if (!p.startsWith('/community-channels/import')) return false
  const mayEdit = me.grants.some((g) => permsOfRole(g.role).includes('edit_registry'))
  if (!mayEdit) return err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this'), true
  if (p === '/community-channels/import/template.xlsx' && m === 'GET') {
    // the server sends an .xlsx; a CSV here
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="channels-template.csv"; filename*=UTF-8''${encodeURIComponent('渠道台账模板.csv')}` })
    res.end(`\ufeff${COLUMNS.join(',')}\r\n130602001001,朝阳社区居民群,微信群,朝阳社区全体居民,通知、答疑,王芳,486,32,${daysAgo(2)}\r\n`)
    return true
  }
  if (p !== '/community-channels/import' || m !== 'POST') return false
  const mode = url.searchParams.get('mode') || 'dry_run'
  if (!['dry_run', 'commit', 'commit_valid'].includes(mode)) return bad({ mode: L('mode 应为 dry_run、commit 或 commit_valid', 'mode must be dry_run, commit or commit_valid') })
  let buf = body?.__raw || Buffer.alloc(0)
  if (!buf.length) return bad({ file: L('文件为空', 'The file is empty') })
  if (buf.length > 2 << 20) return bad({ file: L('文件超过 2 MB', 'The file is over 2 MB') })
  if (buf[0] === 0x50 && buf[1] === 0x4b) buf = Buffer.from(SAMPLE())
  const table = parseCsv(buf.toString('utf8').replace(/^\ufeff/, ''))
  const head = (table.shift() || []).map((h) => h.trim())
  const missing = REQUIRED.filter((h) => !head.includes(h))
  if (missing.length) return bad({ file: L(`缺少列：${missing.join('、')}`, `Missing columns: ${missing.join(', ')}`) })

  // the register, in-process through mock/channels.mjs as `me`
  const inner = (method, path, params = {}, b = {}) => {
    const u = new URL('http://x/api/v1' + path)
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v))
    let out = { status: 500 }
    channelsApi({
      req, res, url: u, p: path, m: method, body: b, me, log,
      send: (_r, status, body2) => (out = { status, body: body2 }),
      err: (_r, _q, status, code, zh, e, fields) => (out = { status, fields }),
    })
    return out
  }
  const holdsEdit = (areaId) => me.grants.some((g) => permsOfRole(g.role).includes('edit_registry') && under(areas, areaId, g.area_id))
  const report = { status: 'dry_run', rows: 0, ok_rows: 0, error_rows: 0, created: 0, updated: 0, skipped_rows: 0, problems: [] }
  const good = []
  const seen = new Set()
  const col = (h) => head.indexOf(h)
  table.forEach((r, i) => {
    const row = i + 2
    if (!r.some((x) => x.trim())) return
    report.rows++
    const get = (h) => (col(h) >= 0 ? String(r[col(h)] ?? '').trim() : '')
    const probs = []
    const push = (column, zh, e) => probs.push({ row, column, problem: L(zh, e) })
    const cText = get('社区')
    const cands = [...areas.values()].filter((a) => a.kind === 'community' && (/^\d+$/.test(cText) ? a.code === cText : a.name === cText))
    const community = cands.length === 1 && holdsEdit(cands[0].id) ? cands[0] : null
    if (cands.length > 1) push('社区', '有多个同名社区，请改填社区编码', 'Several communities have this name; give the code')
    else if (!community) push('社区', '找不到该社区，或您无权维护它的渠道', 'No such community, or not yours to keep')
    if (!community) return note(probs)
    const name = get('渠道名称')
    const existing = (inner('GET', '/community-channels', { area_id: community.id, status: 'active', page_size: 200 }).body?.items || [])
      .find((c) => c.community_id === community.id && c.name === name) || null
    const kind = kindOf(get('类型')) || (existing && !get('类型') ? existing.kind : null)
    if (!kind) push('类型', '类型应为公众号、微信群、企业微信群、视频号、热线电话或其他', 'Type must be 公众号, 微信群, 企业微信群, 视频号, 热线电话 or 其他')
    const nums = {}
    for (const [h, f] of [['成员数', 'members'], ['上月发帖数', 'posts_last_month']]) {
      const s = get(h).replace(/[,，]/g, '').replace(/\.0$/, '')
      if (!s) nums[f] = existing?.[f] ?? null
      else if (/^\d+$/.test(s) && Number(s) <= 10_000_000) nums[f] = Number(s)
      else push(h, '应为 0 或正整数', 'A whole number from 0')
    }
    const keep = (h, f) => get(h) || existing?.[f] || ''
    const f = { name, audience: keep('服务对象', 'audience'), purpose: keep('用途', 'purpose'), owner_name: keep('负责人', 'owner_name'), ...nums, last_active_on: get('最近活跃日期') || existing?.last_active_on || null }
    if (!name || [...name].length > 100) push('渠道名称', '请填写（最多 100 个字符）', 'Required (at most 100 characters)')
    if (!f.audience || [...f.audience].length > 100) push('服务对象', '请填写（最多 100 个字符）', 'Required (at most 100 characters)')
    if ([...f.purpose].length > 500) push('用途', '过长（最多 500 个字符）', 'Too long (at most 500 characters)')
    if ([...f.owner_name].length > 50) push('负责人', '过长（最多 50 个字符）', 'Too long (at most 50 characters)')
    const d = f.last_active_on
    if (d && (!/^\d{4}-\d{2}-\d{2}$/.test(d) || Number.isNaN(Date.parse(d)) || d > shDay())) push('最近活跃日期', '应为不晚于今天的日期 YYYY-MM-DD', 'A date YYYY-MM-DD, not in the future')
    if (!probs.length) {
      const key = `${community.id}\u0000${name}`
      if (seen.has(key)) push('渠道名称', '与前面一行是同一个渠道', 'The same channel as an earlier row')
      else { seen.add(key); good.push({ row, community, existing, kind, f }) }
    }
    note(probs)
  })
  function note(probs) {
    if (probs.length) report.error_rows++
    else report.ok_rows++
    report.problems.push(...probs)
  }
  if (mode === 'dry_run') return send(res, 200, report), true
  if (mode === 'commit' && report.error_rows) return send(res, 200, { ...report, status: 'rejected' }), true
  for (const g of good) {
    if (g.existing) {
      inner('PATCH', `/community-channels/${g.existing.id}`, {}, { version: g.existing.version, ...g.f, last_active_on: g.f.last_active_on || '' })
      report.updated++
    } else {
      inner('POST', '/community-channels', {}, { community_id: g.community.id, kind: g.kind, ...g.f, last_active_on: g.f.last_active_on || undefined })
      report.created++
    }
  }
  log(req, me, 'channel.import', 'community_channel', null)
  return send(res, 200, { ...report, status: 'committed', skipped_rows: report.error_rows }), true
}

function under(areas, id, rootId) {
  for (let a = id && areas.get(id); a; a = a.parent_id && areas.get(a.parent_id)) if (a.id === rootId) return true
  return false
}
