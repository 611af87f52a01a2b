// Mock of 渠道台账 (crates/gongzhi/src/app/channels.rs): each community's channels to residents, the rules'
// flags (inactive: no post for 90+ days or none last month; duplicate: another active channel of the kind
// for the same audience; no_owner) and the street's recorded decisions (retire / merge, edit_areas).
// Seeded per community: 服务号, 居民群, a dead 居民二群 (duplicate, inactive, no owner), a 视频号 nobody answers
// for, a hotline, and one retired and one merged channel with their decisions.
import { randomUUID } from 'node:crypto'
import { permsOfRole } from './roles.mjs'

let A // areas Map from server.mjs
const channels = new Map()
const DAY = 86400000
const INACTIVE_DAYS = 90
const shDay = (ms = Date.now()) => new Date(ms + 8 * 3600000).toISOString().slice(0, 10)
const daysAgo = (n) => shDay(Date.now() - n * DAY)
const iso = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

const KINDS = [
  ['wechat_official', '公众号', 'WeChat official account'],
  ['wechat_group', '微信群', 'WeChat group'],
  ['wecom_group', '企业微信群', 'WeCom group'],
  ['video', '视频号', 'Video channel'],
  ['hotline', '热线电话', 'Hotline'],
  ['other', '其他', 'Other'],
]
const kindOf = (s) => KINDS.find(([k, zh]) => k === String(s || '').trim() || zh === String(s || '').trim())?.[0] || null

function ancestors(id) {
  const out = []
  let a = A.get(id)
  while (a) { out.push(a); a = a.parent_id && A.get(a.parent_id) }
  return out
}
const under = (id, rootId) => ancestors(id).some((a) => a.id === rootId)
/** A grant of `me` whose role carries `perm` covers the area. */
const holds = (me, perm, areaId) => me.grants.some((g) => permsOfRole(g.role).includes(perm) && (!g.area_id || under(areaId, g.area_id)))

function add(community, c) {
  const at = iso(Date.now() - (c.ago || 30) * DAY)
  const ch = {
    id: randomUUID(), community_id: community.id, kind: c.kind, name: c.name, audience: c.audience, purpose: c.purpose || '',
    owner_name: c.owner || '', members: c.members ?? null, posts_last_month: c.posts ?? null, last_active_on: c.last ?? null,
    status: 'active', merged_into: null, decision: null, decided_by: null, decided_at: null, version: 1, updated_at: at,
  }
  channels.set(ch.id, ch)
  return ch
}
function decideSeed(ch, status, reason, by, ago, into = null) {
  Object.assign(ch, { status, decision: reason, decided_by: by, decided_at: iso(Date.now() - ago * DAY - 3 * 3600000), merged_into: into?.id || null, version: 2 })
  ch.updated_at = ch.decided_at
}

export function initChannels({ areas }) {
  A = areas
  const communities = [...A.values()].filter((a) => a.kind === 'community').sort((a, b) => a.code.localeCompare(b.code))
  communities.forEach((a, i) => {
    const all = `${a.name}全体居民`
    add(a, { kind: 'wechat_official', name: `${a.name}服务号`, audience: all, purpose: '社区通知、办事指南', owner: '社区党委书记', members: 3200 + i * 37, posts: 12, last: daysAgo(3) })
    const main = add(a, { kind: 'wechat_group', name: `${a.name}居民群`, audience: all, purpose: '邻里互助、通知转发', owner: '网格员', members: 480 - i * 20, posts: 95, last: daysAgo(1) })
    add(a, { kind: 'wechat_group', name: `${a.name}居民二群`, audience: all, purpose: '（建群后无人维护）', owner: '', members: 57, posts: 0, last: daysAgo(200 + i) })
    add(a, { kind: 'video', name: `${a.name}视频号`, audience: all, purpose: '活动宣传', owner: '', members: 120, posts: null, last: null })
    if (i === 0) {
      add(a, { kind: 'hotline', name: '朝阳社区便民服务热线 0312-5012345', audience: all, purpose: '工作日 8:30–17:30 接听', owner: '社区值班室', members: null, posts: null, last: daysAgo(0) })
      add(a, { kind: 'wecom_group', name: '1号楼住户企业微信群', audience: '1号楼住户', purpose: '楼栋通知、报修', owner: '赵楼长', members: 86, posts: 14, last: daysAgo(5) })
      add(a, { kind: 'wechat_group', name: '朝阳社区老年人活动群', audience: '60岁以上居民', purpose: '老年大学、文体活动', owner: '王晓梅', members: 132, posts: 2, last: daysAgo(120) })
      add(a, { kind: 'wechat_group', name: '朝阳社区志愿者群', audience: '社区志愿者', purpose: '志愿活动招募', owner: '李建国', members: 64, posts: 23, last: daysAgo(2) })
    }
    const old = add(a, { kind: 'wechat_group', name: `${a.name}疫情防控群`, audience: `${a.name}防控对象`, purpose: '已完成使命', owner: '网格员', members: 300, posts: 0, last: daysAgo(700), ago: 400 })
    decideSeed(old, 'retired', '防控工作已结束，一年多无更新，已通知群主解散', '李街道', 40 + i)
    const dup = add(a, { kind: 'wechat_group', name: `${a.name}3号楼群`, audience: all, purpose: '楼栋通知', owner: '楼长', members: 40, posts: 1, last: daysAgo(95), ago: 200 })
    decideSeed(dup, 'merged', '与居民群重复，成员已引导至居民群', '李街道', 12 + i, main)
  })
}

