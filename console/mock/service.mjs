// Mock of 党员下沉、志愿服务、积分 (docs/party-volunteers.md, issue 5), in memory, with seeded Chinese
// demo data: volunteers drawn from the registry's residents (朝阳社区), party members (community and 在职党员
// of four work units), activities around today (one running now, one risky needing insurance), service hours,
// the points ledger, the 爱心超市, ratings, commendations and certificates.
// Demo users (Demo@2026): shuji (党组织书记, 先锋街道), danwei (单位联系人, 保定市第一中心医院党委), zhiyuan (志愿者).
import { randomUUID, createHash } from 'node:crypto'
import { legacyRoles, permissionsOf } from './roles.mjs'

let A, U, ORGS, PERSONS
const DAY = 86400000
const HOUR = 3600000
const nowIso = () => new Date().toISOString()
const shDay = (ms = Date.now()) => new Date(ms + 8 * HOUR).toISOString().slice(0, 10)
const addDays = (d, n) => shDay(new Date(d + 'T12:00:00+08:00').getTime() + n * DAY)
const atBj = (day, hm) => new Date(`${day}T${hm}:00+08:00`).toISOString()
const year = () => Number(shDay().slice(0, 4))

let seed = 50505
function rnd() {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (a) => a[Math.floor(rnd() * a.length)]
const chance = (p) => rnd() < p
const some = (a, n) => { const c = [...a]; const out = []; while (out.length < n && c.length) out.push(c.splice(Math.floor(rnd() * c.length), 1)[0]); return out }

const SKILLS = ['医疗护理', '心理疏导', '法律咨询', '家电维修', '理发', '助老陪护', '文艺演出', '摄影', '驾驶', '电脑网络', '课业辅导', '垃圾分类宣传', '助餐配送', '手语']
const STAR_HOURS = [100, 300, 600, 1000, 1500]
const DEFAULT_LIMITS = { hours_per_week: 20, consecutive_days: 5, rest_hours: 8 }
const EVENTS = [
  ['report_in', '报到', '报到 Report-in', 10, 20, 'year'],
  ['attendance', '参加活动', 'Attendance', 2, null, null],
  ['hour', '服务时长（每小时）', 'Service hour', 1, 8, 'day'],
  ['commendation', '获得表彰', 'Commendation', 20, null, null],
  ['absence', '报名未到（扣分）', 'Absence (deducted)', 5, null, null],
  ['exempt_over_age', '免扣年龄（岁）', 'Exemption age (years)', 70, null, null],
]
const ACT_KINDS = { party_meeting: ['三会一课', 'Party meeting'], theme_day: ['主题党日', 'Theme day'], volunteer: ['志愿服务', 'Volunteer service'], community_event: ['社区活动', 'Community event'] }
const GRADES = { excellent: ['优秀', 'Excellent'], qualified: ['合格', 'Qualified'], basic: ['基本合格', 'Basically qualified'], unqualified: ['不合格', 'Unqualified'] }
const POSTING_KINDS = { earn: ['获得', 'Earned'], deduct: ['扣减', 'Deducted'], redeem: ['兑换', 'Redeemed'], transfer_out: ['转出', 'Donated'], transfer_in: ['转入', 'Received'], reversal: ['冲正', 'Reversal'] }

const volunteers = new Map()
const hours = [] // {id, volunteer_id, activity_id, activity_title, minutes, reason, kind, created_by_name, at}
const members = new Map()
const reportIns = []
const pairings = new Map() // org_id → {org_id, community_id, since}
const activities = new Map()
const signups = [] // {activity_id, volunteer_id, via, insurer, policy_no, checkin_at, checkout_at, minutes, status, at}
const accounts = new Map()
const postings = [] // newest last
const rules = [] // {area_id, event, points, cap, cap_period}
const items = new Map()
const redemptions = []
const reviews = new Map() // member_id:year → score
const ratings = new Map() // member_id:year → rating row
const commendations = []
const certificates = []
let certSeq = 0

const areaName = (id) => A.get(id)?.name || ''
const orgName = (id) => ORGS.get(id)?.name || ''
function ancestors(id) { const out = []; let a = A.get(id); while (a) { out.push(a); a = a.parent_id && A.get(a.parent_id) } return out }
const under = (id, root) => !root || ancestors(id).some((a) => a.id === root)
const mask = (v) => (v ? v.slice(0, 3) + '****' + v.slice(-4) : null)
// like the server's certificates (first 3 and last 4 visible)
const maskId = (v) => (v ? v.slice(0, 3) + '*'.repeat(v.length - 7) + v.slice(-4) : null)
function ageOf(birth) {
  if (!birth) return null
  const t = shDay()
  let a = Number(t.slice(0, 4)) - Number(birth.slice(0, 4))
  if (t.slice(5) < birth.slice(5)) a--
  return a
}
/** A service-hours entry as the server answers it (kind service | correction). */
function hourRow(volunteer_id, e) {
  const at = e.at || nowIso()
  return { id: randomUUID(), volunteer_id, activity_id: e.activity_id || null, activity_title: e.activity_title || null, day: e.day || shDay(new Date(at).getTime()), minutes: e.minutes, hours: Math.round((e.minutes / 60) * 100) / 100, kind: e.kind || 'correction', reason: e.reason || null, created_by_name: e.created_by_name, created_at: at, at }
}
const starsOf = (h) => STAR_HOURS.filter((x) => h >= x).length
const minutesOf = (vid) => hours.filter((x) => x.volunteer_id === vid).reduce((s, x) => s + x.minutes, 0)

// ------------------------------------------------------------------ builders
function addAccount(kind, owner_name, community_id, volunteer_id = null) {
  const a = { id: randomUUID(), kind, owner_name, community_id, volunteer_id, balance: 0, updated_at: nowIso() }
  accounts.set(a.id, a)
  return a
}
function post(account, amount, kind, event, note, actor, at = nowIso(), extra = {}) {
  if (account.balance + amount < 0) return null
  const p = { id: randomUUID(), account_id: account.id, amount, kind, event, note, source_kind: extra.source_kind || null, source_id: extra.source_id || null, reverses_id: extra.reverses_id || null, actor_name: actor, at }
  postings.push(p)
  account.balance += amount
  account.updated_at = at
  return p
}
function addVolunteer(person, { skills, willing = true, user_id = null, actor = '张社区', at } = {}) {
  const v = {
    id: randomUUID(), person_id: person.id, name: person.name, mobile: person.mobile, id_no: person.id_no, birth_date: person.birth_date,
    community_id: person.community_id, skills: skills || some(SKILLS, 1 + Math.floor(rnd() * 3)), willing,
    party_member: ['cpc_member', 'cpc_probationary'].includes(person.political_status),
    limits: { ...DEFAULT_LIMITS }, own_limits: null, last_asked_at: null, user_id, created_at: at || nowIso(), created_by_name: actor,
  }
  volunteers.set(v.id, v)
  const acc = addAccount('person', v.name, v.community_id, v.id)
  v.account_id = acc.id
  return v
}
function volOut(v, detail = false) {
  const min = minutesOf(v.id)
  const h = Math.round((min / 60) * 10) / 10
  const acc = accounts.get(v.account_id)
  const out = {
    id: v.id, person_id: v.person_id, name: v.name, mobile_masked: mask(v.mobile), community_id: v.community_id, community_name: areaName(v.community_id),
    skills: v.skills, willing: v.willing, party_member: v.party_member || [...members.values()].some((m) => m.volunteer_id === v.id),
    hours: h, stars: starsOf(h), account_id: v.account_id, balance: acc?.balance ?? 0,
    limits: effLimits(v), own_limits: v.own_limits, last_asked_at: v.last_asked_at, user_id: v.user_id,
  }
  if (detail) Object.assign(out, { created_at: v.created_at, created_by_name: v.created_by_name, default_limits: v.limits, week_hours: weekHours(v.id) })
  return out
}
function effLimits(v) {
  const o = v.own_limits
  if (!o) return { ...v.limits }
  return { hours_per_week: Math.min(v.limits.hours_per_week, o.hours_per_week), consecutive_days: Math.min(v.limits.consecutive_days, o.consecutive_days), rest_hours: Math.max(v.limits.rest_hours, o.rest_hours) }
}
function isoWeekStart(ms) {
  const d = new Date(shDay(ms) + 'T00:00:00+08:00')
  const dow = (new Date(ms + 8 * HOUR).getUTCDay() + 6) % 7
  return d.getTime() - dow * DAY
}
function shiftsOf(vid, exceptAct) {
  return signups.filter((s) => s.volunteer_id === vid && s.status !== 'cancelled' && s.activity_id !== exceptAct).map((s) => activities.get(s.activity_id)).filter((a) => a && a.status !== 'cancelled')
}
function weekHours(vid) {
  const ws = isoWeekStart(Date.now())
  return Math.round(shiftsOf(vid).filter((a) => new Date(a.starts_at).getTime() >= ws && new Date(a.starts_at).getTime() < ws + 7 * DAY).reduce((s, a) => s + (new Date(a.ends_at) - new Date(a.starts_at)) / HOUR, 0) * 10) / 10
}
function consecutiveDays(vid, extraDay) {
  const days = new Set(shiftsOf(vid).map((a) => shDay(new Date(a.starts_at).getTime())))
  if (extraDay) days.add(extraDay)
  const sorted = [...days].sort()
  let run = 0, longest = 0, prev = null
  for (const d of sorted) { run = prev && addDays(prev, 1) === d ? run + 1 : 1; longest = Math.max(longest, run); prev = d }
  return longest
}
/** The limit check of domain::volunteer::check: the reason (zh, en) when refused. */
function limitCheck(v, act) {
  const L = effLimits(v)
  const s = new Date(act.starts_at).getTime(), e = new Date(act.ends_at).getTime()
  for (const o of shiftsOf(v.id, act.id)) {
    const os = new Date(o.starts_at).getTime(), oe = new Date(o.ends_at).getTime()
    if (s < oe && os < e) return ['与已报名的另一场服务时间重叠', 'It overlaps another shift the volunteer signed up for']
    const gap = oe <= s ? s - oe : os - e
    if (gap < L.rest_hours * HOUR) return [`两次服务之间至少休息 ${L.rest_hours} 小时（这次只隔 ${(gap / HOUR).toFixed(1)} 小时）`, `At least ${L.rest_hours} h of rest between shifts (this leaves ${(gap / HOUR).toFixed(1)} h)`]
  }
  const ws = isoWeekStart(s)
  const wh = shiftsOf(v.id, act.id).filter((a) => isoWeekStart(new Date(a.starts_at).getTime()) === ws).reduce((x, a) => x + (new Date(a.ends_at) - new Date(a.starts_at)) / HOUR, 0) + (e - s) / HOUR
  if (wh > L.hours_per_week + 1e-9) return [`本周服务将达 ${wh.toFixed(1)} 小时，超过每周 ${L.hours_per_week} 小时的上限`, `This week would reach ${wh.toFixed(1)} h, over the limit of ${L.hours_per_week} h a week`]
  const run = consecutiveDays(v.id, shDay(s))
  if (run > L.consecutive_days) return [`将连续服务 ${run} 天，超过连续 ${L.consecutive_days} 天的上限`, `That would be ${run} days in a row, over the limit of ${L.consecutive_days}`]
  return null
}

function addActivity(a) {
  const x = { id: randomUUID(), status: 'open', description: '', skills: [], risky: false, capacity: 20, confirmed_at: null, organiser_name: '张社区', version: 1, created_at: nowIso(), ...a }
  activities.set(x.id, x)
  return x
}
function actOut(a, me) {
  const ss = signups.filter((s) => s.activity_id === a.id && s.status !== 'cancelled')
  const out = {
    id: a.id, kind: a.kind, kind_label: ACT_KINDS[a.kind][EN ? 1 : 0], title: a.title, area_id: a.area_id, area_name: areaName(a.area_id), place: a.place,
    starts_at: a.starts_at, ends_at: a.ends_at, capacity: a.capacity, skills: a.skills, risky: a.risky, status: a.status, description: a.description,
    signed_up: ss.length, checked_in: ss.filter((s) => s.checkin_at).length, checked_out: ss.filter((s) => s.checkout_at).length,
    confirmed_at: a.confirmed_at, organiser_name: a.organiser_name, version: a.version,
  }
  if (me) {
    const v = volOfUser(me)
    const mine = v && ss.find((s) => s.volunteer_id === v.id)
    out.my_status = mine ? (mine.checkout_at ? 'out' : mine.checkin_at ? 'in' : 'signed') : null
  } else out.my_status = null
  return out
}
function signupOut(s) {
  const v = volunteers.get(s.volunteer_id)
  // like the server: status is signed | cancelled; check-in / out times tell the rest
  return { volunteer_id: s.volunteer_id, name: v.name, mobile_masked: mask(v.mobile), via: s.via, status: s.status === 'cancelled' ? 'cancelled' : 'signed', insurer: s.insurer, policy_no: s.policy_no, insured: !!s.policy_no, checkin_at: s.checkin_at, checkout_at: s.checkout_at, minutes: s.minutes }
}
function statusIs(a, st) {
  const now = Date.now()
  if (!st) return true
  if (st === 'upcoming') return a.status === 'open' && new Date(a.starts_at) > now
  if (st === 'past') return a.status === 'open' && new Date(a.ends_at) <= now
  if (st === 'unconfirmed') return a.status === 'open' && new Date(a.ends_at) <= now && !a.confirmed_at
  return a.status === st
}
const live0 = (a) => signups.filter((s) => s.activity_id === a.id && s.status !== 'cancelled')
function clipMinutes(a, s) {
  if (!s.checkin_at || !s.checkout_at) return null
  const st = Math.max(new Date(s.checkin_at).getTime(), new Date(a.starts_at).getTime())
  const en = Math.min(new Date(s.checkout_at).getTime(), new Date(a.ends_at).getTime())
  return Math.max(0, Math.min(480, Math.round((en - st) / 60000)))
}
function ruleOf(areaId, event) {
  for (const a of ancestors(areaId)) {
    const r = rules.find((x) => x.area_id === a.id && x.event === event)
    if (r) return { ...r, inherited_from: a.id }
  }
  const d = EVENTS.find((e) => e[0] === event)
  return { area_id: null, event, points: d[3], cap: d[4], cap_period: d[5], inherited_from: null }
}
function confirmActivity(a, actor = '张社区', at = nowIso()) {
  let hoursN = 0, minutes = 0, absent = 0, points = 0, deducted = 0, postingsN = 0
  for (const s of signups.filter((x) => x.activity_id === a.id && x.status !== 'cancelled')) {
    const v = volunteers.get(s.volunteer_id)
    const acc = accounts.get(v.account_id)
    if (!s.checkin_at) {
      s.status = 'absent'
      absent++
      const age = ageOf(v.birth_date)
      const exempt = ruleOf(a.area_id, 'exempt_over_age').points
      if (age === null || age < exempt) { const r = ruleOf(a.area_id, 'absence'); if (post(acc, -Math.min(r.points, acc.balance), 'deduct', 'absence', `${a.title}：报名未到`, actor, at, { source_kind: 'activity', source_id: a.id })) { points -= r.points; deducted++; postingsN++ } }
      continue
    }
    if (!s.checkout_at) s.checkout_at = a.ends_at
    s.minutes = clipMinutes(a, s)
    s.status = 'confirmed'
    hours.push(hourRow(v.id, { activity_id: a.id, activity_title: a.title, minutes: s.minutes, kind: 'service', created_by_name: actor, at, day: shDay(new Date(a.starts_at).getTime()) }))
    hoursN++
    minutes += s.minutes
    const att = ruleOf(a.area_id, 'attendance').points
    post(acc, att, 'earn', 'attendance', a.title, actor, at, { source_kind: 'activity', source_id: a.id })
    postingsN++
    const hp = Math.min(Math.floor(s.minutes / 60) * ruleOf(a.area_id, 'hour').points, 8)
    if (hp > 0) postingsN++
    if (hp > 0) post(acc, hp, 'earn', 'hour', `${a.title}（${(s.minutes / 60).toFixed(1)} 小时）`, actor, at, { source_kind: 'activity', source_id: a.id })
    points += att + hp
  }
  a.confirmed_at = at
  a.version++
  return { entries: hoursN, minutes, postings: postingsN, absent, deducted, elapsed_ms: 4 }
}

// ------------------------------------------------------------------ seed
function seed_(addUser, addOrg) {
  const comm = [...A.values()].find((a) => a.name === '朝阳社区')
  const hongqi = [...A.values()].find((a) => a.name === '红旗社区')
  const dongfeng = [...A.values()].find((a) => a.name === '东风社区')
  const street = [...A.values()].find((a) => a.name === '先锋街道')
  const grid1 = [...A.values()].find((a) => a.name === '第一网格')
  const grid2 = [...A.values()].find((a) => a.name === '第二网格')
  const orgList = [...ORGS.values()]
  const sc = orgList.find((o) => o.kind === 'street_committee')
  const cb = orgList.find((o) => o.kind === 'community_branch')
  const gb = orgList.find((o) => o.kind === 'grid_branch')
  const hospital = orgList.find((o) => o.name.includes('医院'))
  const school = addOrg(sc, 'unit', '竞秀区实验小学党支部', street, [comm])
  const bank = addOrg(sc, 'unit', '保定银行竞秀支行党支部', street, [comm, hongqi])
  const tax = addOrg(sc, 'unit', '竞秀区税务局第二党支部', street, [])
  const units = [hospital, school, bank, tax]

  // users
  const uShuji = addUser('shuji', '陈书记', 'Demo@2026', [['party_secretary', street]])
  const uDanwei = addUser('danwei', '周联络', 'Demo@2026', [['work_unit_contact', street]])
  uDanwei.unit_org_id = hospital.id
  const uZhiyuan = addUser('zhiyuan', '孙志愿', 'Demo@2026', [['volunteer', comm]])
  void uShuji

  // volunteers: adults of 朝阳社区
  const adults = [...PERSONS.values()].filter((p) => p.status === 'active' && p.community_id === comm.id && ageOf(p.birth_date) >= 18 && ageOf(p.birth_date) <= 78)
  const party = adults.filter((p) => p.political_status === 'cpc_member')
  const others = adults.filter((p) => p.political_status !== 'cpc_member')
  const chosen = [...some(party, Math.min(26, party.length)), ...some(others, 36)]
  const base = Date.now() - 420 * DAY
  chosen.forEach((p, i) => addVolunteer(p, { willing: !chance(0.08), at: new Date(base + i * 5 * DAY).toISOString() }))
  const vols = [...volunteers.values()]
  // the phone user 孙志愿: a volunteer of their own
  const zhPerson = others.find((p) => !chosen.includes(p)) || chosen[0]
  zhPerson.name = '孙志愿'
  const zv = [...volunteers.values()].find((v) => v.person_id === zhPerson.id) || addVolunteer(zhPerson, { skills: ['助老陪护', '摄影'], user_id: uZhiyuan.id })
  zv.name = '孙志愿'
  zv.user_id = uZhiyuan.id
  zv.skills = ['助老陪护', '摄影']
  zv.own_limits = { hours_per_week: 12, consecutive_days: 3, rest_hours: 12 }
  accounts.get(zv.account_id).owner_name = '孙志愿'

  // earlier service hours (before the platform): a spread of star levels
  const spread = [0, 20, 60, 110, 140, 180, 260, 320, 420, 520, 640, 780, 1050, 1200, 1560]
  for (const v of vols) {
    const h = chance(0.35) ? pick(spread.slice(0, 5)) : pick(spread)
    if (h > 0) hours.push(hourRow(v.id, { minutes: h * 60, reason: '平台上线前累计服务时长（据“志愿北京”记录导入）', created_by_name: '系统导入', at: new Date(base).toISOString() }))
  }
  hours.push(hourRow(zv.id, { minutes: 286 * 60, reason: '平台上线前累计服务时长（据“志愿北京”记录导入）', created_by_name: '系统导入', at: new Date(base).toISOString() }))
  hours.push(hourRow(vols[3].id, { minutes: -90, reason: '重复登记，扣回 1.5 小时', created_by_name: '张社区', at: new Date(Date.now() - 20 * DAY).toISOString() }))

  // fund accounts
  const fund = addAccount('fund', '朝阳社区公益积分基金', comm.id)
  addAccount('fund', '红旗社区公益积分基金', hongqi.id)
  // opening balances
  for (const v of [...volunteers.values()]) {
    const acc = accounts.get(v.account_id)
    const n = 10 + Math.floor(rnd() * 180)
    post(acc, n, 'earn', 'hour', '平台上线前服务时长折算积分', '系统导入', new Date(base + DAY).toISOString())
  }
  post(fund, 500, 'earn', null, '辖区企业捐赠积分（保定朝阳物业管理有限公司）', '张社区', new Date(Date.now() - 60 * DAY).toISOString())

  // party members
  const partyVols = vols.filter((v) => v.party_member)
  partyVols.forEach((v, i) => {
    const inService = i % 2 === 1 && i < 20
    const unit = inService ? units[(i >> 1) % units.length] : null
    const m = {
      id: randomUUID(), volunteer_id: v.id, person_id: v.person_id, org_id: inService ? unit.id : i % 3 === 0 ? gb.id : cb.id,
      community_id: i % 7 === 6 ? hongqi.id : comm.id, kind: inService ? 'in_service' : 'community', work_unit_org_id: unit?.id || null,
      joined_on: `${Number(v.birth_date.slice(0, 4)) + 19 + Math.floor(rnd() * Math.max(1, (ageOf(v.birth_date) || 30) - 20))}-0${1 + Math.floor(rnd() * 9)}-01`, status: i === 4 || i === 13 ? 'probationary' : 'full',
      exempt_reason: i === 8 ? '患病，长期住院治疗' : null, version: 1,
    }
    if (m.status === 'probationary') m.joined_on = addDays(shDay(), -200 - i * 10)
    members.set(m.id, m)
  })
  // report-ins: most in-service members reported within the last months, some have expired
  const inSvc = [...members.values()].filter((m) => m.kind === 'in_service')
  inSvc.forEach((m, i) => {
    const v = volunteers.get(m.volunteer_id)
    if (i === 0) return // never reported in
    const ago = i % 4 === 3 ? 230 + i * 3 : 20 + i * 11
    const on = addDays(shDay(), -ago)
    reportIns.push({ id: randomUUID(), member_id: m.id, unit_org_id: null, community_id: m.community_id, reported_on: on, commitment: pick(['每月参加一次社区志愿服务，认领助老陪护岗', '认领楼门长岗位，协助做好垃圾分类宣传', '发挥专业特长，每季度开展一次义诊', '结对帮扶一户困难家庭，每月上门探望']), file_id: null, file_name: null, created_by_name: '张社区', created_at: new Date(on + 'T10:00:00+08:00').toISOString() })
    if (ago < 200) post(accounts.get(v.account_id), 10, 'earn', 'report_in', '到社区报到', '张社区', new Date(on + 'T10:00:00+08:00').toISOString(), { source_kind: 'report_in' })
  })
  reportIns.push({ id: randomUUID(), member_id: null, unit_org_id: hospital.id, community_id: comm.id, reported_on: addDays(shDay(), -75), commitment: '每季度开展一次社区义诊；为辖区独居老人提供家庭医生签约服务', file_id: null, file_name: null, created_by_name: '李街道', created_at: nowIso() })
  reportIns.push({ id: randomUUID(), member_id: null, unit_org_id: school.id, community_id: comm.id, reported_on: addDays(shDay(), -240), commitment: '寒暑假开放操场，组织教师志愿者课业辅导', file_id: null, file_name: null, created_by_name: '李街道', created_at: nowIso() })
  // pairings
  pairings.set(hospital.id, { org_id: hospital.id, community_id: comm.id, since: addDays(shDay(), -400) })
  pairings.set(bank.id, { org_id: bank.id, community_id: hongqi.id, since: addDays(shDay(), -180) })
  pairings.set(gb.id, { org_id: gb.id, community_id: comm.id, since: addDays(shDay(), -700) })
  void dongfeng; void grid2

  // point rules: the street overrides two defaults
  rules.push({ area_id: street.id, event: 'attendance', points: 3, cap: 30, cap_period: 'month' })
  rules.push({ area_id: comm.id, event: 'report_in', points: 10, cap: 20, cap_period: 'year' })

  // activities around today
  const today = shDay()
  const mk = (dayOff, from, to, a) => addActivity({ starts_at: atBj(addDays(today, dayOff), from), ends_at: atBj(addDays(today, dayOff), to), ...a })
  const hh = (d) => String(new Date(Date.now() + d * HOUR + 8 * HOUR).getUTCHours()).padStart(2, '0') + ':00'
  const past = [
    mk(-40, '09:00', '11:30', { kind: 'volunteer', title: '“邻里守望”独居老人探访', area_id: comm.id, place: '朝阳社区各楼栋', capacity: 12, skills: ['助老陪护'], description: '两人一组上门探访独居老人，检查燃气、用电安全，记录老人需求。' }),
    mk(-33, '14:00', '16:00', { kind: 'party_meeting', title: '第一网格党支部党员大会（三会一课）', area_id: grid1.id, place: '朝阳社区党群服务中心二楼会议室', capacity: 30, description: '学习传达上级会议精神，讨论发展预备党员事宜。' }),
    mk(-26, '08:30', '11:30', { kind: 'volunteer', title: '垃圾分类桶前值守', area_id: comm.id, place: '朝阳社区3号楼、5号楼垃圾分类驿站', capacity: 8, skills: ['垃圾分类宣传'], description: '早高峰桶前指导居民分类投放。' }),
    mk(-19, '09:00', '11:00', { kind: 'theme_day', title: '“七一”主题党日：重温入党誓词', area_id: comm.id, place: '朝阳社区党群服务中心', capacity: 40, description: '重温入党誓词，观看党史教育片，开展社区环境清洁。' }),
    mk(-12, '09:00', '12:00', { kind: 'volunteer', title: '义诊进社区：测血压、查血糖', area_id: comm.id, place: '朝阳社区广场', capacity: 10, skills: ['医疗护理'], description: '保定市第一中心医院党员医生现场义诊。', organiser_name: '李街道' }),
    mk(-6, '15:00', '17:00', { kind: 'community_event', title: '社区亲子读书会', area_id: comm.id, place: '朝阳社区图书室', capacity: 15, skills: ['课业辅导'] }),
  ]
  const ongoing = addActivity({ kind: 'volunteer', title: '助餐配送：为高龄老人送午餐', area_id: comm.id, place: '朝阳社区老年餐桌（2号楼底商）', capacity: 10, skills: ['助餐配送', '助老陪护'], starts_at: new Date(Date.now() - 1.5 * HOUR).toISOString(), ends_at: new Date(Date.now() + 1.5 * HOUR).toISOString(), description: '按名单为 80 岁以上老人配送午餐，送达后请老人签字确认。' })
  void hh
  const future = [
    mk(1, '09:00', '11:00', { kind: 'volunteer', title: '理发义剪：银发暖心', area_id: comm.id, place: '朝阳社区党群服务中心一楼', capacity: 6, skills: ['理发'], description: '为辖区 70 岁以上老人免费理发。' }),
    mk(2, '19:00', '21:00', { kind: 'volunteer', title: '夜间防汛巡查', area_id: comm.id, place: '朝阳社区地下车库及低洼路段', capacity: 8, risky: true, skills: ['驾驶'], description: '汛期夜间巡查地库积水、井盖情况。涉及夜间、涉水作业，须先办理人身意外保险。' }),
    mk(3, '14:30', '16:30', { kind: 'party_meeting', title: '朝阳社区党总支党课：基层治理中的党员作用', area_id: comm.id, place: '朝阳社区党群服务中心二楼会议室', capacity: 50 }),
    mk(5, '09:00', '11:30', { kind: 'community_event', title: '“共建美好家园”楼道清理', area_id: grid2.id, place: '第二网格 5号楼、6号楼', capacity: 20, description: '清理楼道堆物，张贴消防安全提示。' }),
    mk(8, '09:30', '11:00', { kind: 'theme_day', title: '主题党日：走进保定市第一中心医院', area_id: street.id, place: '保定市第一中心医院东院区', capacity: 30 }),
    mk(12, '13:30', '17:00', { kind: 'volunteer', title: '反诈宣传进楼门', area_id: comm.id, place: '朝阳社区各楼门', capacity: 16, skills: ['法律咨询'] }),
  ]
  const cancelled = mk(4, '09:00', '11:00', { kind: 'community_event', title: '社区趣味运动会（因天气取消）', area_id: comm.id, place: '朝阳社区广场', capacity: 60 })
  cancelled.status = 'cancelled'

  const pool = vols.filter((v) => v.willing)
  const signupRow = (a, v, via, extra = {}) => { signups.push({ activity_id: a.id, volunteer_id: v.id, via, insurer: null, policy_no: null, checkin_at: null, checkout_at: null, minutes: null, status: 'signed_up', at: new Date(new Date(a.starts_at).getTime() - 3 * DAY).toISOString(), ...extra }); if (!v.last_asked_at || v.last_asked_at < a.starts_at) v.last_asked_at = new Date(new Date(a.starts_at).getTime() - 3 * DAY).toISOString() }
  // past: signed up, checked in/out, confirmed (one left unconfirmed)
  past.forEach((a, i) => {
    const who = some(pool.filter((v) => v.id !== zv.id), Math.min(a.capacity, 4 + Math.floor(rnd() * 6)))
    if (i % 2 === 0) who.push(zv)
    for (const v of who) {
      const st = new Date(a.starts_at).getTime(), en = new Date(a.ends_at).getTime()
      const came = chance(0.88)
      signupRow(a, v, chance(0.3) ? 'assigned' : 'self', came ? { checkin_at: new Date(st - Math.floor(rnd() * 20) * 60000).toISOString(), checkout_at: new Date(en + Math.floor(rnd() * 30 - 10) * 60000).toISOString(), status: 'checked_out' } : {})
    }
    if (i < past.length - 1) confirmActivity(a, a.organiser_name, new Date(new Date(a.ends_at).getTime() + 3 * HOUR).toISOString())
  })
  // ongoing: 7 signed up, 5 checked in, 1 checked out
  const og = some(pool.filter((v) => v.id !== zv.id), 7)
  og.forEach((v, i) => signupRow(ongoing, v, i < 2 ? 'assigned' : 'self', i < 5 ? { checkin_at: new Date(Date.now() - (85 - i * 6) * 60000).toISOString(), status: 'checked_in' } : {}))
  const o0 = signups.find((s) => s.activity_id === ongoing.id && s.checkin_at)
  o0.checkout_at = new Date(Date.now() - 10 * 60000).toISOString(); o0.status = 'checked_out'
  // future
  future.forEach((a, i) => {
    const who = some(pool.filter((v) => v.id !== zv.id), Math.min(a.capacity - 1, 2 + Math.floor(rnd() * 5)))
    for (const v of who) signupRow(a, v, chance(0.25) ? 'assigned' : 'self', a.risky && chance(0.5) ? { insurer: '中国人寿保定分公司', policy_no: 'PICC' + (2026000000 + Math.floor(rnd() * 999999)) } : {})
    if (i === 0 || i === 3) signupRow(a, zv, 'self')
  })
  // a few near their limits: a busy week for two people
  const busy = pool.slice(0, 2)
  for (let d = 0; d < 4; d++) {
    const a = mk(d - (new Date(Date.now() + 8 * HOUR).getUTCDay() + 6) % 7, '08:00', '12:30', { kind: 'volunteer', title: '疫苗接种点引导服务', area_id: comm.id, place: '竞秀区朝阳社区卫生服务站', capacity: 4, skills: ['医疗护理'], organiser_name: '李街道' })
    for (const v of busy) signupRow(a, v, 'assigned')
  }
  // idle: some willing volunteers never asked, or long ago
  for (const v of pool.slice(-6)) { signups.forEach((s) => { if (s.volunteer_id === v.id && new Date(activities.get(s.activity_id).starts_at) > Date.now() - 30 * DAY) s.status = 'cancelled' }); v.last_asked_at = chance(0.5) ? null : new Date(Date.now() - (40 + Math.floor(rnd() * 90)) * DAY).toISOString() }

  // catalogue (爱心超市)
  const cat = [
    ['金龙鱼食用油 1.8L', '调和油，一桶', 120, 18], ['鸡蛋 一盒（15 枚）', '本地散养鸡蛋', 40, 30], ['洗衣液 2kg', '蓝月亮', 80, 12], ['毛巾两条装', '纯棉', 30, 40],
    ['大米 5kg', '东北大米', 150, 6], ['理发券', '合作理发店通用，一次', 20, 100], ['家电清洗一次', '空调/油烟机上门清洗', 200, 3], ['保温杯', '“志愿者”定制款', 60, 0],
  ]
  for (const [name, description, price, stock] of cat) items.set(randomUUID(), { name, description, price, stock, active: stock > 0 || name.includes('保温'), community_id: comm.id, version: 1 })
  for (const [id, it] of items) it.id = id
  items.set('hq1', { id: 'hq1', name: '挂面 1kg', description: '', price: 25, stock: 20, active: true, community_id: hongqi.id, version: 1 })
  const itemList = [...items.values()].filter((x) => x.community_id === comm.id && x.stock > 0)
  for (let i = 0; i < 16; i++) {
    const v = pick(vols), it = pick(itemList), acc = accounts.get(v.account_id)
    if (acc.balance < it.price) continue
    const at = new Date(Date.now() - (1 + Math.floor(rnd() * 50)) * DAY).toISOString()
    const p = post(acc, -it.price, 'redeem', null, `兑换 ${it.name} ×1`, '张社区', at, { source_kind: 'redemption' })
    it.stock--
    const r = { id: randomUUID(), item_id: it.id, account_id: acc.id, qty: 1, points: it.price, at, actor_name: '张社区' }
    p.source_id = r.id
    redemptions.push(r)
  }
  // a donation to the fund
  const donor = vols[5]; const dacc = accounts.get(donor.account_id)
  if (dacc.balance >= 20) { post(dacc, -20, 'transfer_out', null, '转赠社区公益积分基金', donor.name, new Date(Date.now() - 9 * DAY).toISOString()); post(fund, 20, 'transfer_in', null, `${donor.name} 转赠`, donor.name, new Date(Date.now() - 9 * DAY).toISOString()) }
  // a manual posting and its reversal
  const mv = vols[2]; const macc = accounts.get(mv.account_id)
  const wrong = post(macc, 30, 'earn', null, '协助社区疫苗接种点引导（补录）', '张社区', new Date(Date.now() - 15 * DAY).toISOString())
  post(macc, -30, 'reversal', null, '冲正：与活动工时重复计分', '李街道', new Date(Date.now() - 14 * DAY).toISOString(), { reverses_id: wrong.id })

  // reviews and ratings for last year
  const ly = year() - 1
  for (const m of members.values()) reviews.set(`${m.id}:${ly}`, 60 + Math.floor(rnd() * 40))
  computeRatings(street.id, ly)
  // commendations
  const top = vols.filter((v) => starsOf(minutesOf(v.id) / 60) >= 3)
  top.slice(0, 4).forEach((v, i) => commendations.push({ id: randomUUID(), volunteer_id: v.id, title: i % 2 ? '优秀志愿者' : '星级志愿者', level: i === 0 ? '区级' : '街道级', star_level: Math.max(1, starsOf(minutesOf(v.id) / 60) - (i === 1 ? 1 : 0)), year: ly, awarded_on: `${ly}-12-05`, reason: '长期坚持社区志愿服务，服务时长位居街道前列。', created_by_name: '李街道', created_at: nowIso() }))
  // certificates
  for (const v of top.slice(0, 3)) issueCert(v, '李街道')
}
function issueCert(v, actor) {
  const ent = hours.filter((h) => h.volunteer_id === v.id && h.activity_title)
  const titles = [...new Set(ent.map((h) => h.activity_title))]
  const c = {
    id: randomUUID(), number: `ZYZM-${year()}-${String(++certSeq).padStart(6, '0')}`, volunteer_id: v.id, name: v.name, id_masked: maskId(v.id_no),
    hours: Math.round((minutesOf(v.id) / 60) * 10) / 10, content: titles.length ? `参加${titles.slice(0, 4).join('、')}等志愿服务活动` : '参加社区志愿服务活动',
    period_from: shDay(new Date(v.created_at).getTime()), period_to: shDay(), issuer: '先锋街道朝阳社区居民委员会', issued_on: shDay(), created_by_name: actor, created_at: nowIso(),
  }
  certificates.unshift(c)
  return c
}
function computeRatings(areaId, y) {
  const t0 = Date.now()
  const byGrade = { excellent: 0, qualified: 0, basic: 0, unqualified: 0 }
  let rated = 0, cappedN = 0
  for (const m of members.values()) {
    if (!under(m.community_id, areaId)) continue
    const v = volunteers.get(m.volunteer_id)
    const earned = postings.filter((p) => p.account_id === v.account_id && p.amount > 0 && ['earn'].includes(p.kind) && p.at.startsWith(String(y)) || (p.account_id === v.account_id && p.kind === 'earn' && y < year())).reduce((s, p) => s + p.amount, 0)
    const pts = y < year() ? Math.min(140, Math.round(earned * 0.6)) : earned
    const review = reviews.get(`${m.id}:${y}`) ?? null
    const reported = reportIns.some((r) => r.member_id === m.id && r.reported_on <= `${y}-12-31` && addDays(r.reported_on, 182) >= `${y}-01-01`)
    const exempt = !!m.exempt_reason || (ageOf(v.birth_date) ?? 0) >= 70
    let score = Math.round((0.5 * Math.min(pts / 100, 1) * 100 + 0.5 * (review ?? 0)) * 10) / 10
    let grade = score >= 90 ? 'excellent' : score >= 75 ? 'qualified' : score >= 60 ? 'basic' : 'unqualified'
    let capped = false
    if (m.kind === 'in_service' && !reported && !exempt && (grade === 'excellent' || grade === 'qualified')) { grade = 'basic'; capped = true; cappedN++ }
    ratings.set(`${m.id}:${y}`, { member_id: m.id, year: y, points: pts, review_score: review, reported_in: reported, exempt, score, grade, capped })
    byGrade[grade]++
    rated++
  }
  return { rated, by_grade: byGrade, capped: cappedN, elapsed_ms: Date.now() - t0 + 3 }
}
const volOfUser = (me) => [...volunteers.values()].find((v) => v.user_id === me.id)
function memberOut(m) {
  const v = volunteers.get(m.volunteer_id)
  const last = reportIns.filter((r) => r.member_id === m.id).sort((a, b) => b.reported_on.localeCompare(a.reported_on))[0]
  const valid = last ? addDays(last.reported_on, 182) : null
  return {
    id: m.id, volunteer_id: m.volunteer_id, person_id: m.person_id, name: v.name, org_id: m.org_id, org_name: orgName(m.org_id), community_id: m.community_id, community_name: areaName(m.community_id),
    kind: m.kind, work_unit_org_id: m.work_unit_org_id, work_unit_name: m.work_unit_org_id ? orgName(m.work_unit_org_id) : null, joined_on: m.joined_on, status: m.status,
    exempt_reason: m.exempt_reason, age: ageOf(v.birth_date), last_reported_on: last?.reported_on || null, valid_until: valid,
    overdue: m.kind === 'in_service' && !m.exempt_reason && (!valid || valid < shDay()), version: m.version,
  }
}
function reportOut(r) {
  const m = r.member_id && members.get(r.member_id)
  return { id: r.id, member_id: r.member_id, member_name: m ? volunteers.get(m.volunteer_id).name : null, unit_org_id: r.unit_org_id || (m && m.work_unit_org_id) || null, unit_name: r.unit_org_id ? orgName(r.unit_org_id) : m?.work_unit_org_id ? orgName(m.work_unit_org_id) : null, community_id: r.community_id, community_name: areaName(r.community_id), reported_on: r.reported_on, commitment: r.commitment, file_id: r.file_id, file_name: r.file_name, valid_until: addDays(r.reported_on, 182), created_by_name: r.created_by_name, created_at: r.created_at }
}
function postingOut(p) {
  return { ...p, kind_label: POSTING_KINDS[p.kind][EN ? 1 : 0], event_label: p.event ? EVENTS.find((e) => e[0] === p.event)?.[EN ? 2 : 1] : null, reversed: postings.some((x) => x.reverses_id === p.id) }
}
function accountOut(a) {
  return { id: a.id, kind: a.kind, owner_name: a.owner_name, community_id: a.community_id, community_name: areaName(a.community_id), volunteer_id: a.volunteer_id, balance: a.balance, updated_at: a.updated_at }
}
function pseudoQr(text) {
  // not a real QR code: a stable pattern from the token's hash with the three finder squares
  const n = 29, cell = 10
  const h = createHash('sha256').update(text).digest()
  let bits = ''
  for (let i = 0; bits.length < n * n; i++) bits += createHash('sha256').update(h).update(String(i)).digest().reduce((s, b) => s + b.toString(2).padStart(8, '0'), '')
  let rects = ''
  const finder = (x, y) => x < 8 && y < 8 || x >= n - 8 && y < 8 || x < 8 && y >= n - 8
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    if (finder(x, y)) continue
    if (bits[y * n + x] === '1') rects += `<rect x="${(x + 2) * cell}" y="${(y + 2) * cell}" width="${cell}" height="${cell}"/>`
  }
  const fp = (x, y) => `<rect x="${(x + 2) * cell}" y="${(y + 2) * cell}" width="${7 * cell}" height="${7 * cell}"/><rect x="${(x + 3) * cell}" y="${(y + 3) * cell}" width="${5 * cell}" height="${5 * cell}" fill="#fff"/><rect x="${(x + 4) * cell}" y="${(y + 4) * cell}" width="${3 * cell}" height="${3 * cell}"/>`
  const size = (n + 4) * cell
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges"><rect width="${size}" height="${size}" fill="#fff"/><g fill="#000">${fp(0, 0)}${fp(n - 7, 0)}${fp(0, n - 7)}${rects}</g></svg>`
}