function flagsOf(c) {
  if (c.status !== 'active') return []
  const out = []
  const stale = !c.last_active_on || (new Date(shDay() + 'T00:00:00Z') - new Date(c.last_active_on + 'T00:00:00Z')) / DAY > INACTIVE_DAYS
  if (stale || c.posts_last_month === 0) out.push('inactive')
  const twins = [...channels.values()].some((t) => t.id !== c.id && t.community_id === c.community_id && t.kind === c.kind && t.audience === c.audience && t.status === 'active')
  if (twins) out.push('duplicate')
  if (!c.owner_name.trim()) out.push('no_owner')
  return out
}
function out(c, en) {
  const k = KINDS.find((x) => x[0] === c.kind)
  return { ...c, community_name: A.get(c.community_id)?.name || '', kind_label: k ? (en ? k[2] : k[1]) : '', flags: flagsOf(c) }
}

/** The register's checks (like the server's `check`): trims in place, fills `errs`. */
function check(f, errs, L) {
  for (const [field, max, required] of [['name', 100, true], ['audience', 100, true], ['purpose', 500, false], ['owner_name', 50, false]]) {
    f[field] = String(f[field] ?? '').trim()
    const n = [...f[field]].length
    if ((required && !n) || n > max) errs[field] = required ? L(`请填写（最多 ${max} 个字符）`, `Required (at most ${max} characters)`) : L(`过长（最多 ${max} 个字符）`, `Too long (at most ${max} characters)`)
  }
  for (const field of ['members', 'posts_last_month']) {
    const v = f[field]
    if (v !== null && v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 10_000_000)) errs[field] = L('应为 0 或正整数', 'A whole number from 0')
  }
  const d = String(f.last_active_on ?? '').trim()
  if (!d) f.last_active_on = null
  else if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || Number.isNaN(Date.parse(d)) || d > shDay()) errs.last_active_on = L('应为不晚于今天的日期 YYYY-MM-DD', 'A date YYYY-MM-DD, not in the future')
  else f.last_active_on = d
}

// Returns true when the route was handled.
export function channelsApi({ req, res, url, p, m, body, me, send, err, log }) {
  if (!/^\/community-channels(\/|$)/.test(p)) return false
  const en = (req.headers['accept-language'] || '').startsWith('en')
  const L = (zh, e) => (en ? e : zh)
  const nf = () => (err(res, req, 404, 'not_found', '未找到', 'Not found'), true)
  const forbid = () => (err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this'), true)
  const bad = (fields) => (err(res, req, 422, 'validation', '输入有误，请检查标出的字段', 'Invalid input; check the marked fields', fields), true)
  const stale = () => (err(res, req, 409, 'conflict', '已被他人修改，请刷新后重试', 'Changed by someone else; reload and retry'), true)
  const ok = (status, b) => (send(res, status, b), true)
  const q = (k) => url.searchParams.get(k) || ''
  let mm

  if (p === '/community-channels' && m === 'GET') {
    const areaId = q('area_id')
    if (areaId && (!A.get(areaId) || !holds(me, 'read_registry', areaId) && !me.grants.some((g) => g.area_id && under(g.area_id, areaId)))) return nf()
    const status = q('status') || 'active'
    if (!['active', 'retired', 'merged', 'all'].includes(status)) return bad({ status: L('status 应为 active、retired、merged 或 all', 'status must be active, retired, merged or all') })
    const code = (c) => A.get(c.community_id)?.code || ''
    const all = [...channels.values()]
      .filter((c) => holds(me, 'read_registry', c.community_id) && (!areaId || under(c.community_id, areaId)) && (status === 'all' || c.status === status))
      .sort((a, b) => code(a).localeCompare(code(b)) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name, 'zh'))
      .map((c) => out(c, en))
    const flagged = all.filter((c) => c.flags.length).length
    const shown = q('flagged') === 'true' ? all.filter((c) => c.flags.length) : all
    const page = Math.max(1, Number(q('page') || 1))
    const size = Math.min(200, Math.max(1, Number(q('page_size') || 20)))
    return ok(200, { items: shown.slice((page - 1) * size, page * size), total: shown.length, flagged, page, page_size: size })
  }
  if (p === '/community-channels' && m === 'POST') {
    const a = body.community_id && A.get(body.community_id)
    if (!a) return bad({ community_id: L('请选择一个社区', 'Choose a community') })
    if (!holds(me, 'read_registry', a.id)) return nf()
    if (!holds(me, 'edit_registry', a.id)) return forbid()
    const errs = {}
    if (a.kind !== 'community') errs.community_id = L('请选择一个社区', 'Choose a community')
    const kind = kindOf(body.kind)
    if (!kind) errs.kind = L('类型应为公众号、微信群、企业微信群、视频号、热线电话或其他', 'kind must be wechat_official, wechat_group, wecom_group, video, hotline or other')
    const f = { name: body.name, audience: body.audience, purpose: body.purpose, owner_name: body.owner_name, members: body.members ?? null, posts_last_month: body.posts_last_month ?? null, last_active_on: body.last_active_on }
    check(f, errs, L)
    if (Object.keys(errs).length) return bad(errs)
    const c = add(a, { kind, name: f.name, audience: f.audience, purpose: f.purpose, owner: f.owner_name, members: f.members, posts: f.posts_last_month, last: f.last_active_on, ago: 0 })
    log(req, me, 'channel.create', 'community_channel', c.id)
    return ok(201, out(c, en))
  }
  if ((mm = p.match(/^\/community-channels\/([^/]+)(\/retire|\/merge)?$/))) {
    const c = channels.get(mm[1])
    if (!c || !holds(me, 'read_registry', c.community_id)) return nf()
    if (!mm[2] && m === 'GET') return ok(200, out(c, en))
    if (!mm[2] && m === 'PATCH') {
      if (!holds(me, 'edit_registry', c.community_id)) return forbid()
      const f = {
        name: body.name ?? c.name, audience: body.audience ?? c.audience, purpose: body.purpose ?? c.purpose, owner_name: body.owner_name ?? c.owner_name,
        members: body.members ?? c.members, posts_last_month: body.posts_last_month ?? c.posts_last_month, last_active_on: body.last_active_on ?? c.last_active_on,
      }
      const errs = {}
      check(f, errs, L)
      if (Object.keys(errs).length) return bad(errs)
      if (body.version !== c.version) return stale()
      Object.assign(c, f, { version: c.version + 1, updated_at: iso() })
      log(req, me, 'channel.update', 'community_channel', c.id)
      return ok(200, out(c, en))
    }
    if (mm[2] && m === 'POST') {
      if (!holds(me, 'edit_areas', c.community_id)) return forbid()
      const reason = String(body.reason || '').trim()
      if (!reason || [...reason].length > 500) return bad({ reason: L('请写明处理理由（最多 500 字）', 'Give the reason (at most 500 characters)') })
      if (c.status !== 'active') return (err(res, req, 422, 'channel.not_active', '该渠道已停用或已合并', 'The channel is retired or merged already'), true)
      const merge = mm[2] === '/merge'
      let into = null
      if (merge) {
        if (!body.into_id) return bad({ into_id: L('请选择合并到的渠道', 'Choose the channel to merge into') })
        into = channels.get(body.into_id)
        if (!into) return bad({ into_id: L('找不到这个渠道', 'No such channel') })
        if (into.id === c.id || into.community_id !== c.community_id || into.status !== 'active') return bad({ into_id: L('只能合并到同一社区另一个在用的渠道', 'Merge into another active channel of the same community') })
      }
      if (body.version !== c.version) return stale()
      Object.assign(c, {
        status: merge ? 'merged' : 'retired', merged_into: into?.id || null, decision: reason, decided_by: me.display_name, decided_at: iso(),
        version: c.version + 1, updated_at: iso(),
      })
      log(req, me, merge ? 'channel.merge' : 'channel.retire', 'community_channel', c.id)
      return ok(200, out(c, en))
    }
  }
  return nf()
}