export function initService({ areas, users, addUser, orgs, addOrg, persons }) {
  A = areas
  U = users
  ORGS = orgs
  PERSONS = persons
  seed_(addUser, addOrg)
}

let EN = false
function paged(url, all) {
  const page = Math.max(1, Number(url.searchParams.get('page') || 1))
  const size = Math.min(200, Math.max(1, Number(url.searchParams.get('page_size') || 20)))
  return { items: all.slice((page - 1) * size, page * size), total: all.length, page, page_size: size }
}

// ------------------------------------------------------------------ routes
// Returns true when the route was handled.
export function serviceApi({ req, res, url, p, m, body, me, send, err, log }) {
  const RE = /^\/(volunteers|party-members|report-ins|pairings|activities|attendance|points|catalog|redemptions|stars|party-ratings|party-reviews|commendations|certificates|work-unit|work-units|me\/volunteer|me\/postings|me\/certificate|public\/certificates)(\/|$)/
  if (!RE.test(p)) return false
  EN = (req.headers['accept-language'] || '').startsWith('en')
  const T = (zh, e) => (EN ? e : zh)
  const q = (k) => url.searchParams.get(k) || ''
  const ok = (status, b) => (send(res, status, b), true)
  const nf = (zh = '未找到', e = 'Not found') => (err(res, req, 404, 'not_found', zh, e), true)
  const bad = (fields, zh = '输入有误，请检查标出的字段', e = 'Invalid input; check the marked fields') => (err(res, req, 422, 'validation', zh, e, fields), true)
  const refuse = (code, zh, e, fields) => (err(res, req, 422, code, zh, e, fields || {}), true)
  const forbid = () => (err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this'), true)
  const conflict = () => (err(res, req, 409, 'conflict', '已被他人修改，请刷新后重试', 'Changed by someone else; reload and try again'), true)
  let mm
  // public certificate check (no sign-in needed: server.mjs lets this through)
  if ((mm = p.match(/^\/public\/certificates\/([^/]+)$/)) && m === 'GET') {
    const c = certificates.find((x) => x.number === decodeURIComponent(mm[1]).trim().toUpperCase())
    if (!c) return nf('没有这个编号的志愿服务记录证明', 'No certificate with this number')
    // like the server: the public answer masks the name and the ID harder, and says whether it is valid
    const idm = c.id_masked ? c.id_masked[0] + '*'.repeat(c.id_masked.length - 2) + c.id_masked.slice(-1) : null
    return ok(200, { number: c.number, name: c.name.slice(0, 1) + '*'.repeat(Math.max(1, c.name.length - 1)), id_masked: idm, hours: c.hours, content: c.content, issuer: c.issuer, issued_on: c.issued_on, valid: true })
  }
  if (!me) return (err(res, req, 401, 'auth.required', '请先登录', 'Please sign in'), true)
  const roles = legacyRoles(me, 'service')
  const has = (...r) => r.some((x) => roles.has(x))
  const staff = has('system_admin', 'street_admin', 'community_worker', 'party_secretary', 'grid_worker')
  const writer = has('system_admin', 'street_admin', 'community_worker', 'party_secretary')
  const areaQ = q('area_id')
  const inArea = (id) => under(id, areaQ)
  const name = me.display_name
  // the volunteer's own limits: each no looser than the defaults (people.rs own_limits_values); null clears
  function setOwnLimits(v, L) {
    if (!L) { v.own_limits = null; return null }
    const D = DEFAULT_LIMITS, f = {}
    if (!(L.hours_per_week >= 1 && L.hours_per_week <= D.hours_per_week)) f['limits.hours_per_week'] = T(`每周时长应在 1–${D.hours_per_week} 小时之间`, `Hours per week from 1 to ${D.hours_per_week}`)
    if (!(Number.isInteger(L.consecutive_days) && L.consecutive_days >= 1 && L.consecutive_days <= D.consecutive_days)) f['limits.consecutive_days'] = T(`连续天数应在 1–${D.consecutive_days} 天之间`, `Consecutive days from 1 to ${D.consecutive_days}`)
    if (!(L.rest_hours >= D.rest_hours && L.rest_hours <= 72)) f['limits.rest_hours'] = T(`两次服务间休息应在 ${D.rest_hours}–72 小时之间`, `Rest between shifts from ${D.rest_hours} to 72 hours`)
    if (Object.keys(f).length) return f
    v.own_limits = { hours_per_week: L.hours_per_week, consecutive_days: L.consecutive_days, rest_hours: L.rest_hours }
    return null
  }


  // ---- the volunteer's phone ----
  if (p.startsWith('/me/') || p === '/attendance/scan' || /^\/activities\/[^/]+\/signup$/.test(p) || (p === '/catalog' && !staff) || (/^\/catalog\/[^/]+\/redeem$/.test(p) && !staff)) {
    const v = volOfUser(me)
    if (!v) return refuse('volunteer.not_linked', '您的账号还没有关联志愿者档案，请联系社区登记', 'Your account is not linked to a volunteer record; ask the community to register you')
    const acc = accounts.get(v.account_id)
    if (p === '/me/volunteer' && m === 'GET') {
      const vo = volOut(v, true)
      const mineIds = new Set(signups.filter((s) => s.volunteer_id === v.id && s.status !== 'cancelled').map((s) => s.activity_id))
      const upcoming = [...activities.values()].filter((a) => mineIds.has(a.id) && a.status === 'open' && new Date(a.ends_at) > Date.now() - 6 * HOUR).sort((a, b) => a.starts_at.localeCompare(b.starts_at)).map((a) => actOut(a, me))
      const open = [...activities.values()].filter((a) => !mineIds.has(a.id) && a.status === 'open' && new Date(a.starts_at) > Date.now() && ['volunteer', 'community_event'].includes(a.kind)).sort((a, b) => a.starts_at.localeCompare(b.starts_at)).map((a) => actOut(a, me))
      const h = vo.hours
      // like the server: the hours still needed for the next star
      const next = STAR_HOURS.find((x) => x > h)
      return ok(200, { volunteer: vo, next_star_hours: next == null ? null : Math.ceil((next - h) * 10) / 10, week_hours: weekHours(v.id), upcoming, open, certificates: certificates.filter((c) => c.volunteer_id === v.id), recent_postings: postings.filter((x) => x.account_id === acc.id).slice(-5).reverse().map(postingOut) })
    }
    if (p === '/me/volunteer/limits' && m === 'PATCH') {
      const e = setOwnLimits(v, body.__null ? null : body)
      if (e) return bad(e)
      return ok(200, volOut(v))
    }
    if (p === '/me/postings' && m === 'GET') return ok(200, paged(url, postings.filter((x) => x.account_id === acc.id).slice().reverse().map(postingOut)))
    if (p === '/me/certificate' && m === 'POST') {
      if (minutesOf(v.id) <= 0) return refuse('certificate.no_hours', '还没有服务时长，暂不能开具证明', 'No service hours yet')
      return ok(201, issueCert(v, v.name))
    }
    if (p === '/catalog' && m === 'GET') return ok(200, [...items.values()].filter((x) => x.community_id === v.community_id && x.active).map((x) => ({ ...x, community_name: areaName(x.community_id) })))
    if ((mm = p.match(/^\/catalog\/([^/]+)\/redeem$/)) && m === 'POST') return redeem(items.get(mm[1]), acc, body.qty)
    if ((mm = p.match(/^\/activities\/([^/]+)\/signup$/))) {
      const a = activities.get(mm[1])
      if (!a) return nf()
      const s = signups.find((x) => x.activity_id === a.id && x.volunteer_id === v.id && x.status !== 'cancelled')
      if (m === 'POST') {
        if (a.status !== 'open') return refuse('activity.cancelled', '活动已取消', 'The activity was cancelled')
        if (new Date(a.starts_at) < Date.now()) return refuse('activity.started', '活动已开始，不能再报名', 'The activity has started')
        if (s) return refuse('signup.exists', '您已报名这场活动', 'You have signed up already')
        if (signups.filter((x) => x.activity_id === a.id && x.status !== 'cancelled').length >= a.capacity) return refuse('signup.full', `名额已满（${a.capacity} 人）`, `The activity is full (${a.capacity})`)
        const why = limitCheck(v, a)
        if (why) return refuse('volunteer.limit', why[0], why[1])
        signups.push({ activity_id: a.id, volunteer_id: v.id, via: 'self', insurer: null, policy_no: null, checkin_at: null, checkout_at: null, minutes: null, status: 'signed_up', at: nowIso() })
        v.last_asked_at = nowIso()
        return ok(200, actOut(a, me))
      }
      if (m === 'DELETE') {
        if (!s) return nf('您没有报名这场活动', 'You have not signed up')
        if (s.checkin_at) return refuse('signup.checked_in', '已签到，不能取消报名', 'Already checked in')
        s.status = 'cancelled'
        return ok(200, actOut(a, me))
      }
    }
    if (p === '/attendance/scan' && m === 'POST') {
      const tok = String(body.token || '').trim()
      let dec
      try { dec = JSON.parse(Buffer.from(tok.split('.')[0], 'base64url').toString()) } catch { dec = null }
      if (!dec || !tok.includes('.') || createHash('sha256').update(tok.split('.')[0] + 'mock-key').digest('base64url').slice(0, 16) !== tok.split('.')[1]) return (err(res, req, 400, 'attendance.bad_token', '签到码无效，请重新扫码', 'The code is not valid; scan again'), true)
      if (dec.exp < Date.now()) return refuse('attendance.expired', '签到码已过期，请扫描屏幕上的最新二维码', 'The code has expired; scan the current one on the screen')
      const a = activities.get(dec.a)
      if (!a || a.status !== 'open') return refuse('activity.cancelled', '活动已取消', 'The activity was cancelled')
      let s = signups.find((x) => x.activity_id === a.id && x.volunteer_id === v.id && x.status !== 'cancelled')
      if (!s && dec.d === 'out') return refuse('attendance.not_signed_up', `您没有在“${a.title}”签到，不能签退`, `You have not checked in to "${a.title}"`)
      if (!s) {
        // a walk-in: signed up on the spot when the limits and the capacity allow
        if (live0(a).length >= a.capacity) return refuse('signup.full', `名额已满（${a.capacity} 人），请联系组织者`, `The activity is full (${a.capacity}); ask the organiser`)
        const why = limitCheck(v, a)
        if (why) return refuse('volunteer.limit', why[0], why[1])
        s = { activity_id: a.id, volunteer_id: v.id, via: 'self', insurer: null, policy_no: null, checkin_at: null, checkout_at: null, minutes: null, status: 'signed_up', at: nowIso() }
        signups.push(s)
      }
      if (dec.d === 'in') {
        if (s.checkin_at) return refuse('attendance.double', `您已于 ${new Date(s.checkin_at).toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false })} 签到，无需重复签到`, 'You have checked in already')
        if (a.risky && !s.policy_no) return refuse('attendance.uninsured', '这是有风险的活动，组织者为您登记保险后才能签到', 'This activity needs insurance: ask the organiser to record yours first')
        s.checkin_at = nowIso(); s.status = 'checked_in'
        return ok(200, { activity_id: a.id, activity_title: a.title, volunteer_id: v.id, name: v.name, direction: 'in', at: s.checkin_at, minutes: null })
      }
      if (!s.checkin_at) return refuse('attendance.not_checked_in', '您还没有签到，不能签退', 'You have not checked in')
      if (s.checkout_at) return refuse('attendance.double', '您已签退', 'You have checked out already')
      s.checkout_at = nowIso(); s.status = 'checked_out'; s.minutes = clipMinutes(a, s)
      return ok(200, { activity_id: a.id, activity_title: a.title, volunteer_id: v.id, name: v.name, direction: 'out', at: s.checkout_at, minutes: s.minutes })
    }
    return nf()
  }

  // ---- work-unit portal ----
  if (p.startsWith('/work-unit/')) {
    const unitId = me.unit_org_id || (has('system_admin', 'street_admin') && ORGS.get(q('org_id')) ? q('org_id') : null)
    if (!unitId) return forbid()
    const y = Number(q('year') || year())
    const mine = [...members.values()].filter((x) => x.work_unit_org_id === unitId)
    const row = (x) => {
      const mo = memberOut(x), v = volunteers.get(x.volunteer_id), r = ratings.get(`${x.id}:${y}`)
      const acts = signups.filter((s) => s.volunteer_id === v.id && s.status === 'confirmed' && activities.get(s.activity_id).starts_at.startsWith(String(y)))
      return { member_id: x.id, name: v.name, community_name: mo.community_name, reported_in: !!mo.valid_until && mo.valid_until >= `${y}-01-01`, last_reported_on: mo.last_reported_on, valid_until: mo.valid_until, activities: acts.length, hours: Math.round(acts.reduce((s, a) => s + (a.minutes || 0), 0) / 6) / 10, points: postings.filter((pp) => pp.account_id === v.account_id && pp.amount > 0 && pp.at.startsWith(String(y))).reduce((s, pp) => s + pp.amount, 0), balance: accounts.get(v.account_id).balance, grade: r?.grade || null, grade_label: r ? GRADES[r.grade][EN ? 1 : 0] : null }
    }
    if (p === '/work-unit/assessment' && m === 'GET') return ok(200, { unit: { id: unitId, name: orgName(unitId) }, year: y, members: mine.map(row) })
    const fmt = q('format') === 'pdf' ? 'pdf' : 'xlsx'
    const file = (title, fname) => {
      // a tiny stand-in file (not a real workbook/PDF): the console only saves it
      const text = fmt === 'pdf' ? `%PDF-1.4\n% mock ${title}\n%%EOF\n` : `mock xlsx: ${title}`
      res.writeHead(200, { 'content-type': fmt === 'pdf' ? 'application/pdf' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'content-disposition': `attachment; filename="sheet.${fmt}"; filename*=UTF-8''${encodeURIComponent(fname + '.' + fmt)}` })
      res.end(text)
      return true
    }
    if (p === '/work-unit/sheet' && m === 'GET') return file(orgName(unitId), `${orgName(unitId)}-${y}年度党员社区表现`)
    if ((mm = p.match(/^\/work-unit\/members\/([^/]+)\/sheet$/)) && m === 'GET') {
      const x = members.get(mm[1])
      if (!x || x.work_unit_org_id !== unitId) return nf()
      return file(volunteers.get(x.volunteer_id).name, `${volunteers.get(x.volunteer_id).name}-${y}年度社区表现`)
    }
    return nf()
  }
  if (!staff) return forbid()

  // ---- volunteers ----
  if (p === '/volunteers' && m === 'GET') {
    const s = q('q').trim()
    const all = [...volunteers.values()].filter((v) => inArea(v.community_id) && (!s || v.name.includes(s) || v.skills.some((k) => k.includes(s)) || v.mobile === s)).sort((a, b) => b.created_at.localeCompare(a.created_at)).map((v) => volOut(v))
    return ok(200, paged(url, all))
  }
  if (p === '/volunteers' && m === 'POST') {
    if (!writer) return forbid()
    const person = PERSONS.get(body.person_id)
    if (!person) return bad({ person_id: T('请选择一位居民', 'Pick a resident') })
    if ([...volunteers.values()].some((v) => v.person_id === person.id)) return (err(res, req, 409, 'volunteer.exists', `${person.name} 已经是志愿者`, `${person.name} is a volunteer already`, { person_id: T('已登记为志愿者', 'Already a volunteer') }), true)
    if (!Array.isArray(body.skills)) return bad({ skills: T('格式不对', 'Must be a list') })
    const v = addVolunteer(person, { skills: body.skills, willing: body.willing !== false, actor: name })
    log(req, me, 'volunteer.create', 'volunteer', v.id)
    return ok(201, volOut(v, true))
  }
  if (p === '/volunteers/load' && m === 'GET') {
    const near = [], idle = []
    for (const v of volunteers.values()) {
      if (!inArea(v.community_id)) continue
      const L = effLimits(v), wh = weekHours(v.id), cd = consecutiveDays(v.id)
      const reasons = []
      if (wh >= 0.8 * L.hours_per_week) reasons.push(T(`本周已 ${wh} 小时（上限 ${L.hours_per_week}）`, `${wh} h this week (limit ${L.hours_per_week})`))
      if (cd >= L.consecutive_days) reasons.push(T(`已连续 ${cd} 天（上限 ${L.consecutive_days}）`, `${cd} days in a row (limit ${L.consecutive_days})`))
      if (reasons.length) near.push({ volunteer_id: v.id, name: v.name, community_name: areaName(v.community_id), week_hours: wh, hours_per_week: L.hours_per_week, consecutive_days: cd, consecutive_limit: L.consecutive_days, reason: reasons.join('；') })
      const days = v.last_asked_at ? Math.floor((Date.now() - new Date(v.last_asked_at)) / DAY) : null
      if (v.willing && (days === null || days >= 30)) idle.push({ volunteer_id: v.id, name: v.name, community_name: areaName(v.community_id), last_asked_at: v.last_asked_at, days_idle: days, skills: v.skills })
    }
    idle.sort((a, b) => (b.days_idle ?? 9999) - (a.days_idle ?? 9999))
    return ok(200, { near_limits: near, idle, idle_days: 30 })
  }
  if ((mm = p.match(/^\/volunteers\/([^/]+)(\/hours)?$/))) {
    const v = volunteers.get(mm[1])
    if (!v) return nf()
    if (mm[2] && m === 'GET') return ok(200, hours.filter((h) => h.volunteer_id === v.id).slice().sort((a, b) => b.day.localeCompare(a.day) || b.created_at.localeCompare(a.created_at)))
    if (mm[2] && m === 'POST') {
      if (!writer) return forbid()
      const f = {}
      if (!Number.isInteger(body.minutes) || body.minutes === 0) f.minutes = T('应为非零的整数分钟', 'A whole, non-zero number of minutes')
      if (body.day && !/^\d{4}-\d{2}-\d{2}$/.test(body.day)) f.day = T('日期格式应为 YYYY-MM-DD', 'A date as YYYY-MM-DD')
      else if (Math.abs(body.minutes) > 24 * 60) f.minutes = T('一次更正不超过 24 小时', 'At most 24 h per correction')
      if (!String(body.reason || '').trim()) f.reason = T('请写明更正原因', 'Give the reason')
      if (Object.keys(f).length) return bad(f)
      if (minutesOf(v.id) + body.minutes < 0) return refuse('hours.negative', '扣减后总时长将小于 0', 'The total would go below zero', { minutes: T('超过现有时长', 'More than the recorded hours') })
      hours.push(hourRow(v.id, { activity_id: body.activity_id, minutes: body.minutes, reason: body.reason.trim(), created_by_name: name, day: body.day }))
      log(req, me, 'service_hours.correct', 'volunteer', v.id)
      return ok(201, hours.filter((x) => x.volunteer_id === v.id).slice().sort((a, b) => b.created_at.localeCompare(a.created_at)))
    }
    if (m === 'GET') { log(req, me, 'volunteer.read', 'volunteer', v.id); return ok(200, volOut(v, true)) }
    if (m === 'PATCH') {
      if (!writer) return forbid()
      if ('limits' in body) {
        const e = setOwnLimits(v, body.limits)
        if (e) return bad(e)
      }
      if (Array.isArray(body.skills)) v.skills = body.skills
      if (typeof body.willing === 'boolean') v.willing = body.willing
      return ok(200, volOut(v, true))
    }
  }

  // ---- party members ----
  if (p === '/party-members' && m === 'GET') {
    const s = q('q').trim()
    const all = [...members.values()].map(memberOut).filter((x) => inArea(x.community_id) && (!q('kind') || x.kind === q('kind')) && (!q('status') || x.status === q('status')) && (!s || x.name.includes(s) || (x.work_unit_name || '').includes(s) || x.org_name.includes(s)))
    return ok(200, paged(url, all))
  }
  if (p === '/party-members' && m === 'POST') {
    if (!writer) return forbid()
    const f = {}
    const person = PERSONS.get(body.person_id)
    if (!person) f.person_id = T('请选择一位居民', 'Pick a resident')
    if (!ORGS.get(body.org_id)) f.org_id = T('请选择所在党组织', 'Pick the party organisation')
    if (!['community', 'in_service'].includes(body.kind)) f.kind = T('请选择类型', 'Pick the kind')
    if (body.kind === 'in_service' && !ORGS.get(body.work_unit_org_id)) f.work_unit_org_id = T('在职党员须选择工作单位党组织', 'An in-service member needs the work unit')
    if (!/^\d{4}-\d{2}-\d{2}$/.test(body.joined_on || '')) f.joined_on = T('请选择入党日期', 'Pick the joining date')
    else if (body.joined_on > shDay()) f.joined_on = T('不能晚于今天', 'Not after today')
    if (!['full', 'probationary'].includes(body.status)) f.status = T('请选择正式或预备', 'Pick full or probationary')
    if (Object.keys(f).length) return bad(f)
    if ([...members.values()].some((x) => x.person_id === person.id)) return (err(res, req, 409, 'party_member.exists', `${person.name} 已在党员名册中`, `${person.name} is on the roll already`, { person_id: T('已在名册中', 'Already on the roll') }), true)
    let v = [...volunteers.values()].find((x) => x.person_id === person.id)
    if (!v) v = addVolunteer(person, { skills: [], actor: name })
    v.party_member = true
    const x = { id: randomUUID(), volunteer_id: v.id, person_id: person.id, org_id: body.org_id, community_id: body.community_id || person.community_id, kind: body.kind, work_unit_org_id: body.kind === 'in_service' ? body.work_unit_org_id : null, joined_on: body.joined_on, status: body.status, exempt_reason: null, version: 1 }
    members.set(x.id, x)
    return ok(201, memberOut(x))
  }
  if ((mm = p.match(/^\/party-members\/([^/]+)$/)) && m === 'PATCH') {
    if (!writer) return forbid()
    const x = members.get(mm[1])
    if (!x) return nf()
    if (body.version !== x.version) return conflict()
    if ('status' in body) { if (!['full', 'probationary'].includes(body.status)) return bad({ status: T('无效的状态', 'Unknown status') }); x.status = body.status }
    if ('exempt_reason' in body) x.exempt_reason = body.exempt_reason ? String(body.exempt_reason).trim() || null : null
    x.version++
    return ok(200, memberOut(x))
  }

  // ---- report-ins, pairings ----
  if (p === '/report-ins' && m === 'GET') return ok(200, paged(url, reportIns.map(reportOut).filter((r) => inArea(r.community_id)).sort((a, b) => b.reported_on.localeCompare(a.reported_on))))
  if (p === '/report-ins' && m === 'POST') {
    if (!writer) return forbid()
    const f = {}
    if (!body.member_id && !body.unit_org_id) f.member_id = T('请选择报到的党员或单位党组织', 'Pick the member or the unit organisation')
    if (body.member_id && !members.get(body.member_id)) f.member_id = T('没有这名党员', 'No such member')
    if (body.unit_org_id && !ORGS.get(body.unit_org_id)) f.unit_org_id = T('没有这个党组织', 'No such organisation')
    if (!A.get(body.community_id) || A.get(body.community_id).kind !== 'community') f.community_id = T('请选择报到的社区', 'Pick the community')
    if (!/^\d{4}-\d{2}-\d{2}$/.test(body.reported_on || '')) f.reported_on = T('请选择报到日期', 'Pick the date')
    else if (body.reported_on > shDay()) f.reported_on = T('不能晚于今天', 'Not after today')
    if (!String(body.commitment || '').trim()) f.commitment = T('请填写承诺事项', 'Write the commitment')
    if (Object.keys(f).length) return bad(f)
    const r = { id: randomUUID(), member_id: body.member_id || null, unit_org_id: body.member_id ? null : body.unit_org_id, community_id: body.community_id, reported_on: body.reported_on, commitment: body.commitment.trim(), file_id: body.file_id || null, file_name: body.file_id ? '报到回执.jpg' : null, created_by_name: name, created_at: nowIso() }
    reportIns.push(r)
    if (r.member_id) { const x = members.get(r.member_id); const v = volunteers.get(x.volunteer_id); post(accounts.get(v.account_id), ruleOf(r.community_id, 'report_in').points, 'earn', 'report_in', '到社区报到', name, nowIso(), { source_kind: 'report_in', source_id: r.id }) }
    return ok(201, reportOut(r))
  }
  if (p === '/report-ins/overdue' && m === 'GET') {
    const out = []
    for (const x of members.values()) {
      const mo = memberOut(x)
      if (!mo.overdue || !inArea(mo.community_id)) continue
      out.push({ member_id: x.id, unit_org_id: null, name: mo.name, work_unit_name: mo.work_unit_name, community_name: mo.community_name, last_reported_on: mo.last_reported_on, valid_until: mo.valid_until, days_overdue: mo.valid_until ? Math.round((new Date(shDay()) - new Date(mo.valid_until)) / DAY) : null })
    }
    for (const o of [...ORGS.values()].filter((o) => o.kind === 'unit')) {
      const last = reportIns.filter((r) => r.unit_org_id === o.id).sort((a, b) => b.reported_on.localeCompare(a.reported_on))[0]
      const valid = last ? addDays(last.reported_on, 182) : null
      if (valid && valid >= shDay()) continue
      out.push({ member_id: null, unit_org_id: o.id, name: o.name, work_unit_name: o.name, community_name: last ? areaName(last.community_id) : null, last_reported_on: last?.reported_on || null, valid_until: valid, days_overdue: valid ? Math.round((new Date(shDay()) - new Date(valid)) / DAY) : null })
    }
    return ok(200, out.sort((a, b) => (b.days_overdue ?? 99999) - (a.days_overdue ?? 99999)))
  }
  if (p === '/pairings' && m === 'GET') return ok(200, [...pairings.values()].filter((x) => inArea(x.community_id)).map((x) => ({ ...x, org_name: orgName(x.org_id), community_name: areaName(x.community_id) })))
  if (p === '/pairings' && m === 'PUT') {
    if (!writer) return forbid()
    const f = {}
    if (!ORGS.get(body.org_id)) f.org_id = T('请选择党组织', 'Pick the organisation')
    if (!A.get(body.community_id) || A.get(body.community_id).kind !== 'community') f.community_id = T('请选择社区', 'Pick the community')
    if (Object.keys(f).length) return bad(f)
    const x = { org_id: body.org_id, community_id: body.community_id, since: shDay() }
    pairings.set(body.org_id, x)
    return ok(200, { ...x, org_name: orgName(x.org_id), community_name: areaName(x.community_id) })
  }

  // ---- activities ----
  if (p === '/activities' && m === 'GET') {
    const from = q('from'), to = q('to')
    const all = [...activities.values()].filter((a) => inArea(a.area_id) && (!q('kind') || a.kind === q('kind')) && statusIs(a, q('status')) && (!from || a.ends_at >= from) && (!to || a.starts_at < to)).sort((a, b) => b.starts_at.localeCompare(a.starts_at)).map((a) => actOut(a))
    return ok(200, paged(url, all))
  }
  if (p === '/activities' && m === 'POST') {
    if (!writer) return forbid()
    const f = {}
    if (!ACT_KINDS[body.kind]) f.kind = T('请选择活动类型', 'Pick the kind')
    if (!String(body.title || '').trim()) f.title = T('请填写活动名称', 'Give a title')
    if (!A.get(body.area_id)) f.area_id = T('请选择区域', 'Pick the area')
    if (!String(body.place || '').trim()) f.place = T('请填写地点', 'Give the place')
    if (!body.starts_at) f.starts_at = T('请选择开始时间', 'Pick the start')
    if (!body.ends_at) f.ends_at = T('请选择结束时间', 'Pick the end')
    else if (body.starts_at && body.ends_at <= body.starts_at) f.ends_at = T('结束时间应晚于开始时间', 'The end must be after the start')
    if (!(Number.isInteger(body.capacity) && body.capacity >= 1)) f.capacity = T('人数应为正整数', 'A positive whole number')
    if (Object.keys(f).length) return bad(f)
    const a = addActivity({ kind: body.kind, title: body.title.trim(), area_id: body.area_id, place: body.place.trim(), starts_at: body.starts_at, ends_at: body.ends_at, capacity: body.capacity, skills: body.skills || [], risky: !!body.risky, description: body.description || '', organiser_name: name })
    return ok(201, actOut(a))
  }
  if ((mm = p.match(/^\/activities\/([^/]+)(\/[a-z-]+)?(?:\/([^/]+))?(\/insurance)?$/))) {
    const a = activities.get(mm[1])
    if (!a) return nf('没有这场活动', 'No such activity')
    const sub = mm[2] || ''
    const live = () => signups.filter((s) => s.activity_id === a.id && s.status !== 'cancelled')
    // like the server: all sign-ups, the withdrawn ones last
    const allOut = () => signups.filter((s) => s.activity_id === a.id).sort((x, y) => (x.status === 'cancelled') - (y.status === 'cancelled')).map(signupOut)
    if (!sub && m === 'GET') return ok(200, actOut(a))
    if (sub && m !== 'GET' && !writer) return forbid()
    if (sub === '/cancel' && m === 'POST') {
      if (a.status === 'cancelled') return refuse('activity.cancelled', '活动已取消', 'Already cancelled')
      if (a.confirmed_at) return refuse('activity.confirmed', '已确认工时的活动不能取消', 'A confirmed activity cannot be cancelled')
      if (live().some((s) => s.checkin_at)) return refuse('activity.attended', '已有人签到，不能取消活动', 'Someone has checked in; the activity cannot be cancelled')
      a.status = 'cancelled'; a.version++
      return ok(200, actOut(a))
    }
    if (sub === '/signups' && !mm[3] && m === 'GET') return ok(200, allOut())
    if (sub === '/signups' && !mm[3] && m === 'POST') {
      const v = volunteers.get(body.volunteer_id)
      if (!v) return bad({ volunteer_id: T('请选择志愿者', 'Pick a volunteer') })
      if (a.status !== 'open') return refuse('activity.cancelled', '活动已取消', 'The activity was cancelled')
      if (live().some((s) => s.volunteer_id === v.id)) return refuse('signup.exists', `${v.name} 已在名单中`, `${v.name} is on the list already`)
      if (live().length >= a.capacity) return refuse('signup.full', `名额已满（${a.capacity} 人）`, `The activity is full (${a.capacity})`)
      const why = limitCheck(v, a)
      if (why) return refuse('volunteer.limit', `不能安排 ${v.name}：${why[0]}`, `${v.name} cannot be assigned: ${why[1]}`)
      signups.push({ activity_id: a.id, volunteer_id: v.id, via: 'assigned', insurer: null, policy_no: null, checkin_at: null, checkout_at: null, minutes: null, status: 'signed_up', at: nowIso() })
      v.last_asked_at = nowIso()
      return ok(201, allOut())
    }
    if (sub === '/signups' && mm[3]) {
      const s = live().find((x) => x.volunteer_id === mm[3])
      if (!s) return nf('名单中没有这位志愿者', 'Not on the list')
      if (mm[4] && m === 'PUT') {
        const f = {}
        if (!String(body.insurer || '').trim()) f.insurer = T('请填写保险公司', 'Give the insurer')
        if (!String(body.policy_no || '').trim()) f.policy_no = T('请填写保单号', 'Give the policy number')
        if (Object.keys(f).length) return bad(f)
        s.insurer = body.insurer.trim(); s.policy_no = body.policy_no.trim()
        return ok(200, allOut())
      }
      if (!mm[4] && m === 'DELETE') {
        if (s.checkin_at) return refuse('signup.checked_in', '已签到，不能移出名单', 'Checked in already')
        s.status = 'cancelled'
        return ok(200, allOut())
      }
    }
    if (sub === '/qr' && m === 'GET') {
      if (!writer) return forbid()
      if (a.status !== 'open') return refuse('activity.cancelled', '活动已取消', 'The activity was cancelled')
      const d = q('direction') === 'out' ? 'out' : 'in'
      const exp = Date.now() + 60000
      const head = Buffer.from(JSON.stringify({ a: a.id, d, exp })).toString('base64url')
      const token = head + '.' + createHash('sha256').update(head + 'mock-key').digest('base64url').slice(0, 16)
      const origin = q('origin') || `http://${req.headers['x-forwarded-host'] || req.headers.host}`
      const u = `${origin}/m/checkin?t=${token}`
      return ok(200, { token, url: u, svg: pseudoQr(u), direction: d, expires_at: new Date(exp).toISOString(), refresh_seconds: 20 })
    }
    if (sub === '/attendance' && m === 'POST') {
      const s = live().find((x) => x.volunteer_id === body.volunteer_id)
      if (!s) return refuse('attendance.not_signed_up', '这位志愿者不在名单中', 'Not on the list')
      if (a.confirmed_at) return refuse('activity.confirmed', '工时已确认，不能再签到签退', 'Hours are confirmed already')
      if (body.direction === 'in') {
        if (s.checkin_at) return refuse('attendance.double', '已经签到过了', 'Checked in already')
        if (a.risky && !s.policy_no) return refuse('attendance.uninsured', '这是有风险的活动（《志愿服务条例》第十七条），请先为其登记保险再签到', 'A risky activity: record the insurance first')
        s.checkin_at = nowIso(); s.status = 'checked_in'
      } else if (body.direction === 'out') {
        if (!s.checkin_at) return refuse('attendance.not_checked_in', '还没有签到，不能签退', 'Not checked in')
        if (s.checkout_at) return refuse('attendance.double', '已经签退过了', 'Checked out already')
        s.checkout_at = nowIso(); s.status = 'checked_out'; s.minutes = clipMinutes(a, s)
      } else return bad({ direction: T('应为 in 或 out', 'in or out') })
      const vv = volunteers.get(s.volunteer_id)
      return ok(200, { activity_id: a.id, activity_title: a.title, volunteer_id: vv.id, name: vv.name, direction: body.direction, at: body.direction === 'in' ? s.checkin_at : s.checkout_at, minutes: body.direction === 'out' ? s.minutes : null })
    }
    if (sub === '/checkout-all' && m === 'POST') {
      let n = 0
      for (const s of live()) if (s.checkin_at && !s.checkout_at) { s.checkout_at = nowIso(); s.status = 'checked_out'; s.minutes = clipMinutes(a, s); n++ }
      return ok(200, { checked_out: n })
    }
    if (sub === '/confirm' && m === 'POST') {
      if (a.confirmed_at) return refuse('activity.confirmed', '这场活动的工时已经确认过了', 'The hours are confirmed already')
      if (a.status !== 'open') return refuse('activity.cancelled', '活动已取消', 'The activity was cancelled')
      if (new Date(a.starts_at) > Date.now()) return refuse('activity.not_started', '活动还没开始，不能确认工时', 'The activity has not started')
      if (live().some((s) => s.checkin_at && !s.checkout_at) && new Date(a.ends_at) > Date.now()) return refuse('activity.running', '还有人未签退，请先“全部签退”或等活动结束', 'Some are still checked in; check everyone out first')
      return ok(200, confirmActivity(a, name))
    }
  }

  // ---- points ----
  // like the server: area_id is required; each rule names the area that sets it (null: the code default)
  const rulesOf = (area) => EVENTS.map(([event, zh, e]) => {
    const r = ruleOf(area, event)
    return { area_id: r.inherited_from, area_name: r.inherited_from ? areaName(r.inherited_from) : null, event, event_label: EN ? e : zh, points: r.points, cap: r.cap, cap_period: r.cap_period, inherited: r.inherited_from !== area }
  })
  if (p === '/points/rules' && m === 'GET') {
    if (!A.get(areaQ)) return (err(res, req, 400, 'bad_request', '缺少 area_id', 'area_id is required'), true)
    return ok(200, rulesOf(areaQ))
  }
  if (p === '/points/rules' && m === 'PUT') {
    if (!writer) return forbid()
    const f = {}
    if (!A.get(body.area_id)) f.area_id = T('请选择区域', 'Pick the area')
    if (!EVENTS.some((e) => e[0] === body.event)) f.event = T('未知的事件', 'Unknown event')
    if (!Number.isInteger(body.points) || body.points < 0 || body.points > 1000) f.points = T('应为 0–1000 的整数', 'A whole number from 0 to 1000')
    if (body.cap != null && (!Number.isInteger(body.cap) || body.cap < 1)) f.cap = T('上限应为正整数', 'A positive whole number')
    if (body.cap != null && !['day', 'month', 'year'].includes(body.cap_period)) f.cap_period = T('请选择上限周期', 'Pick the period')
    if (Object.keys(f).length) return bad(f)
    const i = rules.findIndex((r) => r.area_id === body.area_id && r.event === body.event)
    const r = { area_id: body.area_id, event: body.event, points: body.points, cap: body.cap ?? null, cap_period: body.cap == null ? null : body.cap_period }
    if (i >= 0) rules[i] = r; else rules.push(r)
    return ok(200, rulesOf(body.area_id))
  }
  if (p === '/points/accounts' && m === 'GET') {
    const s = q('q').trim()
    const all = [...accounts.values()].filter((a) => inArea(a.community_id) && (!q('kind') || a.kind === q('kind')) && (!s || a.owner_name.includes(s))).sort((a, b) => b.balance - a.balance).map(accountOut)
    return ok(200, paged(url, all))
  }
  if ((mm = p.match(/^\/points\/accounts\/([^/]+)(\/postings)?$/)) && m === 'GET') {
    const a = accounts.get(mm[1])
    if (!a) return nf()
    if (mm[2]) return ok(200, paged(url, postings.filter((x) => x.account_id === a.id).slice().reverse().map(postingOut)))
    return ok(200, accountOut(a))
  }
  if (p === '/points/postings' && m === 'POST') {
    if (!writer) return forbid()
    const a = accounts.get(body.account_id)
    const f = {}
    if (!a) f.account_id = T('请选择账户', 'Pick the account')
    if (!['earn', 'deduct'].includes(body.direction)) f.direction = T('请选择增加或扣减', 'Earn or deduct')
    if (!Number.isInteger(body.amount) || body.amount < 1 || body.amount > 1000000) f.amount = T('积分应为 1–1000000 的整数', 'Points are a whole number from 1 to 1,000,000')
    if (!String(body.note || '').trim()) f.note = T('请写明事由', 'Give the reason')
    if (Object.keys(f).length) return bad(f)
    const amt = body.direction === 'deduct' ? -body.amount : body.amount
    if (a.balance + amt < 0) return refuse('points.not_enough', `积分不足：余额 ${a.balance}，需要 ${body.amount}`, `Not enough points: the balance is ${a.balance}, ${body.amount} are needed`, { amount: T(`超过余额 ${a.balance}`, `More than the balance ${a.balance}`) })
    const x = post(a, amt, body.direction, null, body.note.trim(), name)
    log(req, me, 'points.post', 'point_account', a.id)
    return ok(201, postingOut(x))
  }
  if ((mm = p.match(/^\/points\/postings\/([^/]+)\/reverse$/)) && m === 'POST') {
    if (!writer) return forbid()
    const x = postings.find((y) => y.id === mm[1])
    if (!x) return nf('没有这条积分流水', 'No such posting')
    if (!String(body.reason || '').trim()) return bad({ reason: T('请写明冲正原因', 'Give the reason') })
    if (['reversal', 'redeem', 'transfer_in', 'transfer_out'].includes(x.kind)) return refuse('points.not_reversible', '冲正、转赠和兑换不能再冲正', 'Reversals, donations and redemptions cannot be reversed')
    if (postings.some((y) => y.reverses_id === x.id)) return refuse('points.already_reversed', '这条流水已经冲正过', 'This posting has been reversed already')
    const a = accounts.get(x.account_id)
    if (a.balance - x.amount < 0) return refuse('points.not_enough', `积分不足：余额 ${a.balance}，需要 ${x.amount}`, `Not enough points: the balance is ${a.balance}, ${x.amount} are needed`)
    const r = post(a, -x.amount, 'reversal', x.event, `冲正：${body.reason.trim()}`, name, nowIso(), { reverses_id: x.id })
    return ok(201, postingOut(r))
  }
  if (p === '/points/donations' && m === 'POST') {
    const from = accounts.get(body.from_account_id), to = accounts.get(body.to_account_id)
    const f = {}
    if (!from) f.from_account_id = T('请选择转出账户', 'Pick the account to donate from')
    if (!to) f.to_account_id = T('请选择接收账户', 'Pick the receiving account')
    if (!Number.isInteger(body.amount) || body.amount < 1) f.amount = T('积分应为 1–1000000 的整数', 'Points are a whole number from 1 to 1,000,000')
    if (Object.keys(f).length) return bad(f)
    if (from.id === to.id) return refuse('points.same_account', '不能转赠给自己', 'Points cannot be donated to the same account', { to_account_id: T('不能是同一账户', 'Not the same account') })
    if (from.balance < body.amount) return refuse('points.not_enough', `积分不足：余额 ${from.balance}，需要 ${body.amount}`, `Not enough points: the balance is ${from.balance}, ${body.amount} are needed`, { amount: T(`超过余额 ${from.balance}`, `More than the balance ${from.balance}`) })
    const note = String(body.note || '').trim()
    const o = post(from, -body.amount, 'transfer_out', null, note || `转赠 ${to.owner_name}`, name)
    const i = post(to, body.amount, 'transfer_in', null, note || `${from.owner_name} 转赠`, name)
    return ok(201, { out_posting_id: o.id, in_posting_id: i.id, from: accountOut(from), to: accountOut(to) })
  }
  if (p === '/catalog' && m === 'GET') return ok(200, [...items.values()].filter((x) => inArea(x.community_id)).map((x) => ({ ...x, community_name: areaName(x.community_id) })))
  if (p === '/catalog' && m === 'POST') {
    if (!writer) return forbid()
    const f = {}
    if (!A.get(body.community_id) || A.get(body.community_id).kind !== 'community') f.community_id = T('请选择社区', 'Pick the community')
    if (!String(body.name || '').trim()) f.name = T('请填写名称', 'Give the name')
    if (!Number.isInteger(body.price) || body.price < 1) f.price = T('所需积分应为正整数', 'A positive whole number')
    if (!Number.isInteger(body.stock) || body.stock < 0) f.stock = T('库存应为 0 或正整数', 'Zero or a positive whole number')
    if (Object.keys(f).length) return bad(f)
    const it = { id: randomUUID(), community_id: body.community_id, name: body.name.trim(), description: body.description || '', price: body.price, stock: body.stock, active: true, version: 1 }
    items.set(it.id, it)
    return ok(201, { ...it, community_name: areaName(it.community_id) })
  }
  if ((mm = p.match(/^\/catalog\/([^/]+)$/)) && m === 'PATCH') {
    if (!writer) return forbid()
    const it = items.get(mm[1])
    if (!it) return nf()
    if (body.version !== it.version) return conflict()
    for (const k of ['name', 'description', 'price', 'stock', 'active']) if (k in body) it[k] = body[k]
    it.version++
    return ok(200, { ...it, community_name: areaName(it.community_id) })
  }
  if ((mm = p.match(/^\/catalog\/([^/]+)\/redeem$/)) && m === 'POST') {
    if (!writer) return forbid()
    const acc = accounts.get(body.account_id)
    if (!acc) return bad({ account_id: T('请选择兑换人', 'Pick who redeems') })
    return redeem(items.get(mm[1]), acc, body.qty)
  }
  if (p === '/redemptions' && m === 'GET') return ok(200, paged(url, redemptions.slice().reverse().map((r) => { const it = items.get(r.item_id), acc = accounts.get(r.account_id); return { ...r, item_name: it?.name, owner_name: acc?.owner_name, community_name: areaName(it?.community_id) } }).filter((r) => !areaQ || inArea(items.get(r.item_id)?.community_id))))

  // ---- stars, ratings, commendations ----
  if (p === '/stars' && m === 'GET') {
    const counts = [0, 0, 0, 0, 0, 0]
    for (const v of volunteers.values()) if (inArea(v.community_id)) counts[starsOf(minutesOf(v.id) / 60)]++
    return ok(200, { thresholds: STAR_HOURS, counts })
  }
  if (p === '/party-ratings' && m === 'GET') {
    const y = Number(q('year') || year())
    const all = [...ratings.values()].filter((r) => r.year === y && (!q('grade') || r.grade === q('grade'))).map((r) => { const mo = memberOut(members.get(r.member_id)); return { ...r, name: mo.name, org_name: mo.org_name, work_unit_name: mo.work_unit_name, grade_label: GRADES[r.grade][EN ? 1 : 0], community_id: mo.community_id } }).filter((r) => inArea(r.community_id)).sort((a, b) => b.score - a.score)
    return ok(200, paged(url, all))
  }
  if (p === '/party-ratings/compute' && m === 'POST') {
    if (!writer) return forbid()
    const y = Number(body.year)
    if (!A.get(body.area_id)) return bad({ area_id: T('请选择区域', 'Pick the area') })
    if (!(y >= 2000 && y <= year())) return bad({ year: T('年度不对', 'Wrong year') })
    return ok(200, computeRatings(body.area_id, y))
  }
  if (p === '/party-reviews' && m === 'PUT') {
    if (!writer) return forbid()
    if (!members.get(body.member_id)) return bad({ member_id: T('没有这名党员', 'No such member') })
    if (typeof body.score !== 'number' || body.score < 0 || body.score > 100) return bad({ score: T('评议分应为 0–100', 'A score from 0 to 100') })
    reviews.set(`${body.member_id}:${body.year}`, body.score)
    const r = ratings.get(`${body.member_id}:${body.year}`)
    if (r) r.review_score = body.score
    return ok(204)
  }
  if (p === '/commendations' && m === 'GET') return ok(200, paged(url, commendations.map((c) => { const v = volunteers.get(c.volunteer_id); return { ...c, name: v.name, community_name: areaName(v.community_id) } }).filter((c) => inArea(volunteers.get(c.volunteer_id).community_id)).sort((a, b) => b.awarded_on.localeCompare(a.awarded_on))))
  if (p === '/commendations' && m === 'POST') {
    if (!writer) return forbid()
    const f = {}
    if (!volunteers.get(body.volunteer_id)) f.volunteer_id = T('请选择志愿者', 'Pick the volunteer')
    if (!String(body.title || '').trim()) f.title = T('请填写表彰名称', 'Give the title')
    if (!String(body.level || '').trim()) f.level = T('请填写表彰级别', 'Give the level')
    if (!/^\d{4}-\d{2}-\d{2}$/.test(body.awarded_on || '')) f.awarded_on = T('请选择表彰日期', 'Pick the date')
    if (!String(body.reason || '').trim()) f.reason = T('请填写表彰事由', 'Give the reason')
    if (Object.keys(f).length) return bad(f)
    const c = { id: randomUUID(), volunteer_id: body.volunteer_id, title: body.title.trim(), level: body.level, star_level: body.star_level ?? null, year: body.year ?? null, awarded_on: body.awarded_on, reason: body.reason.trim(), created_by_name: name, created_at: nowIso() }
    commendations.push(c)
    const v = volunteers.get(c.volunteer_id)
    post(accounts.get(v.account_id), ruleOf(v.community_id, 'commendation').points, 'earn', 'commendation', c.title, name, nowIso(), { source_kind: 'commendation', source_id: c.id })
    return ok(201, { ...c, name: v.name, community_name: areaName(v.community_id) })
  }
  if (p === '/commendations/due' && m === 'GET') {
    const out = []
    for (const v of volunteers.values()) {
      if (!inArea(v.community_id)) continue
      const h = Math.round(minutesOf(v.id) / 6) / 10, s = starsOf(h)
      const best = Math.max(0, ...commendations.filter((c) => c.volunteer_id === v.id && c.star_level).map((c) => c.star_level))
      if (s > best && s >= 1) out.push({ volunteer_id: v.id, name: v.name, community_name: areaName(v.community_id), reason: 'stars', stars: s, hours: h, year: null, detail: T(`服务 ${h} 小时，已达 ${s} 星（上次表彰：${best ? best + ' 星' : '无'}）`, `${h} h served, now ${s} stars (last commended: ${best ? best + ' stars' : 'never'})`) })
    }
    for (const r of ratings.values()) {
      if (r.grade !== 'excellent') continue
      const x = members.get(r.member_id), v = volunteers.get(x.volunteer_id)
      if (!inArea(x.community_id)) continue
      if (commendations.some((c) => c.volunteer_id === v.id && c.year === r.year && !c.star_level)) continue
      out.push({ volunteer_id: v.id, name: v.name, community_name: areaName(x.community_id), reason: 'excellent', stars: starsOf(minutesOf(v.id) / 60), hours: Math.round(minutesOf(v.id) / 6) / 10, year: r.year, detail: T(`${r.year} 年度评议为优秀（${r.score} 分）`, `Rated excellent for ${r.year} (${r.score})`) })
    }
    return ok(200, out)
  }

  // ---- certificates ----
  if (p === '/certificates' && m === 'GET') return ok(200, paged(url, certificates.filter((c) => inArea(volunteers.get(c.volunteer_id).community_id) && (!q('volunteer_id') || c.volunteer_id === q('volunteer_id')))))
  if (p === '/certificates' && m === 'POST') {
    if (!writer) return forbid()
    const v = volunteers.get(body.volunteer_id)
    if (!v) return bad({ volunteer_id: T('请选择志愿者', 'Pick the volunteer') })
    if (minutesOf(v.id) <= 0) return refuse('certificate.no_hours', `${v.name} 还没有服务时长，不能开具证明`, `${v.name} has no service hours yet`, { volunteer_id: T('没有服务时长', 'No service hours') })
    return ok(201, issueCert(v, name))
  }
  if ((mm = p.match(/^\/certificates\/([^/]+)\/pdf$/)) && m === 'GET') {
    const c = certificates.find((x) => x.id === mm[1])
    if (!c) return nf()
    {
      res.writeHead(200, { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${c.number}.pdf"` })
      res.end(`%PDF-1.4\n% mock certificate ${c.number}\n%%EOF\n`)
      return true
    }
  }
  return nf()

  function redeem(it, acc, qty) {
    if (!it) return nf('没有这件商品', 'No such item')
    if (!Number.isInteger(qty) || qty < 1) return bad({ qty: T('数量应为正整数', 'A positive whole number') })
    if (it.community_id !== acc.community_id) return refuse('catalog.other_community', '只能兑换本社区爱心超市的商品', 'Only items of your own community can be redeemed')
    if (!it.active) return refuse('catalog.inactive', '该商品已下架', 'This item is not offered')
    if (it.stock < qty) return refuse('catalog.stock', `库存不足（剩余 ${it.stock}）`, `Not enough stock (${it.stock} left)`, { qty: T(`剩余 ${it.stock}`, `${it.stock} left`) })
    const need = it.price * qty
    if (acc.balance < need) return refuse('points.not_enough', `积分不足：余额 ${acc.balance}，需要 ${need}`, `Not enough points: the balance is ${acc.balance}, ${need} are needed`)
    it.stock -= qty; it.version++
    const r = { id: randomUUID(), item_id: it.id, account_id: acc.id, qty, points: need, at: nowIso(), actor_name: name }
    post(acc, -need, 'redeem', null, `兑换 ${it.name} ×${qty}`, name, r.at, { source_kind: 'redemption', source_id: r.id })
    redemptions.push(r)
    return ok(201, { ...r, item_name: it.name, owner_name: acc.owner_name, community_name: areaName(it.community_id), balance: acc.balance, stock: it.stock })
  }
}

// ------------------------------------------------------------------ 批量导入 (志愿者名册 / 党员名册)
// POST /import/volunteers|party-members?mode=dry_run|commit|commit_valid (the file as the raw body) and
// GET /import/templates/volunteers.csv|party-members.csv, like crates/gongzhi/src/app/service/imports.rs:
// each row's resident is found in the registry by 证件号码 (never created here), then checked like the
// form; a commit writes every row or none, commit_valid the good rows. The mock reads CSV (UTF-8 or GBK);
// a workbook is pretended (a few rows of real residents). server.mjs calls this before the registry mock,
// which answers the rest of /import/….
const SHEETS = {
  volunteers: {
    cols: [['姓名', 'name', true], ['证件号码', 'id_no', true], ['技能', 'skills', false], ['愿意服务', 'willing', false], ['登录账号', 'username', false]],
    example: ['王芳', '130602198805120028', '助老、理发', '是', ''],
    file: ['volunteers-template', '志愿者导入模板'],
  },
  'party-members': {
    cols: [['姓名', 'name', true], ['证件号码', 'id_no', true], ['党组织', 'org', true], ['党员类型', 'kind', true], ['所在单位党组织', 'work_unit_org', false], ['报到社区', 'community', false], ['入党日期', 'joined_on', true], ['党员状态', 'status', false], ['技能', 'skills', false]],
    example: ['王芳', '130602198805120028', '朝阳社区党总支', '在职党员', '保定市第一中心医院党委', '朝阳社区', '2010-07-01', '正式', '义诊'],
    file: ['party-members-template', '党员导入模板'],
  },
}
function csvRows(text) {
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
const csvLine = (cells) => cells.map((v) => (/[",\r\n]/.test(v) ? `"${String(v).replace(/"/g, '""')}"` : v)).join(',')
const splitSkills = (s) => s.split(/[、,，;；/]/).map((x) => x.trim()).filter(Boolean)
const yesNo = (s) => (!s.trim() ? null : !['否', '不愿意', 'N', 'n', 'no', 'No', '0', 'false', '×'].includes(s.trim()))
function normalDate(s) {
  const t = s.trim().replace(/[/.年月]/g, '-').replace(/日/g, '')
  const p = t.split('-').filter(Boolean)
  return p.length === 3 ? `${p[0]}-${p[1].padStart(2, '0')}-${p[2].padStart(2, '0')}` : t
}
const validIdNo = (s) => /^\d{17}[\dX]$/.test(s)
const maskName = (n) => (n ? n.slice(0, 1) + '*'.repeat(Math.max(1, n.length - 1)) : '')
/** A workbook the mock cannot read: pretend it holds these rows (residents of 朝阳社区 not on the roll yet, and two bad rows). */
function pretendSheet(kind) {
  const comm = [...A.values()].find((a) => a.name === '朝阳社区')
  const onRoll = new Set((kind === 'volunteers' ? [...volunteers.values()] : [...members.values()]).map((x) => x.person_id))
  const fresh = [...PERSONS.values()].filter((p) => !p.deleted && p.status === 'active' && p.community_id === comm?.id && p.id_no && !onRoll.has(p.id) && ageOf(p.birth_date) >= 20 && ageOf(p.birth_date) <= 70).slice(0, 4)
  const head = SHEETS[kind].cols.map((c) => c[0])
  const rows = fresh.map((p, i) => (kind === 'volunteers'
    ? [p.name, p.id_no, ['助老陪护', '理发、家电维修', '课业辅导', ''][i], i === 2 ? '否' : '是', '']
    : [p.name, p.id_no, '朝阳社区党总支', i % 2 ? '在职党员' : '社区党员', i % 2 ? '保定市第一中心医院党委' : '', '朝阳社区', `20${String(5 + i).padStart(2, '0')}-07-01`, '正式', '']))
  rows.push(kind === 'volunteers' ? ['李明', '130602199001011234', '摄影', '是', ''] : ['李明', '130602199001011234', '朝阳社区党总支', '社区党员', '', '', '2012-07-01', '正式', ''])
  return [head, ...rows].map(csvLine).join('\n')
}

export function serviceImportApi({ req, res, url, p, m, body, me, send, err, log }) {
  let mm
  const tpl = (mm = p.match(/^\/import\/templates\/(volunteers|party-members)\.csv$/)) && m === 'GET'
  const run = !tpl && (mm = p.match(/^\/import\/(volunteers|party-members)$/)) && m === 'POST'
  if (!tpl && !run) return false
  if (!me) return (err(res, req, 401, 'auth.required', '请先登录', 'Please sign in'), true)
  const kind = mm[1]
  const S = SHEETS[kind]
  if (tpl) {
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${S.file[0]}.csv"; filename*=UTF-8''${encodeURIComponent(S.file[1] + '.csv')}` })
    res.end('\ufeff' + csvLine(S.cols.map((c) => c[0])) + '\r\n' + csvLine(S.example) + '\r\n')
    return true
  }
  const EN = (req.headers['accept-language'] || '').startsWith('en')
  const fileErr = (zh, e) => { const msg = EN ? e : zh; err(res, req, 422, 'validation', msg, msg, { file: msg }); return true }
  if (!permissionsOf(me).includes('manage_service')) return (err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this'), true)
  const mode = url.searchParams.get('mode') || 'dry_run'
  if (!['dry_run', 'commit', 'commit_valid'].includes(mode)) return (err(res, req, 422, 'validation', '输入有误', 'Invalid input', { mode: EN ? 'mode must be dry_run, commit or commit_valid' : 'mode 应为 dry_run、commit 或 commit_valid' }), true)
  let raw = body.__raw || Buffer.alloc(0)
  if (!raw.length) return fileErr('文件为空', 'The file is empty')
  if (raw.length > 4 << 20) return fileErr('文件太大，单个文件不超过 4 MB', 'The file is larger than 4 MB')
  let text
  if (raw[0] === 0x50 && raw[1] === 0x4b) text = pretendSheet(kind)
  else {
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(raw) } catch { text = new TextDecoder('gb18030').decode(raw) }
  }
  const rows = csvRows(text.replace(/^\ufeff/, ''))
  const header = (rows.shift() || []).map((h) => h.trim())
  if (!header.some(Boolean)) return fileErr('文件没有表头', 'The file has no header row')
  const pos = S.cols.map(([zh, en]) => header.findIndex((h) => h === zh || h.toLowerCase() === en))
  const missing = S.cols.filter((c, k) => c[2] && pos[k] < 0).map((c) => c[0])
  if (missing.length) return fileErr(`缺少列：${missing.join('、')}（请使用模板）`, `Missing columns: ${missing.join(', ')} (use the template)`)

  const report = { status: 'dry_run', rows: 0, ok_rows: 0, error_rows: 0, created: 0, skipped_rows: 0, problems: [] }
  const M = (zh, e) => `${zh} / ${e}`
  const inMyArea = (areaId) => me.grants.some((g) => (g.role === 'system_admin' && !g.area_id) || under(areaId, g.area_id))
  const orgByName = (n) => [...ORGS.values()].filter((o) => o.name === n)
  const anyPersons = [...PERSONS.values()].some((x) => !x.deleted)
  const seen = new Set()
  const good = []
  for (let i = 0; i < rows.length; i++) {
    const row = i + 2
    const cells = S.cols.map((c, k) => (pos[k] >= 0 ? String(rows[i][pos[k]] || '').trim() : ''))
    if (cells.every((c) => !c)) continue
    report.rows++
    if (report.rows > 5000) return fileErr('一次最多导入 5000 行', 'At most 5000 rows per sheet')
    const probs = []
    S.cols.forEach(([zh, , req], k) => { if (req && !cells[k]) probs.push([zh, M('必填', 'Required')]) })
    const idNo = cells[1].toUpperCase()
    if (idNo && seen.has(idNo)) probs.push(['证件号码', M('与前面的行重复', 'Repeats an earlier row')])
    if (idNo) seen.add(idNo)
    let person = null
    if (!probs.length) {
      if (!validIdNo(idNo)) probs.push(['证件号码', M('证件号码不正确', 'The ID number is not valid')])
      else if (anyPersons) {
        person = [...PERSONS.values()].find((x) => !x.deleted && x.status === 'active' && x.id_no === idNo) || null
        if (!person) probs.push(['证件号码', M('一户一档中没有此人，请先导入或登记居民', 'No such resident in the registry; import or register them first')]) 
        else if (cells[0] && person.name !== cells[0]) { probs.push(['证件号码', M(`姓名与一户一档不符（档案中为 ${maskName(person.name)}）`, "The name differs from the registry's")]); person = null }
        else if (!inMyArea(person.area_id)) { probs.push(['', M('此人不在您负责的区域内', 'This person is outside your area')]); person = null }
      } else {
        // an empty registry (not the seeded mock): take the row as it is
        person = { id: randomUUID(), name: cells[0], id_no: idNo, mobile: null, birth_date: `${idNo.slice(6, 10)}-${idNo.slice(10, 12)}-${idNo.slice(12, 14)}`, community_id: [...A.values()].find((a) => a.kind === 'community')?.id, political_status: 'masses' }
      }
    }
    let item = null
    if (person && kind === 'volunteers') {
      const [, , skills, willing, username] = cells
      if ([...volunteers.values()].some((v) => v.person_id === person.id)) probs.push(['证件号码', M(`${person.name} 已经是志愿者`, `${person.name} is a volunteer already`)])
      let user = null
      if (username) {
        user = [...U.values()].find((u) => u.username === username)
        if (!user) probs.push(['登录账号', M('没有这个账号，请先由管理员创建', 'No such account; an administrator creates it first')])
        else if (!user.grants.some((g) => g.role === 'volunteer')) probs.push(['登录账号', M('这个账号没有“志愿者”角色', 'This account has no volunteer role')])
        else if ([...volunteers.values()].some((v) => v.user_id === user.id)) probs.push(['登录账号', M('这个账号已关联其他志愿者', 'This account belongs to another volunteer')])
      }
      item = { person, skills: splitSkills(skills), willing: yesNo(willing), user }
    } else if (person) {
      const [, , orgText, kindText, unitText, commText, joinedText, statusText, skills] = cells
      const orgs = orgByName(orgText)
      if (!orgs.length) probs.push(['党组织', M('找不到这个党组织', 'No such party organisation')])
      else if (orgs.length > 1) probs.push(['党组织', M('有多个同名党组织，请写全称', 'Several organisations have this name')])
      const mk = { 在职党员: 'in_service', 在职: 'in_service', in_service: 'in_service', 社区党员: 'community', 社区: 'community', community: 'community' }[kindText]
      if (!mk) probs.push(['党员类型', M('党员类型应为“社区党员”或“在职党员”', 'The kind must be 社区党员 or 在职党员')])
      let unit = null
      if (unitText) {
        const us = orgByName(unitText)
        if (us.length !== 1) probs.push(['所在单位党组织', M('找不到这个党组织', 'No such party organisation')])
        else unit = us[0]
      } else if (mk === 'in_service') probs.push(['所在单位党组织', M('在职党员须填写所在单位党组织', "An in-service member needs the work unit's organisation")])
      let comm = null
      if (commText) {
        const cs = [...A.values()].filter((a) => a.kind === 'community' && (a.code === commText || a.name === commText))
        if (!cs.length) probs.push(['报到社区', M('找不到这个社区', 'No such community')])
        else if (cs.length > 1) probs.push(['报到社区', M('有多个同名社区，请填社区编码', 'Several communities have this name; give the code')])
        else comm = cs[0]
      }
      const joined = normalDate(joinedText)
      if (!/^\d{4}-\d{2}-\d{2}$/.test(joined) || Number.isNaN(Date.parse(joined))) probs.push(['入党日期', M('日期格式应为 2010-07-01', 'A date like 2010-07-01')])
      else if (joined > shDay()) probs.push(['入党日期', M('不能晚于今天', 'Not after today')])
      const st = { '': 'full', 正式: 'full', 正式党员: 'full', full: 'full', 预备: 'probationary', 预备党员: 'probationary', probationary: 'probationary' }[statusText]
      if (!st) probs.push(['党员状态', M('党员状态应为“正式”或“预备”', 'The status must be 正式 or 预备')])
      if ([...members.values()].some((x) => x.person_id === person.id)) probs.push(['证件号码', M(`${person.name} 已在党员名册中`, `${person.name} is on the roll already`)])
      item = { person, org: orgs[0], kind: mk, unit, comm, joined, status: st, skills: splitSkills(skills) }
    }
    if (probs.length) {
      report.error_rows++
      for (const [column, problem] of probs) if (report.problems.length < 1000) report.problems.push({ row, column, problem })
    } else {
      report.ok_rows++
      good.push(item)
    }
  }
  if (!report.rows) return fileErr('文件中没有数据行', 'The file has no data rows')
  const write = mode === 'commit' ? report.error_rows === 0 : mode === 'commit_valid' ? report.ok_rows > 0 : false
  if (write) {
    const actor = me.display_name
    for (const g of good) {
      if (kind === 'volunteers') {
        const v = addVolunteer(g.person, { skills: g.skills, willing: g.willing !== false, user_id: g.user?.id || null, actor })
        log(req, me, 'volunteer.create', 'volunteer', v.id)
      } else {
        let v = [...volunteers.values()].find((x) => x.person_id === g.person.id)
        if (!v) v = addVolunteer(g.person, { skills: g.skills, actor })
        else if (g.skills.length) v.skills = [...new Set([...v.skills, ...g.skills])]
        v.party_member = true
        const x = { id: randomUUID(), volunteer_id: v.id, person_id: g.person.id, org_id: g.org.id, community_id: g.comm?.id || g.person.community_id, kind: g.kind, work_unit_org_id: g.kind === 'in_service' ? g.unit?.id || null : null, joined_on: g.joined, status: g.status, exempt_reason: null, version: 1 }
        members.set(x.id, x)
        log(req, me, 'party_member.create', 'party_member', x.id)
      }
    }
    report.created = report.ok_rows
    report.skipped_rows = report.error_rows
    report.status = 'committed'
  } else if (mode === 'commit') report.status = 'rejected'
  send(res, 200, report)
  return true
}
