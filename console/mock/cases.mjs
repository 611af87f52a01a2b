// Mock of the 接诉即办 routes (docs/cases.md): categories, units + power lists, routing, the
// working-day calendar, cases with their lifecycle, whistles, files, the map and the three rates.
// Seeded with Chinese demo data relative to "now", so deadlines count down live. Dev-only.
import { randomUUID, createHash } from 'node:crypto'
import { legacyRoles, permsOfRole } from './roles.mjs'

let A // areas Map from server.mjs
let U // users Map
let TOKENS = () => [] // the API tokens of server.mjs (they can be unit members too)
let EN = false // the current request asks for English (labels in the answers follow Accept-Language)

const MIN = 60000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const BJ = 8 * HOUR // Asia/Shanghai, no DST
const nowMs = () => Date.now()
const iso = (ms) => (ms == null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'))
const bjDay = (ms) => new Date(ms + BJ).toISOString().slice(0, 10)
const bjAt = (day, h, m = 0) => new Date(`${day}T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00+08:00`).getTime()
const nextDay = (day) => bjDay(bjAt(day, 12) + DAY)
const minutesOfDay = (ms) => { const d = new Date(ms + BJ); return d.getUTCHours() * 60 + d.getUTCMinutes() }

// seeded random, so the demo is the same every start
let seed = 41201
function rnd() {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (arr) => arr[Math.floor(rnd() * arr.length)]
const chance = (p) => rnd() < p
const between = (a, b) => a + rnd() * (b - a)

// ---------------------------------------------------------------- calendar
// Statutory holidays (休) and adjusted working days (班) of the State Council notices.
const CAL_SEED = {
  2025: [
    ['2025-01-01', '元旦'], ['2025-01-26', '春节调休', 'workday'], ...range('2025-01-28', 8, '春节'), ['2025-02-08', '春节调休', 'workday'],
    ...range('2025-04-04', 3, '清明节'), ['2025-04-27', '劳动节调休', 'workday'], ...range('2025-05-01', 5, '劳动节'),
    ...range('2025-05-31', 3, '端午节'), ['2025-09-28', '国庆节调休', 'workday'], ...range('2025-10-01', 8, '国庆节、中秋节'), ['2025-10-11', '国庆节调休', 'workday'],
  ],
  2026: [
    ...range('2026-01-01', 3, '元旦'), ['2026-01-04', '元旦调休', 'workday'], ['2026-02-14', '春节调休', 'workday'], ...range('2026-02-15', 9, '春节'),
    ['2026-02-28', '春节调休', 'workday'], ...range('2026-04-04', 3, '清明节'), ...range('2026-05-01', 5, '劳动节'), ['2026-05-09', '劳动节调休', 'workday'],
    ...range('2026-06-19', 3, '端午节'), ['2026-09-20', '国庆节调休', 'workday'], ...range('2026-09-25', 3, '中秋节'), ...range('2026-10-01', 7, '国庆节'),
    ['2026-10-10', '国庆节调休', 'workday'],
  ],
}
function range(from, n, name) {
  const out = []
  let d = from
  for (let i = 0; i < n; i++) { out.push([d, name]); d = nextDay(d) }
  return out
}
const calendar = new Map() // year → { days: [{date, kind, name}], updated_at }
for (const [y, list] of Object.entries(CAL_SEED)) {
  calendar.set(Number(y), { days: list.map(([date, name, kind = 'holiday']) => ({ date, kind, name })), updated_at: '2025-11-04T02:00:00Z', updated_by: 'gongzhi' })
}
class UnknownYear extends Error { constructor(y) { super('unknown year ' + y); this.year = y } }
// lenient: seeding may run past the last known year; then plain Monday–Friday counts
function isWorkday(day, lenient = false) {
  const y = Number(day.slice(0, 4))
  const cal = calendar.get(y)
  if (!cal) {
    if (!lenient) throw new UnknownYear(y)
  } else {
    const hit = cal.days.find((d) => d.date === day)
    if (hit) return hit.kind === 'workday'
  }
  const wd = new Date(day + 'T12:00:00+08:00').getUTCDay()
  return wd >= 1 && wd <= 5
}
const SEGMENTS = [[9 * 60, 12 * 60], [13 * 60, 18 * 60]] // working hours 09–12, 13–18
/** N working hours from `start`. */
function addWorkingHours(start, hours, lenient) {
  let left = hours * 60
  let t = start
  for (let guard = 0; guard < 4000; guard++) {
    const day = bjDay(t)
    if (isWorkday(day, lenient)) {
      let mins = minutesOfDay(t)
      for (const [s, e] of SEGMENTS) {
        if (mins >= e) continue
        const from = Math.max(mins, s)
        if (left <= e - from) return bjAt(day, 0) + (from + left) * MIN
        left -= e - from
        mins = e
      }
    }
    t = bjAt(nextDay(day), 0)
  }
  throw new Error('deadline too far')
}
/** The end (18:00) of the N-th working day after the start day. */
function addWorkingDays(start, days, lenient) {
  let day = bjDay(start)
  let n = 0
  while (n < days) { day = nextDay(day); if (isWorkday(day, lenient)) n++ }
  return bjAt(day, 18)
}
const addLimit = (start, limit, lenient) => (limit.unit === 'hours' ? addWorkingHours(start, limit.value, lenient) : addWorkingDays(start, limit.value, lenient))
/**
 * Nudge a seeded instant into working hours (people answer the phone during the day) — but never
 * into the future: after 18:00 the live demo keeps its evening times.
 */
function intoWorkHours(ms) {
  const out = workHoursAfter(ms)
  return out > nowMs() - 2 * MIN ? Math.min(ms, nowMs() - 2 * MIN) : out
}
function workHoursAfter(ms) {
  let day = bjDay(ms)
  const m = minutesOfDay(ms)
  if (isWorkday(day, true) && m >= 9 * 60 && m < 18 * 60) return ms
  if (!isWorkday(day, true) || m >= 18 * 60) { do day = nextDay(day); while (!isWorkday(day, true)) }
  return bjAt(day, 9) + Math.floor(between(5, 90)) * MIN
}

// ---------------------------------------------------------------- categories
const categories = new Map()
const L = (value, unit) => ({ value, unit })
function addCat(code, name, resp, handle, verify = L(1, 'days'), rv = true) {
  const parent = code.length > 2 ? [...categories.values()].find((c) => c.code === code.slice(0, 2)) : null
  const c = {
    id: randomUUID(), parent_id: parent?.id || null, code, name, level: parent ? 2 : 1, response_limit: resp, handle_limit: handle,
    verify_limit: verify, return_visit_required: rv, active: true, version: 1,
  }
  categories.set(c.id, c)
  return c
}
;[
  ['01', '市容环境', L(2, 'hours'), L(3, 'days')], ['0101', '垃圾清运', L(2, 'hours'), L(2, 'days')], ['0102', '占道经营', L(2, 'hours'), L(3, 'days')],
  ['0103', '违规广告牌匾', L(4, 'hours'), L(5, 'days')], ['0104', '绿化养护', L(4, 'hours'), L(5, 'days')],
  ['02', '房屋管理', L(4, 'hours'), L(5, 'days')], ['0201', '物业服务', L(2, 'hours'), L(5, 'days')], ['0202', '电梯故障', L(1, 'hours'), L(1, 'days')],
  ['0203', '房屋漏水', L(4, 'hours'), L(5, 'days')], ['0204', '违章搭建', L(4, 'hours'), L(10, 'days')],
  ['03', '市政设施', L(4, 'hours'), L(3, 'days')], ['0301', '路灯', L(4, 'hours'), L(3, 'days')], ['0302', '井盖', L(1, 'hours'), L(1, 'days')],
  ['0303', '道路破损', L(4, 'hours'), L(5, 'days')],
  ['04', '噪音扰民', L(2, 'hours'), L(3, 'days')], ['0401', '施工噪音', L(2, 'hours'), L(2, 'days')], ['0402', '商业噪音', L(2, 'hours'), L(3, 'days')],
  ['0403', '邻里噪音', L(4, 'hours'), L(5, 'days')],
  ['05', '供水供电', L(1, 'hours'), L(1, 'days')], ['0501', '停水', L(1, 'hours'), L(1, 'days')], ['0502', '停电', L(1, 'hours'), L(1, 'days')],
  ['0503', '供暖', L(2, 'hours'), L(2, 'days')],
  ['06', '社区服务', L(4, 'hours'), L(5, 'days')], ['0601', '养老服务', L(4, 'hours'), L(5, 'days')], ['0602', '政策咨询', L(4, 'hours'), L(3, 'days'), L(1, 'days'), false],
].forEach(([code, name, r, h, v, rv]) => addCat(code, name, r, h, v || L(1, 'days'), rv ?? true))
const catByCode = (code) => [...categories.values()].find((c) => c.code === code)
// 公开类别 (GET/PUT /streets/{id}/public-categories): street id → Set of codes; 先锋街道 opens 市政设施 and 垃圾清运 (seeded in initCases)
const publicCats = new Map()

// ---------------------------------------------------------------- areas (boundaries for the map)
const areaByName = (name) => [...A.values()].find((a) => a.name === name)
function ancestors(id) {
  const out = []
  let a = A.get(id)
  while (a) { out.push(a); a = a.parent_id && A.get(a.parent_id) }
  return out
}
const up = (id, kind) => ancestors(id).find((a) => a.kind === kind)
const under = (id, rootId) => !rootId || ancestors(id).some((a) => a.id === rootId)
const depth = (id) => ancestors(id).length
const poly = (pts) => ({ type: 'Polygon', coordinates: [[...pts, pts[0]]] })
function setBoundaries() {
  const b = {
    先锋街道: poly([[115.458, 38.868], [115.4835, 38.8665], [115.4845, 38.8812], [115.471, 38.8818], [115.4585, 38.8805]]),
    新市场街道: poly([[115.444, 38.8705], [115.458, 38.8705], [115.4585, 38.8855], [115.444, 38.8862]]),
    朝阳社区: poly([[115.46, 38.87], [115.47, 38.87], [115.47, 38.88], [115.46, 38.88]]),
    红旗社区: poly([[115.47, 38.8685], [115.4825, 38.8675], [115.4835, 38.8805], [115.47, 38.88]]),
    东风社区: poly([[115.4455, 38.872], [115.4565, 38.872], [115.457, 38.884], [115.4455, 38.8845]]),
    第一网格: poly([[115.46, 38.87], [115.4652, 38.87], [115.4648, 38.88], [115.46, 38.88]]),
    第二网格: poly([[115.4652, 38.87], [115.47, 38.87], [115.47, 38.88], [115.4648, 38.88]]),
  }
  for (const [name, g] of Object.entries(b)) { const a = areaByName(name); if (a && !a.boundary) a.boundary = g }
  // 红旗 and 东风 get two grids each, so every community on the map has grid lines
  const grids = {
    红旗社区: [poly([[115.47, 38.8685], [115.4765, 38.868], [115.4765, 38.8802], [115.47, 38.88]]), poly([[115.4765, 38.868], [115.4825, 38.8675], [115.4835, 38.8805], [115.4765, 38.8802]])],
    东风社区: [poly([[115.4455, 38.872], [115.451, 38.872], [115.451, 38.8843], [115.4455, 38.8845]]), poly([[115.451, 38.872], [115.4565, 38.872], [115.457, 38.884], [115.451, 38.8843]])],
  }
  for (const [cname, parts] of Object.entries(grids)) {
    const c = areaByName(cname)
    if (!c || [...A.values()].some((a) => a.parent_id === c.id)) continue
    parts.forEach((boundary, i) => {
      const g = { id: randomUUID(), parent_id: c.id, kind: 'grid', name: `第${i === 0 ? '一' : '二'}网格`, code: c.code + String(i + 1).padStart(3, '0'), boundary, version: 1, updated_at: new Date().toISOString() }
      A.set(g.id, g)
    })
  }
}
function inRing(pt, ring) {
  let ins = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i], [xj, yj] = ring[j]
    if (yi > pt[1] !== yj > pt[1] && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) ins = !ins
  }
  return ins
}
/** The deepest area whose boundary holds the point. */
function areaAt(lat, lon) {
  let best = null
  for (const a of A.values()) {
    if (a.boundary?.type !== 'Polygon' || !inRing([lon, lat], a.boundary.coordinates[0])) continue
    if (!best || depth(a.id) > depth(best.id)) best = a
  }
  return best
}
function randomPointIn(area) {
  const ring = area.boundary.coordinates[0]
  const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1])
  for (let i = 0; i < 50; i++) {
    const pt = [between(Math.min(...xs), Math.max(...xs)), between(Math.min(...ys), Math.max(...ys))]
    if (inRing(pt, ring)) return { lat: Number(pt[1].toFixed(6)), lon: Number(pt[0].toFixed(6)) }
  }
  return { lat: ys[0], lon: xs[0] }
}

// ---------------------------------------------------------------- units and power lists
const units = new Map()
const duties = new Map()
function addUnit(name, kind, area, contact, quality) {
  const u = { id: randomUUID(), name, kind, area_id: area.id, contact, active: true, version: 1, members: [], quality }
  units.set(u.id, u)
  return u
}
function addDuty(unit, name, legal_basis, codes, area) {
  const d = { id: randomUUID(), unit_id: unit.id, name, legal_basis, category_codes: codes, area_id: (area || A.get(unit.area_id)).id, active: true, version: 1 }
  duties.set(d.id, d)
  return d
}
const unitOf = (id) => (id ? units.get(id) : null)
const memberOf = (me, unitId) => !!unitId && units.get(unitId)?.members.includes(me.id)
const myUnitIds = (me) => [...units.values()].filter((u) => u.members.includes(me.id)).map((u) => u.id)

function seedUnits(addUser) {
  const district = areaByName('竞秀区'), street = areaByName('先锋街道'), street2 = areaByName('新市场街道')
  const cy = areaByName('朝阳社区'), hq = areaByName('红旗社区'), df = areaByName('东风社区')
  const cg = addUnit('竞秀区城市管理委员会', 'department', district, '0312-3021234', 0.9)
  addDuty(cg, '市容环境卫生管理', '《城市市容和环境卫生管理条例》第二十八条', ['0101', '0103'])
  addDuty(cg, '城市道路及附属设施管理', '《城市道路管理条例》第二十二条', ['0301', '0302', '0303'])
  addDuty(cg, '违法建设查处', '《中华人民共和国城乡规划法》第六十八条', ['0204'])
  const zj = addUnit('竞秀区住房和城乡建设局', 'department', district, '0312-3025678', 0.78)
  addDuty(zj, '物业服务活动监督管理', '《物业管理条例》第五条', ['0201'])
  addDuty(zj, '城市供热监督管理', '《河北省城市供热管理办法》第六条', ['0503'])
  const sj = addUnit('竞秀区市场监督管理局', 'department', district, '0312-3029012', 0.86)
  addDuty(sj, '特种设备（电梯）安全监察', '《中华人民共和国特种设备安全法》第五条', ['0202'])
  const hb = addUnit('竞秀区生态环境分局', 'department', district, '0312-3023456', 0.82)
  addDuty(hb, '建筑施工噪声污染防治', '《中华人民共和国噪声污染防治法》第四十条', ['0401'])
  const jd = addUnit('先锋街道城管科', 'street_office', street, '0312-5081100', 0.88)
  addDuty(jd, '街面秩序管理（占道经营）', '《河北省城市市容和环境卫生条例》第二十条', ['0102'], street)
  addDuty(jd, '社会生活噪声管理', '《中华人民共和国噪声污染防治法》第五十九条', ['0402'], street)
  addDuty(jd, '街道绿化养护', '《城市绿化条例》第二十条', ['0104'], street)
  const jd2 = addUnit('新市场街道城管科', 'street_office', street2, '0312-5082200', 0.8)
  addDuty(jd2, '街面秩序管理（占道经营）', '《河北省城市市容和环境卫生条例》第二十条', ['0102', '0402', '0104'], street2)
  const jwh = addUnit('朝阳社区居委会', 'community', cy, '0312-5083301', 0.93)
  addDuty(jwh, '邻里纠纷调解', '《中华人民共和国人民调解法》第八条', ['0403'], cy)
  addDuty(jwh, '社区养老与政策咨询', '《中华人民共和国城市居民委员会组织法》第三条', ['0601', '0602'], cy)
  const hqjwh = addUnit('红旗社区居委会', 'community', hq, '0312-5083302', 0.84)
  addDuty(hqjwh, '邻里纠纷调解', '《中华人民共和国人民调解法》第八条', ['0403', '0601', '0602'], hq)
  const dfjwh = addUnit('东风社区居委会', 'community', df, '0312-5083303', 0.8)
  addDuty(dfjwh, '邻里纠纷调解', '《中华人民共和国人民调解法》第八条', ['0403', '0601', '0602'], df)
  const wy = addUnit('保定安居物业服务有限公司', 'property', cy, '0312-5089999', 0.72)
  addDuty(wy, '小区共用部位维修养护', '《物业管理条例》第三十五条；物业服务合同', ['0203', '0201'], cy)
  const sd = addUnit('国网保定供电公司竞秀分公司', 'utility', district, '95598', 0.95)
  addDuty(sd, '供电抢修', '《电力供应与使用条例》第二十八条', ['0502'])
  const zls = addUnit('保定市供水有限公司', 'utility', district, '0312-96111', 0.91)
  addDuty(zls, '供水抢修与水质', '《城市供水条例》第二十二条', ['0501'])

  // members: the demo users of server.mjs, plus a handler per department
  const byName = (n) => [...U.values()].find((u) => u.username === n)
  const handler = addUser('chengban', '孙承办', 'Demo@2026', [['department_handler', district]])
  const wuye = addUser('wuye', '周物业', 'Demo@2026', [['department_handler', cy]])
  addUser('jumin', '陈居民', 'Demo@2026', [['resident', cy]])
  addUser('zhujian', '吴住建', 'Demo@2026', [['department_handler', district]])
  cg.members.push(handler.id)
  wy.members.push(wuye.id)
  zj.members.push(byName('zhujian').id)
  if (byName('shequ')) jwh.members.push(byName('shequ').id)
  if (byName('jiedao')) jd.members.push(byName('jiedao').id)
}

// ---------------------------------------------------------------- routing
function route(categoryCode, areaId, skip = [], en = false) {
  const cat = catByCode(categoryCode)
  const area = A.get(areaId)
  const cname = cat?.name || categoryCode, aname = area?.name || ''
  void cname
  const hits = [...duties.values()].filter((d) => d.active && unitOf(d.unit_id)?.active && d.category_codes.includes(categoryCode) && under(areaId, d.area_id))
  const skipped = hits.filter((d) => skip.includes(d.unit_id)).map((d) => unitOf(d.unit_id).name)
  const ok = hits.filter((d) => !skip.includes(d.unit_id)).sort((a, b) => depth(b.area_id) - depth(a.area_id))
  const skipText = skipped.length ? (en ? ` (skipped the units that returned it: ${[...new Set(skipped)].join(', ')})` : `（已跳过退单单位：${[...new Set(skipped)].join('、')}）`) : ''
  if (ok.length) {
    const d = ok[0], u = unitOf(d.unit_id), da = A.get(d.area_id)
    return {
      unit_id: u.id, unit_name: u.name, duty_id: d.id, duty_name: d.name, rule: 'power_list',
      explanation: en
        ? `Power list: the duty “${d.name}” of ${u.name} covers category ${categoryCode} (${cname}) in ${da?.name} (basis: ${d.legal_basis})${skipText}`
        : `按权责清单：${u.name}的「${d.name}」覆盖事项 ${categoryCode}，服务区域 ${da?.name}（依据：${d.legal_basis}）${skipText}`,
    }
  }
  // territorial: the community (or street) unit of the place
  for (const a of ancestors(areaId)) {
    const u = [...units.values()].find((x) => x.active && x.area_id === a.id && ['community', 'street_office'].includes(x.kind) && !skip.includes(x.id))
    if (u) {
      return {
        unit_id: u.id, unit_name: u.name, duty_id: null, duty_name: null, rule: 'territorial',
        explanation: en
          ? `No power list covers category ${categoryCode} (${cname}); by territory ${u.name} handles it${skipText}`
          : `权责清单未覆盖事项 ${categoryCode}，按属地兜底由${u.name}承办${skipText}`,
      }
    }
  }
  return {
    unit_id: null, unit_name: null, duty_id: null, duty_name: null, rule: 'none',
    explanation: en ? `No unit covers category ${categoryCode} (${cname}) in ${aname}; choose the unit by hand` : `没有单位的权责清单或属地覆盖事项 ${categoryCode}（${aname}），请人工指定承办单位`,
  }
}

// ---------------------------------------------------------------- cases
const cases = new Map()
const idem = new Map() // Idempotency-Key → case id
const files = new Map() // id → {id, name, size, content_type, data}
const MAX_RETURNS = 2
const MAX_EXTENSIONS = 1
const WARN_PERCENT = 20
const ACTIVE = ['dispatched', 'in_progress']
const OPEN = ['received', 'registered', 'arbitration', 'dispatched', 'in_progress', 'handled', 'verified', 'rated']
const NO_CHARS = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
const caseNo = (ms) => bjDay(ms).replace(/-/g, '') + '-' + Array.from({ length: 8 }, () => NO_CHARS[Math.floor(Math.random() * NO_CHARS.length)]).join('')

const STATUS_ZH = {
  received: '受理', registered: '立案', dispatched: '已派遣', in_progress: '处置中', handled: '已办结', verified: '已核查', rated: '已回访',
  closed: '结案', rejected: '不予立案', merged: '已合并', arbitration: '仲裁',
}
const STATUS_EN = {
  received: 'received', registered: 'registered', dispatched: 'dispatched', in_progress: 'in progress', handled: 'handled', verified: 'verified',
  rated: 'rated', closed: 'closed', rejected: 'rejected', merged: 'merged', arbitration: 'arbitration',
}
const ACTION_ZH = {
  register: '立案', reject: '不予立案', dispatch: '派遣', accept: '签收', return: '退单', arbitrate: '仲裁', handle: '办结', verify: '核查',
  rate: '回访评价', close: '结案', request_extension: '申请延期', decide_extension: '审批延期', supervise: '督办', merge: '合并', reopen: '重启',
}
// the labels the server adds to its answers (status_label, kind_label, action_label), in the request's language
const LABELS = {
  zh: {
    status: { ...STATUS_ZH, closed: '已结案' },
    kind: { consult: '咨询', help: '求助', complaint: '投诉', report: '举报', suggestion: '建议' },
    unitKind: { department: '职能部门', street_office: '街道科室', community: '社区', property: '物业', utility: '公用企业', other: '其他' },
    whistle: { daily: '日常', tough: '攻坚', emergency: '应急' },
    action: { ...ACTION_ZH, receive: '受理', whistle: '吹哨', arrive: '报到', warn: '临期预警', overdue: '超期' },
  },
  en: {
    status: { received: 'Received', registered: 'Registered', dispatched: 'Dispatched', in_progress: 'In progress', handled: 'Handled', verified: 'Verified', rated: 'Rated', closed: 'Closed', rejected: 'Rejected', merged: 'Merged', arbitration: 'Arbitration' },
    kind: { consult: 'Consultation', help: 'Help', complaint: 'Complaint', report: 'Report', suggestion: 'Suggestion' },
    unitKind: { department: 'Department', street_office: 'Street office', community: 'Community', property: 'Property management', utility: 'Utility', other: 'Other' },
    whistle: { daily: 'Daily', tough: 'Tough', emergency: 'Emergency' },
    action: {
      receive: 'Received', register: 'Registered', reject: 'Rejected', dispatch: 'Dispatched', accept: 'Accepted', return: 'Returned', arbitrate: 'Arbitrated',
      handle: 'Handled', verify: 'Verified', rate: 'Rated', close: 'Closed', request_extension: 'Extension asked', decide_extension: 'Extension decided',
      supervise: 'Supervision notice', merge: 'Merged', reopen: 'Reopened', whistle: 'Whistle', arrive: 'Reported in', warn: 'Deadline warning', overdue: 'Overdue',
    },
  },
}
const label = (list, code) => (EN ? LABELS.en : LABELS.zh)[list][code] || code

function ev(c, at, actor, action, from, to, extra = {}) {
  c.events.push({ id: randomUUID(), at: iso(at), actor_name: actor, action, from_status: from, to_status: to, unit_name: extra.unit_name ?? null, note: extra.note ?? null, attachments: extra.attachments || [] })
}
function setDeadlines(c, at, lenient) {
  const cat = catByCode(c.category_code)
  c.dispatched_at = at
  c.response_due_at = addLimit(at, cat.response_limit, lenient)
  c.handle_due_at = addLimit(at, cat.handle_limit, lenient)
  c.warned = false
}
/** Warning and overdue flags: set on read, each once, as timeline events (like the server's clock). */
function tick(c) {
  if (!ACTIVE.includes(c.status) || !c.handle_due_at) return
  const t = nowMs()
  const total = c.handle_due_at - (c.dispatched_at || c.received_at)
  const warnAt = c.handle_due_at - (total * WARN_PERCENT) / 100
  if (!c.warned && t >= warnAt) {
    c.warned = true
    ev(c, Math.max(warnAt, c.dispatched_at || 0), '系统', 'warn', null, null, { note: `办理时限剩余不足 ${WARN_PERCENT}%` })
  }
  if (!c.overdue_flag && t >= c.handle_due_at) {
    c.overdue_flag = true
    ev(c, c.handle_due_at, '系统', 'overdue', null, null, { note: '已超过办理时限' })
  }
}
const isOverdue = (c) => !!c.handle_due_at && (c.handled_at ? c.handled_at > c.handle_due_at : ['dispatched', 'in_progress'].includes(c.status) && nowMs() > c.handle_due_at)

function summary(c) {
  tick(c)
  const cat = catByCode(c.category_code), area = A.get(c.area_id), unit = unitOf(c.unit_id)
  const due = ACTIVE.includes(c.status) && c.handle_due_at ? Math.round((c.handle_due_at - nowMs()) / MIN) : null
  return {
    id: c.id, no: c.no, kind: c.kind, kind_label: label('kind', c.kind), category_code: c.category_code, category_name: cat?.name || '', title: c.title,
    status: c.status, status_label: label('status', c.status), channel: c.channel,
    area_id: c.area_id, area_name: area?.name || '', community_name: up(c.area_id, 'community')?.name || '', unit_id: unit?.id || null, unit_name: unit?.name || null,
    received_at: iso(c.received_at), handle_due_at: iso(c.handle_due_at), due_in_minutes: due, overdue: isOverdue(c), warned: !!c.warned && ACTIVE.includes(c.status),
    supervised: !!c.supervised, return_count: c.return_count, rating: c.rating, version: c.version,
  }
}
function allowed(c, me) {
  const roles = legacyRoles(me, 'cases')
  const dispatcher = ['system_admin', 'street_admin', 'community_worker'].some((r) => roles.has(r)) && inScope(me, c.area_id)
  const street = ['system_admin', 'street_admin'].some((r) => roles.has(r)) && inScope(me, c.area_id)
  const handler = memberOf(me, c.unit_id)
  const requester = c.requester.user_id === me.id
  const canExtend = handler && !c.pending_extension && c.extension_count < MAX_EXTENSIONS
  const out = []
  const add = (cond, ...a) => cond && out.push(...a)
  switch (c.status) {
    // like the server: a received case may be dispatched at once (registered on the way)
    case 'received': add(dispatcher, 'register', 'reject', 'dispatch', 'merge'); break
    case 'registered': add(dispatcher, 'dispatch', 'merge'); break
    case 'arbitration': add(street, 'arbitrate'); break
    case 'dispatched':
      // the server lets the unit handle (and ask for more time) before it accepts
      add(handler, 'accept', 'handle'); add(canExtend, 'request_extension'); add(handler && !c.bound, 'return'); add(dispatcher || street, 'supervise'); break
    case 'in_progress':
      add(handler, 'handle'); add(handler && !c.bound, 'return'); add(canExtend, 'request_extension')
      add(dispatcher && !!c.pending_extension, 'decide_extension'); add(dispatcher || street, 'supervise'); break
    case 'handled': add(dispatcher, 'verify'); break
    case 'verified':
      add(dispatcher || requester, 'rate'); add(dispatcher && !catByCode(c.category_code)?.return_visit_required, 'close'); break
    case 'rated':
      add(dispatcher, 'close'); add(dispatcher && c.rating === 'dissatisfied' && c.reopen_count === 0, 'reopen'); break
    case 'closed': add(dispatcher && c.rating === 'dissatisfied' && c.reopen_count === 0, 'reopen'); break
  }
  // 吹哨 (POST /cases/{id}/whistles): the street, while a unit works on it
  add(street && ACTIVE.includes(c.status), 'whistle')
  // 报到: one of my units was summoned and has not reported in
  add(c.whistles.some((w) => w.units.some((u) => !u.arrived_at && memberOf(me, u.unit_id))), 'arrive')
  return out
}
function detail(c, me, en) {
  const s = summary(c)
  const roles = legacyRoles(me, 'cases')
  const dispatcher = ['system_admin', 'street_admin', 'community_worker'].some((r) => roles.has(r)) && inScope(me, c.area_id)
  // like the server: dispatchers of the area, members of the unit and the submitter see the requester
  const masked = !memberOf(me, c.unit_id) && c.requester.user_id !== me.id && c.created_by !== me.id && !dispatcher
  const ph = c.requester.phone
  return {
    ...s, description: c.description, address: c.address, dwelling_id: null, lat: c.lat, lon: c.lon,
    requester: { name: masked ? c.requester.name.slice(0, 1) + '*'.repeat(Math.max(1, c.requester.name.length - 1)) : c.requester.name, phone: ph ? (masked ? ph.slice(0, 3) + '****' + ph.slice(-4) : ph) : null, masked },
    routing: ['registered', 'received', 'arbitration'].includes(c.status) ? route(c.category_code, c.area_id, c.returned_unit_ids, en) : c.routing ? (en ? c.routing.en : c.routing.zh) : null,
    first_unit_id: c.first_unit_id, first_unit_name: unitOf(c.first_unit_id)?.name || null, bound: c.bound,
    response_due_at: iso(c.response_due_at), verify_due_at: iso(c.verify_due_at), dispatched_at: iso(c.dispatched_at), responded_at: iso(c.responded_at),
    handled_at: iso(c.handled_at), verified_at: iso(c.verified_at), closed_at: iso(c.closed_at), result: c.result, outcome: c.outcome,
    rating_comment: c.rating_comment, extension_count: c.extension_count, reopen_count: c.reopen_count, supervise_count: c.supervise_count || 0, merged_into: c.merged_into,
    pending_extension: c.pending_extension,
    whistles: c.whistles.map((w) => ({
      id: w.id, kind: w.kind, kind_label: label('whistle', w.kind), note: w.note, deadline_at: iso(w.deadline_at), created_at: iso(w.created_at), created_by: w.created_by || '李街道',
      // late: arrived after the deadline, or the deadline passed without arrival
      units: w.units.map((u) => ({ unit_id: u.unit_id, unit_name: unitOf(u.unit_id)?.name, arrived_at: iso(u.arrived_at), arrived_by: u.arrived_by || null, late: u.arrived_at ? u.arrived_at > w.deadline_at : nowMs() > w.deadline_at })),
    })),
    allowed_actions: allowed(c, me),
    // like the server: the resident's rating link, for dispatchers, while the case waits for its rating
    rating_link: dispatcher && c.status === 'verified' && !c.rating ? `/rate/${ratingToken(c)}` : null,
  }
}

function inScope(me, areaId) {
  return me.grants.some((g) => (g.role === 'system_admin' && !g.area_id) || ancestors(areaId).some((a) => a.id === g.area_id))
}
const STAFF = ['system_admin', 'district_admin', 'hotline_centre', 'street_admin', 'community_admin', 'community_worker', 'grid_worker', 'party_secretary', 'department_handler']
const isStaff = (me) => me.grants.some((g) => STAFF.includes(g.role))

// ---------------------------------------------------------------- seed cases
const TEXTS = {
  '0101': ['{p}东侧的垃圾桶已经满了两天没人清运，气味很大，招苍蝇。', '小区门口的建筑垃圾堆了一个多星期，希望尽快清走。', '垃圾分类亭旁边的厨余垃圾桶破损漏水，地面很脏。'],
  '0102': ['早市摊贩占用人行道和消防通道，早上7点到9点车辆无法通行。', '{p}门口的烧烤摊晚上占道经营，桌椅摆到了马路上，油烟很大。', '水果摊长期占用盲道，老人推车过不去。'],
  '0103': ['{p}临街楼体外挂的大型广告牌松动，大风天晃得厉害，担心掉下来砸人。', '底商门头牌匾破损，半边耷拉着。'],
  '0104': ['小区绿地里的大树枝遮挡了路灯和三楼窗户，请帮忙修剪。', '{p}旁边的绿化带枯死一大片，杂草丛生。'],
  '0201': ['物业不按时打扫楼道，楼道里堆满杂物，多次反映无人处理。', '物业收费后不公示收支明细，希望督促公开。', '地下车库照明坏了一半，晚上很黑，物业一直不修。'],
  '0202': ['{p}电梯频繁停运，今天又困人了，家里有老人出行很困难。', '电梯运行时异响很大，轿厢里的年检标志已经过期。'],
  '0203': ['楼上卫生间漏水到我家顶棚，和楼上协商不成。', '顶楼下雨渗水，墙皮大面积脱落，家具都泡了。'],
  '0204': ['一楼住户在院内私自搭建彩钢房，占用公共绿地。', '{p}楼顶有人加盖阳光房，担心影响楼体安全。'],
  '0301': ['{p}往北的三盏路灯不亮，晚上走路很不安全。', '小区北门的路灯忽明忽暗已经一周了。'],
  '0302': ['人行道上的井盖缺失，已经有人差点掉进去，请立即处理！', '{p}门前井盖破损下陷，车辆经过哐哐响。'],
  '0303': ['{p}路段路面塌陷出一个大坑，雨天积水，电动车容易摔倒。', '人行道地砖大面积松动翘起。'],
  '0401': ['工地夜间22点以后还在施工打桩，严重影响休息。', '周末早上6点就开始切割钢筋，噪音太大。'],
  '0402': ['底商KTV晚上音响声很大，一直吵到凌晨。', '{p}超市门口大喇叭循环播放促销广告。'],
  '0403': ['楼上每天深夜拖动家具、跳绳，沟通多次无效。', '邻居家的狗整夜叫，老人睡不着觉。'],
  '0501': ['从早上开始整栋楼没有水，也没看到停水通知。', '自来水发黄，有异味，不敢喝。'],
  '0502': ['{p}整个单元停电三个小时了，冰箱里的东西都要坏了。', '楼道照明和门禁都没电了。'],
  '0503': ['家里暖气不热，室温只有14度，家里有婴儿。', '暖气管道漏水，地板都泡了，请尽快派人维修。'],
  '0601': ['独居老人想申请社区助餐服务，不知道怎么办理。', '想了解社区日间照料中心的开放时间和收费。'],
  '0602': ['咨询老旧小区改造加装电梯的补贴政策。', '咨询居住证办理需要哪些材料。'],
}
const PLACES = {
  朝阳社区: ['3号楼', '5号楼2单元', '朝阳街88号', '社区北门', '朝阳街与东风路交叉口', '1号楼底商'],
  第一网格: ['1号楼', '2号楼1单元', '3号楼东侧', '朝阳街62号'],
  第二网格: ['5号楼', '6号楼3单元', '朝阳街90号院', '社区活动中心'],
  红旗社区: ['红旗小区12号楼', '红旗路与朝阳街交叉口', '红旗菜市场', '红旗路21号'],
  东风社区: ['东风小区7号楼', '东风路口', '东风商业街', '东风小学南门'],
}
const SURN = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶'
const GIVEN = ['建国', '秀英', '志强', '桂兰', '伟', '淑珍', '磊', '丽', '军', '静', '海波', '敏', '国庆', '艳', '振华', '芳', '德明', '雪梅', '春生', '玉兰']
const mobile = () => pick(['138', '139', '135', '150', '151', '158', '186', '187', '188', '177']) + String(Math.floor(rnd() * 1e8)).padStart(8, '0')
const RESULTS = {
  resolved: ['已安排人员到现场处理完毕，问题已解决，并与诉求人电话确认。', '已完成维修，现场照片已上传。', '已协调相关单位清理完毕，后续纳入日常巡查。'],
  explained: ['已向诉求人解释相关政策和办理流程，诉求人表示理解。', '经核实属于正常施工许可范围，已向诉求人说明。'],
  unresolvable: ['涉及历史遗留产权问题，暂不具备解决条件，已向诉求人说明并登记跟踪。'],
}
const RETURN_REASONS = ['不属于本单位职责，应由属地社区先行处置。', '该路段不在本单位管养范围内。', '经核实属于小区内部物业管理事项。']
const DISPATCHERS = ['李街道', '张社区', '王海燕']

/**
 * Walk one case through its lifecycle up to `stop`, with seeded times starting at `t0`.
 * `q` (0–1) is the handling unit's quality: how often it is on time, resolves and pleases.
 */
function seedCase({ t0, area, code, stop, q = 0.85, requesterUser = null, channel, extra = {} }) {
  const cat = catByCode(code)
  const place = pick(PLACES[area.name] || PLACES[up(area.id, 'community')?.name] || ['社区'])
  const text = pick(TEXTS[code]).replace('{p}', place)
  const pt = area.boundary ? randomPointIn(area) : null
  const kind = code === '0602' || code === '0601' ? pick(['consult', 'help']) : pick(['complaint', 'complaint', 'complaint', 'help', 'report', 'suggestion'])
  const name = requesterUser ? requesterUser.display_name : pick([...SURN]) + pick(GIVEN)
  const c = {
    id: randomUUID(), no: caseNo(t0), kind, category_code: code, title: `${cat.name}：${text.slice(0, 18)}${text.length > 18 ? '…' : ''}`, description: text,
    status: 'received', channel: channel || (requesterUser ? 'phone_page' : pick(['hotline', 'hotline', 'hotline', 'console', 'patrol', 'phone_page', 'visit'])),
    area_id: area.id, address: `${up(area.id, 'community')?.name || area.name}${place}`, lat: pt?.lat ?? null, lon: pt?.lon ?? null,
    requester: { name, phone: requesterUser ? '13931201234' : mobile(), user_id: requesterUser?.id || null },
    unit_id: null, first_unit_id: null, bound: false, returned_unit_ids: [], return_count: 0, routing: null,
    received_at: t0, dispatched_at: null, responded_at: null, handled_at: null, verified_at: null, closed_at: null,
    response_due_at: null, handle_due_at: null, verify_due_at: null, warned: false, overdue_flag: false, supervised: false,
    result: null, outcome: null, rating: null, rating_comment: null, extension_count: 0, reopen_count: 0, merged_into: null, pending_extension: null,
    whistles: [], version: 1, events: [], created_by: null,
  }
  cases.set(c.id, c)
  const disp = pick(DISPATCHERS)
  ev(c, t0, c.channel === 'hotline' ? '12345热线' : c.channel === 'phone_page' ? name : disp, 'receive', null, 'received', { note: c.channel === 'hotline' ? '12345 热线转办' : null })
  let t = t0
  const done = (s) => stop === s
  if (done('received')) return c
  t = intoWorkHours(t + between(10, 120) * MIN)
  if (stop === 'rejected') {
    c.status = 'rejected'
    ev(c, t, disp, 'reject', 'received', 'rejected', { note: '经核实，诉求人反映的问题已于前日由物业处理完毕，属重复诉求。' })
    return c
  }
  ev(c, t, disp, 'register', 'received', 'registered'); c.status = 'registered'
  if (done('registered') && !extra.returns) return c
  const returns = extra.returns || 0
  for (let i = 0; i < returns; i++) {
    // a wrong unit first (the territorial community), which returns it
    const wrong = [...units.values()].find((u) => u.kind === 'community' && under(c.area_id, u.area_id) && !c.returned_unit_ids.includes(u.id)) || pick([...units.values()])
    t = intoWorkHours(t + between(5, 40) * MIN)
    c.unit_id = wrong.id; c.first_unit_id ||= wrong.id; setDeadlines(c, t, true)
    const r = route(code, c.area_id, c.returned_unit_ids)
    c.routing = { zh: r, en: route(code, c.area_id, c.returned_unit_ids, true) }
    ev(c, t, disp, 'dispatch', 'registered', 'dispatched', { unit_name: wrong.name })
    c.status = 'dispatched'
    t = intoWorkHours(t + between(30, 300) * MIN)
    c.return_count++; c.returned_unit_ids.push(wrong.id)
    const to = c.return_count >= MAX_RETURNS ? 'arbitration' : 'registered'
    ev(c, t, '社区值班员', 'return', 'dispatched', to, { unit_name: wrong.name, note: pick(RETURN_REASONS) })
    c.status = to; c.unit_id = null; c.handle_due_at = c.response_due_at = c.dispatched_at = null
  }
  if (done('registered') || done('arbitration')) return c
  t = intoWorkHours(t + between(5, 60) * MIN)
  let unit
  if (c.status === 'arbitration') {
    unit = unitOf(route(code, c.area_id, []).unit_id)
    c.bound = true
    ev(c, t, '李街道', 'arbitrate', 'arbitration', 'dispatched', { unit_name: unit.name, note: '经街道协调会研究，由该单位牵头办理，不得再退单。' })
  } else {
    const r = route(code, c.area_id, c.returned_unit_ids)
    c.routing = { zh: r, en: route(code, c.area_id, c.returned_unit_ids, true) }
    unit = unitOf(r.unit_id)
    ev(c, t, disp, 'dispatch', 'registered', 'dispatched', { unit_name: unit.name })
  }
  c.unit_id = unit.id; c.first_unit_id ||= unit.id; c.status = 'dispatched'
  setDeadlines(c, t, true)
  q = extra.q ?? unit.quality ?? q
  if (done('dispatched')) return c
  // accept: usually within the response limit
  const respWin = c.response_due_at - t
  t = t + respWin * (chance(q) ? between(0.05, 0.9) : between(1.1, 2.5))
  t = Math.max(c.dispatched_at + MIN, Math.min(t, nowMs() - between(5, 40) * MIN)) // never in the future
  c.responded_at = t
  ev(c, t, unit.name + '承办人', 'accept', 'dispatched', 'in_progress', { unit_name: unit.name }); c.status = 'in_progress'
  if (extra.extension) {
    t += between(1, 4) * HOUR
    c.pending_extension = { days: 3, reason: '需协调产权单位共同维修，配件采购需要时间。' }
    ev(c, t, unit.name + '承办人', 'request_extension', null, null, { unit_name: unit.name, note: '申请延期 3 个工作日：' + c.pending_extension.reason })
  }
  if (extra.supervise) {
    t += between(1, 6) * HOUR
    c.supervised = true; c.supervise_count = 1
    ev(c, Math.min(t, nowMs() - 5 * MIN), '李街道', 'supervise', null, null, { note: '群众反映强烈，请加快办理，3 个工作日内办结并反馈。' })
  }
  if (done('in_progress')) return c
  const handleWin = c.handle_due_at - c.dispatched_at
  t = c.dispatched_at + handleWin * (chance(q) ? between(0.2, 0.95) : between(1.05, 1.8))
  t = Math.max(c.responded_at + 10 * MIN, Math.min(t, nowMs() - between(1, 20) * HOUR))
  const outcome = chance(q) ? 'resolved' : chance(0.6) ? 'explained' : 'unresolvable'
  c.handled_at = t; c.outcome = outcome; c.result = pick(RESULTS[outcome])
  c.verify_due_at = addLimit(t, cat.verify_limit, true)
  ev(c, t, unit.name + '承办人', 'handle', 'in_progress', 'handled', { unit_name: unit.name, note: c.result })
  c.status = 'handled'
  if (done('handled')) return c
  t = Math.min(t + between(1, 20) * HOUR, nowMs() - between(10, 120) * MIN)
  c.verified_at = t
  ev(c, t, disp, 'verify', 'handled', 'verified', { note: '现场核查属实，已处理完毕。' }); c.status = 'verified'
  if (done('verified')) return c
  t = Math.min(t + between(1, 30) * HOUR, nowMs() - between(5, 60) * MIN)
  const sat = outcome === 'resolved' ? q : q * 0.5
  c.rating = chance(sat) ? 'satisfied' : chance(0.55) ? 'basic' : 'dissatisfied'
  c.rating_comment = c.rating === 'satisfied' ? pick(['处理很及时，谢谢！', '工作人员态度很好。', null]) : c.rating === 'dissatisfied' ? pick(['问题没有根本解决。', '拖了很久才处理。']) : null
  ev(c, t, c.channel === 'phone_page' ? name : '回访员', 'rate', 'verified', 'rated', { note: c.rating_comment })
  c.status = 'rated'
  if (done('rated')) return c
  t = Math.min(t + between(1, 8) * HOUR, nowMs() - between(1, 30) * MIN)
  c.closed_at = t
  ev(c, t, disp, 'close', 'rated', 'closed'); c.status = 'closed'
  return c
}

function seedCases() {
  const grids = [...A.values()].filter((a) => a.kind === 'grid' && a.boundary)
  const places = [...grids, ...grids] // grids twice as likely as plain communities
  for (const n of ['朝阳社区', '红旗社区', '东风社区']) places.push(areaByName(n))
  const codes = [...categories.values()].filter((c) => c.level === 2).map((c) => c.code)
  // the heavy categories of a northern city: waste, parking/stalls, property, heating in winter
  const weight = (code, month) => ({ '0101': 4, '0102': 3, '0201': 4, '0202': 2, '0301': 2, '0401': month >= 4 && month <= 9 ? 3 : 1, '0503': month >= 11 || month <= 3 ? 6 : 0 }[code] ?? 1)
  const wcode = (month) => {
    const list = codes.flatMap((c) => Array(weight(c, month)).fill(c))
    return pick(list)
  }
  const now = nowMs()
  // history: from 1 January of last year to ~4 days ago, mostly closed
  const start = bjAt(`${Number(bjDay(now).slice(0, 4)) - 1}-01-02`, 9)
  const end = now - 4 * DAY
  const n = 560
  for (let i = 0; i < n; i++) {
    const t0 = intoWorkHours(start + ((end - start) * (i + rnd())) / n)
    const month = Number(bjDay(t0).slice(5, 7))
    const r = rnd()
    const stop = r < 0.03 ? 'rejected' : r < 0.9 ? 'closed' : r < 0.95 ? 'rated' : 'closed'
    const c = seedCase({ t0, area: pick(places), code: wcode(month), stop, extra: { returns: chance(0.06) ? 1 : 0 } })
    if (c.status === 'closed' && c.rating === 'dissatisfied' && chance(0.3)) c.reopen_count = 0
  }
  // a hotspot: 垃圾清运 in 红旗社区 jumped in the last week
  const hq = areaByName('红旗社区')
  for (let i = 0; i < 6; i++) seedCase({ t0: intoWorkHours(now - between(2, 6.5) * DAY), area: hq, code: '0101', stop: pick(['closed', 'rated', 'handled']) })
  for (let i = 0; i < 4; i++) seedCase({ t0: intoWorkHours(now - between(1, 6) * DAY), area: pick(grids), code: '0503', stop: pick(['closed', 'in_progress', 'verified']) })

  // the live queues
  const g1 = areaByName('第一网格'), cy = areaByName('朝阳社区')
  const jumin = [...U.values()].find((u) => u.username === 'jumin')
  const recent = (h) => now - h * HOUR
  const plan = [
    // 待立案
    ...Array.from({ length: 4 }, () => ({ t0: recent(between(0.3, 6)), stop: 'received' })),
    { t0: recent(1.5), stop: 'received', code: '0302', area: g1 },
    // 待派遣 (one returned once)
    ...Array.from({ length: 3 }, () => ({ t0: recent(between(2, 20)), stop: 'registered' })),
    { t0: recent(30), stop: 'registered', code: '0203', area: g1, extra: { returns: 1 } },
    // 仲裁: returned twice
    { t0: recent(60), stop: 'arbitration', code: '0104', area: cy, extra: { returns: 2 } },
    { t0: recent(75), stop: 'arbitration', code: '0203', area: areaByName('红旗社区'), extra: { returns: 2 } },
    // 已派遣 / 处置中, some overdue, some warned
    ...Array.from({ length: 5 }, () => ({ t0: recent(between(1, 30)), stop: 'dispatched' })),
    { t0: recent(52), stop: 'dispatched', code: '0302', area: g1 },
    ...Array.from({ length: 7 }, () => ({ t0: recent(between(4, 120)), stop: 'in_progress' })),
    { t0: recent(100), stop: 'in_progress', code: '0101', area: g1 },
    { t0: recent(150), stop: 'in_progress', code: '0201', area: cy, extra: { supervise: true } },
    { t0: recent(20), stop: 'in_progress', code: '0203', area: g1, extra: { extension: true } },
    { t0: recent(26), stop: 'in_progress', code: '0102', area: areaByName('第二网格'), whistle: true },
    // 待核查, 待回访, 已回访
    ...Array.from({ length: 4 }, () => ({ t0: recent(between(20, 140)), stop: 'handled' })),
    ...Array.from({ length: 4 }, () => ({ t0: recent(between(40, 200)), stop: 'verified' })),
    ...Array.from({ length: 3 }, () => ({ t0: recent(between(60, 220)), stop: 'rated' })),
    // the resident's own cases (陈居民, /my/cases)
    { t0: recent(3), stop: 'received', code: '0301', area: g1, requester: jumin },
    { t0: recent(48), stop: 'in_progress', code: '0201', area: g1, requester: jumin },
    { t0: recent(120), stop: 'verified', code: '0101', area: g1, requester: jumin },
    { t0: now - 25 * DAY, stop: 'closed', code: '0403', area: g1, requester: jumin },
  ]
  for (const x of plan) {
    const t0 = x.stop === 'received' ? x.t0 : intoWorkHours(x.t0)
    const c = seedCase({ t0: Math.min(t0, now - 10 * MIN), area: x.area || pick(places), code: x.code || wcode(Number(bjDay(now).slice(5, 7))), stop: x.stop, requesterUser: x.requester, extra: x.extra || {} })
    if (x.whistle && jumin) {
      const street = [...units.values()].find((u) => u.kind === 'street_office' && under(c.area_id, u.area_id))
      const others = [street, [...units.values()].find((u) => u.name.includes('城市管理'))].filter(Boolean)
      const at = now - 50 * MIN
      c.whistles.push({ id: randomUUID(), kind: 'daily', note: '早市占道问题反复出现，请相关单位到现场联合处置。', deadline_at: at + 30 * MIN, created_at: at, units: others.map((u, i) => ({ unit_id: u.id, arrived_at: i === 0 ? at + 18 * MIN : null })) })
      ev(c, at, '李街道', 'whistle', null, null, { note: `街道吹哨（日常）：${others.map((u) => u.name).join('、')}，30 分钟内报到` })
      ev(c, at + 18 * MIN, others[0].name, 'arrive', null, null, { unit_name: others[0].name })
    }
  }
  // merge one fresh duplicate into an older open case
  const open = [...cases.values()].filter((c) => c.status === 'in_progress')
  if (open.length) {
    const into = open[0]
    const dup = seedCase({ t0: recent(5), area: A.get(into.area_id), code: into.category_code, stop: 'received' })
    dup.status = 'merged'; dup.merged_into = into.id
    ev(dup, recent(4.5), '张社区', 'merge', 'received', 'merged', { note: `与诉求 ${into.no} 反映同一问题，合并办理。` })
  }
  for (const c of cases.values()) c.events.sort((a, b) => a.at.localeCompare(b.at))
}

// ---------------------------------------------------------------- stats
function rates(list) {
  const t = nowMs()
  const r = { received: list.length, due: 0, responded_in_time: 0, resolved: 0, handled_in_time: 0, closed: 0, rated: 0, satisfied: 0, basic: 0, dissatisfied: 0, overdue: 0, supervised: 0, returned: 0 }
  for (const c of list) {
    if (['received', 'rejected', 'merged'].includes(c.status)) continue
    if (c.supervised) r.supervised++
    if (c.return_count) r.returned++
    if (isOverdue(c)) r.overdue++
    if (c.rating) { r.rated++; r[c.rating === 'basic' ? 'basic' : c.rating]++ }
    const due = c.handled_at || (c.handle_due_at && c.handle_due_at < t)
    if (!due) continue
    r.due++
    if (c.responded_at && c.response_due_at && c.responded_at <= c.response_due_at) r.responded_in_time++
    if (c.handled_at && c.outcome === 'resolved') r.resolved++
    if (c.handled_at && c.handle_due_at && c.handled_at <= c.handle_due_at) r.handled_in_time++
    if (c.status === 'closed') r.closed++
  }
  const ratio = (a, b) => (b ? Number((a / b).toFixed(4)) : null)
  r.response_rate = ratio(r.responded_in_time, r.due)
  r.resolve_rate = ratio(r.resolved, r.due)
  r.satisfaction_rate = ratio(r.satisfied + r.basic, r.rated)
  r.on_time_rate = ratio(r.handled_in_time, r.due)
  r.close_rate = ratio(r.closed, r.due)
  const parts = [[WEIGHTS.response, r.response_rate], [WEIGHTS.resolve, r.resolve_rate], [WEIGHTS.satisfaction, r.satisfaction_rate]].filter(([, v]) => v != null)
  const w = parts.reduce((s, [x]) => s + x, 0)
  r.score = w ? Number((parts.reduce((s, [x, v]) => s + x * v, 0) / w * 100).toFixed(1)) : null
  return r
}
const WEIGHTS = { response: 30, resolve: 35, satisfaction: 35 }
// GET /case-stats → definitions: [{key, name, formula}] in the request's language (the server's words)
const DEFINITIONS = {
  zh: [
    ['period', '统计口径', '按受理日（北京时间）归入统计期、区域、承办单位和事项分类'],
    ['due', '应办件', '已立案（不含不予立案、已合并）且已办结或已超过办理时限的诉求'],
    ['response_rate', '响应率', '在响应时限内签收的应办件 ÷ 应办件'],
    ['resolve_rate', '解决率', '办结结果为「已解决」的应办件 ÷ 应办件'],
    ['satisfaction_rate', '满意率', '（满意 + 基本满意）÷ 已评价件'],
    ['on_time_rate', '按期办结率', '在办理时限（含批准的延期）内办结的应办件 ÷ 应办件'],
    ['close_rate', '结案率', '已结案的应办件 ÷ 应办件'],
    ['score', '综合得分', '响应率、解决率、满意率按权重加权（默认 30/35/35），满分 100；没有基数的率不计，其权重按比例分给其余各率'],
  ].map(([key, name, formula]) => ({ key, name, formula })),
  en: [
    ['period', 'Attribution', 'A case counts in the period, area, unit and category of the day it was received (Beijing time)'],
    ['due', 'Due', 'Registered cases (not rejected or merged) that are handled or whose handling deadline has passed'],
    ['response_rate', 'Response rate', 'Due cases accepted within the response limit ÷ due cases'],
    ['resolve_rate', 'Resolution rate', 'Due cases handled with the outcome “resolved” ÷ due cases'],
    ['satisfaction_rate', 'Satisfaction rate', '(satisfied + basically satisfied) ÷ rated cases'],
    ['on_time_rate', 'On-time rate', 'Due cases handled within the handling limit (with approved extensions) ÷ due cases'],
    ['close_rate', 'Close rate', 'Closed due cases ÷ due cases'],
    ['score', 'Composite score', 'Response, resolution and satisfaction rates weighted (default 30/35/35), out of 100; a rate without a base is left out and its weight shared by the others'],
  ].map(([key, name, formula]) => ({ key, name, formula })),
}

// ---------------------------------------------------------------- 12345 hotline import
// POST /cases/import?mode=dry_run|commit: one work order per row (the template's columns, Chinese headers).
const HOTLINE_COLUMNS = ['工单号', '受理时间', '诉求类型', '事项分类编码', '诉求内容', '区域编码', '经度', '纬度', '地址', '诉求人', '联系电话']
const HOTLINE_REQUIRED = ['工单号', '事项分类编码', '诉求内容']
const KIND_OF = { 咨询: 'consult', 求助: 'help', 投诉: 'complaint', 举报: 'report', 建议: 'suggestion' }
const hotlineNos = new Map() // 工单号 → case id (imported before: `unchanged`)
function hotlineImport(rows, commit, me) {
  const T = (zh, e) => (EN ? e : zh)
  const head = rows.shift() || []
  const missing = HOTLINE_REQUIRED.filter((c) => !head.includes(c))
  if (missing.length) return { status: 422, fields: { file: T(`缺少必填列：${missing.join('、')}`, `Missing columns: ${missing.join(', ')}`) } }
  const col = (r, k) => (head.includes(k) ? (r[head.indexOf(k)] ?? '').trim() : '')
  const problems = []
  const good = []
  const seen = new Set()
  let unchanged = 0, errorRows = 0
  rows.forEach((r, i) => {
    const row = i + 2
    const mine = []
    const bad = (column, problem) => mine.push({ row, column, problem })
    const no = col(r, '工单号')
    if (!no || no.length > 60) bad('工单号', T('工单号必填，最多 60 个字符', 'The order number is required, at most 60 characters'))
    else if (seen.has(no)) bad('工单号', T(`工单号「${no}」在文件中重复`, `The order number “${no}” appears twice in the file`))
    seen.add(no)
    const at = col(r, '受理时间')
    const atMs = at ? Date.parse(at.replace(' ', 'T') + (at.length <= 16 ? ':00' : '') + '+08:00') : nowMs()
    if (!Number.isFinite(atMs) || atMs > nowMs()) bad('受理时间', T(`「${at}」不是有效的时间（如 2026-11-30 09:15），也不能晚于现在`, `“${at}” is not a valid time (like 2026-11-30 09:15), or it lies in the future`))
    const kindText = col(r, '诉求类型') || '投诉'
    const kind = KIND_OF[kindText] || (Object.values(KIND_OF).includes(kindText) ? kindText : null)
    if (!kind) bad('诉求类型', T(`「${kindText}」应为 咨询/求助/投诉/举报/建议`, `“${kindText}” must be 咨询/求助/投诉/举报/建议`))
    const cat = catByCode(col(r, '事项分类编码'))
    if (!cat || cat.level !== 2 || !cat.active) bad('事项分类编码', T(`没有编码为 ${col(r, '事项分类编码')} 的在用二级事项分类`, `No active second-level category ${col(r, '事项分类编码')}`))
    const desc = col(r, '诉求内容')
    if (!desc || [...desc].length > 4000) bad('诉求内容', T('诉求内容必填，最多 4000 字', 'The content is required, at most 4,000 characters'))
    let area = null
    const code = col(r, '区域编码'), lon = Number(col(r, '经度')), lat = Number(col(r, '纬度'))
    if (code) { area = [...A.values()].find((a) => a.code === code); if (!area) bad('区域编码', T(`没有编码为 ${code} 的区域`, `No area with the code ${code}`)) }
    else if (col(r, '经度') && col(r, '纬度')) { area = areaAt(lat, lon); if (!area) bad('经度', T('该位置不在任何网格内', 'The point lies in no grid')) }
    else bad('区域编码', T('需要区域编码或经纬度', 'An area code or the coordinates are needed'))
    if (area && !inScope(me, area.id)) bad('区域编码', T('该区域不在您的管辖范围内', 'This area is outside your scope'))
    const phone = col(r, '联系电话')
    if (phone && !/^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/.test(phone)) bad('联系电话', T(`「${phone}」不是有效的电话号码`, `“${phone}” is not a valid phone number`))
    if (mine.length) { errorRows++; problems.push(...mine); return }
    if (hotlineNos.has(no)) { unchanged++; return }
    good.push({ no, at: atMs, kind, cat, desc, area, lat: col(r, '纬度') ? lat : null, lon: col(r, '经度') ? lon : null, address: col(r, '地址') || null, name: col(r, '诉求人') || T('12345 来电人', '12345 caller'), phone: phone || null })
  })
  // all or nothing: a file with a problem imports nothing
  const committed = commit && errorRows === 0
  if (committed) {
    for (const x of good) {
      const c = seedCase({ t0: x.at, area: x.area, code: x.cat.code, stop: 'received', channel: 'hotline' })
      Object.assign(c, {
        kind: x.kind, description: x.desc, title: [...x.desc].slice(0, 40).join(''), address: x.address, lat: x.lat ?? (x.area.boundary ? c.lat : null), lon: x.lon ?? (x.area.boundary ? c.lon : null),
        requester: { name: x.name, phone: x.phone, user_id: null }, created_by: me.id,
      })
      c.events = []
      ev(c, x.at, '12345热线', 'receive', null, 'received', { note: T(`12345 工单 ${x.no}`, `12345 order ${x.no}`) })
      hotlineNos.set(x.no, c.id)
    }
  }
  return { committed, rows: rows.length, ok: good.length, unchanged, created: committed ? good.length : 0, error_rows: errorRows, problems: problems.slice(0, 1000) }
}

// ---------------------------------------------------------------- CSV helpers
function csvRows(text) {
  return text.replace(/^\ufeff/, '').split(/\r?\n/).filter((l) => l.trim()).map((l) => l.split(',').map((x) => x.trim().replace(/^"|"$/g, '')))
}
function decode(raw) {
  try { return new TextDecoder('utf-8', { fatal: true }).decode(raw) } catch { return new TextDecoder('gb18030').decode(raw) }
}
const limitStr = (l) => `${l.value}${l.unit === 'hours' ? 'h' : 'd'}`
function parseLimit(s) {
  const m = /^(\d+)\s*(h|d)$/i.exec(s || '')
  return m && Number(m[1]) >= 1 ? { value: Number(m[1]), unit: m[2].toLowerCase() === 'h' ? 'hours' : 'days' } : null
}

function paged(url, all) {
  const page = Math.max(1, Number(url.searchParams.get('page') || 1))
  const size = Math.min(200, Math.max(1, Number(url.searchParams.get('page_size') || 20)))
  return { items: all.slice((page - 1) * size, page * size), total: all.length, page, page_size: size }
}

export function initCases({ areas, users, addUser, tokens }) {
  A = areas
  U = users
  if (tokens) TOKENS = tokens
  setBoundaries()
  seedUnits(addUser)
  seedCases()
  const xf = [...A.values()].find((a) => a.kind === 'street' && a.name === '先锋街道')
  if (xf) publicCats.set(xf.id, new Set(['03', '0101']))
}

// ---------------------------------------------------------------- the resident's rating link
// Like the server (lifecycle::rating_token): the case id (32 hex) and a MAC of it, 52 characters in all.
const ratingToken = (c) => c.id.replace(/-/g, '') + createHash('sha256').update('case-rating-link:' + c.id).digest('hex').slice(0, 20)
// Fixed sample tokens for trying the page (logged at start): an unrated case, a rated one, one still in progress.
const SAMPLE_TOKENS = {}
function sampleTokens() {
  if (!Object.keys(SAMPLE_TOKENS).length) {
    const all = [...cases.values()]
    const take = (name, f) => { const c = all.find(f); if (c) SAMPLE_TOKENS[name] = c.id }
    take('demo-unrated', (c) => c.status === 'verified' && !c.rating && c.result)
    take('demo-unrated-2', (c) => c.status === 'verified' && !c.rating && c.result && c.id !== SAMPLE_TOKENS['demo-unrated'])
    take('demo-rated', (c) => c.status === 'rated' && c.rating === 'satisfied' && c.result)
    take('demo-pending', (c) => c.status === 'in_progress')
  }
  return SAMPLE_TOKENS
}
export const ratingSamples = () => Object.keys(sampleTokens())
function caseOfToken(tok) {
  const alias = sampleTokens()[tok]
  if (alias) return cases.get(alias)
  if (!/^[0-9a-f]{52}$/.test(tok)) return null
  const h = tok.slice(0, 32)
  const c = cases.get(`${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`)
  return c && ratingToken(c) === tok ? c : null
}
function ratingPage(c) {
  return {
    no: c.no, category_name: catByCode(c.category_code)?.name || '', title: c.title, status: c.status, status_label: label('status', c.status),
    unit_name: unitOf(c.unit_id)?.name || null, result: c.result, handled_at: iso(c.handled_at), rating: c.rating,
    can_rate: c.status === 'verified' && !c.rating,
  }
}
/** GET / POST /public/rate/{token}: no sign-in (server.mjs lets /public/ through). Returns true when handled. */
export function casesPublicApi({ req, res, p, m, body, send, err }) {
  const mm = p.match(/^\/public\/rate\/([^/]+)$/)
  if (!mm) return false
  EN = (req.headers['accept-language'] || '').startsWith('en')
  const T = (zh, e) => (EN ? e : zh)
  const c = caseOfToken(decodeURIComponent(mm[1]))
  if (!c) return err(res, req, 404, 'not_found', '未找到', 'Not found'), true
  if (m === 'GET') return send(res, 200, ratingPage(c)), true
  if (m !== 'POST') return err(res, req, 405, 'method_not_allowed', '不支持的请求方法', 'Method not allowed'), true
  if (c.rating) return err(res, req, 409, 'case.already_rated', '您已经评价过了，谢谢！', 'You have rated this case already. Thank you!'), true
  if (c.status !== 'verified') return err(res, req, 409, 'case.wrong_state', `诉求当前为“${label('status', c.status)}”，不能评价`, `The case is ${label('status', c.status)}; it cannot be rated`), true
  const f = {}
  if (!['satisfied', 'basic', 'dissatisfied'].includes(body.rating)) f.rating = T('请选择满意程度', 'Choose a rating')
  if (body.comment != null && typeof body.comment !== 'string') f.comment = T('评价意见应为文本', 'The comment is text')
  else if ([...(body.comment || '').trim()].length > 500) f.comment = T('评价意见不能超过 500 字', 'At most 500 characters')
  if (Object.keys(f).length) return err(res, req, 422, 'validation', '输入有误，请检查标出的字段', 'Invalid input; check the marked fields', f), true
  c.rating = body.rating; c.rating_comment = body.comment?.trim() || null; c.status = 'rated'
  ev(c, nowMs(), '居民（回访链接）', 'rate', 'verified', 'rated', { note: c.rating_comment })
  c.version++
  return send(res, 200, ratingPage(c)), true
}

// ---------------------------------------------------------------- routes
// Returns true when the route was handled.
export function casesApi({ req, res, url, p, m, body, me, send, err, log }) {
  const RE = /^\/(case-categories|case-units|case-duties|case-routing|calendar|cases|my\/cases|files|case-stats|streets\/[^/]+\/public-categories$)(\/|$)/
  if (!RE.test(p)) return false
  const en = (req.headers['accept-language'] || '').startsWith('en')
  EN = en
  const T = (zh, e) => (en ? e : zh)
  const q = (k) => url.searchParams.get(k) || ''
  const ok = (status, b) => (send(res, status, b), true)
  const nf = () => (err(res, req, 404, 'not_found', '未找到', 'Not found'), true)
  const bad = (fields, zh = '输入有误，请检查标出的字段', e = 'Invalid input; check the marked fields') => (err(res, req, 422, 'validation', zh, e, fields), true)
  const forbid = () => (err(res, req, 403, 'forbidden', '您没有执行此操作的权限', 'You are not allowed to do this'), true)
  const conflict = () => (err(res, req, 409, 'conflict', '该诉求已被他人处理或修改，请刷新后重试', 'Someone else changed this case; reload and try again'), true)
  const unknownYear = (y) => (err(res, req, 422, 'calendar.unknown_year', `工作日历中没有 ${y} 年，无法计算时限，请先导入该年节假日安排`, `The calendar has no year ${y}; import its holidays first`, {}), true)
  const roles = legacyRoles(me, 'cases')
  const has = (...r) => r.some((x) => roles.has(x))
  const admin = has('system_admin')
  const dispatcherRole = has('system_admin', 'street_admin', 'community_worker')
  // the header must be ASCII: a plain fallback name, and the Chinese one as filename* (like the server)
  const csvOut = (name, text, ascii = 'export.csv') => {
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`, 'x-request-id': res.rid })
    res.end('\ufeff' + text)
    return true
  }
  let mm

  // ---- categories ----
  const catOut = (c) => ({ ...c })
  if (p === '/case-categories' && m === 'GET') return ok(200, [...categories.values()].sort((a, b) => a.code.localeCompare(b.code)).map(catOut))
  if (p === '/case-categories/export.csv' && m === 'GET') {
    const rows = [...categories.values()].sort((a, b) => a.code.localeCompare(b.code)).map((c) => [c.code, c.name, c.parent_id ? categories.get(c.parent_id).code : '', limitStr(c.response_limit), limitStr(c.handle_limit), limitStr(c.verify_limit), c.return_visit_required ? '1' : '0'].join(','))
    return csvOut('事项分类.csv', ['code,name,parent_code,response,handle,verify,return_visit', ...rows].join('\r\n') + '\r\n', 'case-categories.csv')
  }
  if (p === '/case-categories/import' && m === 'POST') {
    if (!admin) return forbid()
    const raw = body.__raw
    if (!raw?.length) return bad({ file: T('文件为空', 'The file is empty') })
    const rows = csvRows(decode(raw))
    const head = rows.shift() || []
    const COLS = ['code', 'name', 'parent_code', 'response', 'handle', 'verify', 'return_visit']
    const missing = COLS.filter((c) => !head.includes(c))
    if (missing.length) return bad({ file: T(`缺少必填列：${missing.join('、')}`, `Missing columns: ${missing.join(', ')}`) })
    const col = (r, k) => r[head.indexOf(k)] ?? ''
    // all or nothing, like the server: the first bad row is the answer
    const parsed = []
    for (const [i, r] of rows.entries()) {
      const row = i + 2
      const code = col(r, 'code'), name = col(r, 'name'), parentCode = col(r, 'parent_code')
      const where = T(`第 ${row} 行：`, `Row ${row}: `)
      const lim = {}
      for (const [k, zh, e] of [['response', '响应时限', 'response limit'], ['handle', '办理时限', 'handling limit'], ['verify', '核查时限', 'verification limit']]) {
        lim[k] = parseLimit(col(r, k))
        if (!lim[k]) return bad({ file: where + T(`${zh}「${col(r, k)}」应写成 2h（工作小时）或 3d（工作日）`, `the ${e} “${col(r, k)}” should look like 2h (working hours) or 3d (working days)`) })
      }
      if (!/^\d{2}(\d{2})?$/.test(code)) return bad({ file: where + T('代码应为 2 位或 4 位数字', 'the code has 2 or 4 digits') })
      if (!name) return bad({ file: where + T('名称不能为空', 'the name is required') })
      if (code.length === 4 && !catByCode(parentCode || code.slice(0, 2)) && !parsed.some((x) => x.code === (parentCode || code.slice(0, 2)))) return bad({ file: where + T('上级分类不存在', 'unknown parent category') })
      parsed.push({ code, name, lim, rv: /^(1|yes|是|true|y)$/i.test(col(r, 'return_visit') || '1') })
    }
    let created = 0, updated = 0, unchanged = 0
    for (const x of parsed) {
      const exist = catByCode(x.code)
      const fields = { name: x.name, response_limit: x.lim.response, handle_limit: x.lim.handle, verify_limit: x.lim.verify, return_visit_required: x.rv }
      if (!exist) { addCat(x.code, x.name, x.lim.response, x.lim.handle, x.lim.verify, x.rv); created++; continue }
      const same = exist.name === fields.name && exist.return_visit_required === fields.return_visit_required && ['response_limit', 'handle_limit', 'verify_limit'].every((k) => limitStr(exist[k]) === limitStr(fields[k]))
      if (same) unchanged++
      else { Object.assign(exist, fields); exist.version++; updated++ }
    }
    return ok(200, { created, updated, unchanged })
  }
  if (p === '/case-categories' && m === 'POST') {
    if (!admin) return forbid()
    const f = {}
    const parent = body.parent_id ? categories.get(body.parent_id) : null
    if (!body.code || !/^\d+$/.test(body.code)) f.code = T('请填写数字代码', 'Enter a numeric code')
    else if (parent && !(body.code.length === 4 && body.code.startsWith(parent.code))) f.code = T(`代码应为上级代码 ${parent.code} 加 2 位数字`, `Code must be ${parent.code} + 2 digits`)
    else if (!parent && body.code.length !== 2) f.code = T('一级分类代码应为 2 位数字', 'Top-level codes have 2 digits')
    else if (catByCode(body.code)) f.code = T('代码已被使用', 'Code already used')
    if (!body.name?.trim()) f.name = T('请填写名称', 'Enter a name')
    for (const k of ['response_limit', 'handle_limit', 'verify_limit']) if (!body[k] || !(body[k].value >= 1) || !['hours', 'days'].includes(body[k].unit)) f[k] = T('时限应为不小于 1 的整数', 'A limit is a whole number ≥ 1')
    if (Object.keys(f).length) return bad(f)
    const c = addCat(body.code, body.name.trim(), body.response_limit, body.handle_limit, body.verify_limit, !!body.return_visit_required)
    log(req, me, 'case_category.create', 'case_category', c.id, ['code', 'name'])
    return ok(201, catOut(c))
  }
  if ((mm = p.match(/^\/case-categories\/([^/]+)$/)) && m === 'PATCH') {
    if (!admin) return forbid()
    const c = categories.get(mm[1])
    if (!c) return nf()
    if (body.version !== c.version) return conflict()
    if ('name' in body && !body.name?.trim()) return bad({ name: T('请填写名称', 'Enter a name') })
    for (const k of ['name', 'response_limit', 'handle_limit', 'verify_limit', 'return_visit_required', 'active']) if (k in body) c[k] = body[k]
    c.version++
    return ok(200, catOut(c))
  }

  // ---- 公开类别 (like app/cases/public.rs): read_cases on the street to read, edit_areas to change ----
  if ((mm = p.match(/^\/streets\/([^/]+)\/public-categories$/))) {
    const street = A.get(mm[1])
    if (!street || !inScope(me, street.id)) return nf()
    const holds = (perm) => me.grants.some((g) => permsOfRole(g.role).includes(perm) && ((g.role === 'system_admin' && !g.area_id) || ancestors(street.id).some((a) => a.id === g.area_id)))
    const out = () => {
      const codes = [...(publicCats.get(street.id) || [])].sort()
      return { street_id: street.id, codes, categories: codes.map((code) => ({ code, name: catByCode(code)?.name || '' })) }
    }
    if (m === 'GET') {
      if (!holds('read_cases')) return forbid()
      if (street.kind !== 'street') return bad({ street_id: T('请选择一个街道', 'Choose a street') })
      return ok(200, out())
    }
    if (m === 'PUT') {
      if (!holds('edit_areas')) return forbid()
      if (street.kind !== 'street') return bad({ street_id: T('请选择一个街道', 'Choose a street') })
      if (!Array.isArray(body.codes) || body.codes.some((c) => typeof c !== 'string')) return bad({ codes: T('codes 应为类别代码的列表', 'codes is a list of category codes') })
      const codes = [...new Set(body.codes.map((c) => c.trim()))].sort()
      if (codes.length > 200) return bad({ codes: T('最多 200 个类别', 'At most 200 categories') })
      const unknown = codes.filter((c) => !catByCode(c)?.active)
      if (unknown.length) return bad({ codes: T(`没有这些类别：${unknown.join('、')}`, `No such categories: ${unknown.join(', ')}`) })
      publicCats.set(street.id, new Set(codes))
      log(req, me, 'case.public_categories', 'area', street.id, ['codes'])
      return ok(200, out())
    }
    return err(res, req, 405, 'method_not_allowed', '不支持的请求方法', 'Method not allowed'), true
  }

  // ---- units, members, duties ----
  const unitOut = (u) => {
    const a = A.get(u.area_id)
    return {
      id: u.id, name: u.name, kind: u.kind, area_id: u.area_id, area_name: a?.name || '', contact: u.contact || null, active: u.active,
      kind_label: label('unitKind', u.kind), duty_count: [...duties.values()].filter((d) => d.unit_id === u.id && d.active).length, member_count: u.members.length, version: u.version,
    }
  }
  const dutyOut = (d) => ({ ...d, area_name: A.get(d.area_id)?.name || '' })
  const canManageUnit = (areaId) => admin || (has('street_admin') && inScope(me, areaId))
  if (p === '/case-units' && m === 'GET') {
    if (!isStaff(me)) return forbid()
    const s = q('q'), area = q('area_id')
    return ok(200, [...units.values()].filter((u) => (!s || u.name.includes(s)) && (!area || under(u.area_id, area) || under(area, u.area_id))).map(unitOut))
  }
  if (p === '/case-units' && m === 'POST') {
    const f = {}
    if (!body.name?.trim()) f.name = T('请填写单位名称', 'Enter the unit name')
    else if ([...units.values()].some((u) => u.name === body.name.trim())) f.name = T('已有同名单位', 'A unit of this name exists')
    if (!['department', 'street_office', 'community', 'property', 'utility', 'other'].includes(body.kind)) f.kind = T('请选择类型', 'Choose a kind')
    if (!body.area_id || !A.get(body.area_id)) f.area_id = T('请选择服务区域', 'Choose the area')
    if (Object.keys(f).length) return bad(f)
    if (!canManageUnit(body.area_id)) return forbid()
    const u = addUnit(body.name.trim(), body.kind, A.get(body.area_id), body.contact || null, 0.85)
    return ok(201, unitOut(u))
  }
  if ((mm = p.match(/^\/case-units\/([^/]+)(?:\/(members|duties)(?:\/([^/]+))?)?$/))) {
    const u = units.get(mm[1])
    if (!u) return nf()
    if (!mm[2] && m === 'PATCH') {
      if (!canManageUnit(u.area_id)) return forbid()
      if (body.version !== u.version) return conflict()
      if ('name' in body && !body.name?.trim()) return bad({ name: T('请填写单位名称', 'Enter the unit name') })
      for (const k of ['name', 'kind', 'contact', 'active']) if (k in body) u[k] = body[k]
      u.version++
      return ok(200, unitOut(u))
    }
    if (!mm[2] && m === 'GET') return ok(200, unitOut(u))
    if (mm[2] === 'members') {
      // [{member_id, name, kind: user|token}]: users and API tokens (a department's system) can both be members
      const memberOut = (id) => {
        const user = U.get(id)
        if (user) return { member_id: id, name: user.display_name, kind: 'user' }
        const tk = TOKENS().find((x) => x.id === id)
        return tk ? { member_id: id, name: tk.name, kind: 'token' } : null
      }
      const list = () => u.members.map(memberOut).filter(Boolean)
      if (m === 'GET' && !mm[3]) return isStaff(me) ? ok(200, list()) : forbid()
      if (!canManageUnit(u.area_id)) return forbid()
      if (m === 'POST' && !mm[3]) {
        if (typeof body.member_id !== 'string') return bad({ member_id: T('请选择成员', 'Choose the member') })
        if (!memberOut(body.member_id)) return bad({ member_id: T('没有这个用户或令牌', 'No such user or token') })
        if (!u.members.includes(body.member_id)) { u.members.push(body.member_id); u.version++ } // adding twice: no change
        return ok(200, list())
      }
      if (m === 'DELETE' && mm[3]) {
        if (!u.members.includes(mm[3])) return nf()
        u.members = u.members.filter((x) => x !== mm[3]); u.version++
        return ok(204)
      }
    }
    if (mm[2] === 'duties') {
      if (m === 'GET') return ok(200, [...duties.values()].filter((d) => d.unit_id === u.id).map(dutyOut))
      if (m === 'POST') {
        if (!canManageUnit(u.area_id)) return forbid()
        const f = {}
        if (!body.name?.trim()) f.name = T('请填写事项名称', 'Enter the duty name')
        if (!body.legal_basis?.trim()) f.legal_basis = T('请填写法定依据', 'Enter the legal basis')
        if (!Array.isArray(body.category_codes) || !body.category_codes.length) f.category_codes = T('至少选择一个事项分类', 'Choose at least one category')
        else if (body.category_codes.some((c) => !catByCode(c))) f.category_codes = T('含有不存在的分类代码', 'Unknown category code')
        if (!body.area_id || !A.get(body.area_id)) f.area_id = T('请选择服务区域', 'Choose the area')
        if (Object.keys(f).length) return bad(f)
        const d = addDuty(u, body.name.trim(), body.legal_basis.trim(), body.category_codes, A.get(body.area_id))
        return ok(201, dutyOut(d))
      }
    }
  }
  if ((mm = p.match(/^\/case-duties\/([^/]+)$/)) && m === 'PATCH') {
    const d = duties.get(mm[1])
    if (!d) return nf()
    if (!canManageUnit(units.get(d.unit_id).area_id)) return forbid()
    if (body.version !== d.version) return conflict()
    if ('category_codes' in body && (!Array.isArray(body.category_codes) || !body.category_codes.length)) return bad({ category_codes: T('至少选择一个事项分类', 'Choose at least one category') })
    for (const k of ['name', 'legal_basis', 'category_codes', 'area_id', 'active']) if (k in body) d[k] = body[k]
    d.version++
    return ok(200, dutyOut(d))
  }
  if (p === '/case-routing' && m === 'GET') {
    if (!dispatcherRole) return forbid()
    if (!catByCode(q('category_code'))) return bad({ category_code: T('请选择事项分类', 'Choose a category') })
    if (!A.get(q('area_id'))) return bad({ area_id: T('请选择区域', 'Choose an area') })
    return ok(200, route(q('category_code'), q('area_id'), [], en))
  }

  // ---- calendar ----
  const yearOut = (y, c) => ({ year: y, holidays: c.days.filter((d) => d.kind === 'holiday').length, workdays: c.days.filter((d) => d.kind === 'workday').length, updated_at: c.updated_at, updated_by: c.updated_by || 'gongzhi' })
  if (p === '/calendar' && m === 'GET') return ok(200, [...calendar.entries()].sort((a, b) => a[0] - b[0]).map(([y, c]) => yearOut(y, c)))
  if (p === '/calendar/deadline' && m === 'GET') {
    const start = Date.parse(q('start')), value = Number(q('value')), unit = q('unit')
    const f = {}
    if (!Number.isFinite(start)) f.start = T('时间格式应为 RFC 3339', 'The time must be RFC 3339')
    if (!(Number.isInteger(value) && value >= 1 && value <= 365)) f.value = T('时限应为 1–365 的整数', 'A whole number 1–365')
    if (!['hours', 'days'].includes(unit)) f.unit = T('单位应为 hours 或 days', 'unit is hours or days')
    if (Object.keys(f).length) return bad(f)
    try { return ok(200, { start: iso(start), due_at: iso(addLimit(start, { value, unit })) }) } catch (e) { if (e instanceof UnknownYear) return unknownYear(e.year); throw e }
  }
  if (p === '/calendar/import' && m === 'POST') {
    if (!admin) return forbid()
    const raw = body.__raw
    if (!raw?.length) return bad({ file: T('文件为空', 'The file is empty') })
    const rows = csvRows(decode(raw))
    const header = rows[0]?.[0] === 'date' ? 1 : 0
    const byYear = new Map()
    let count = 0
    // all or nothing: the first bad row is the answer (422 error.fields.file), like the server
    for (const [i, r] of rows.slice(header).entries()) {
      const row = i + 1 + header
      const [date, k, name] = r
      const kind = { 休: 'holiday', holiday: 'holiday', 班: 'workday', workday: 'workday' }[k]
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date || '') || Number.isNaN(Date.parse(date))) return bad({ file: T(`第 ${row} 行：日期「${date || ''}」格式应为 YYYY-MM-DD`, `Row ${row}: the date “${date || ''}” must be YYYY-MM-DD`) })
      if (!kind) return bad({ file: T(`第 ${row} 行：类型「${k || ''}」应为 休/班 或 holiday/workday`, `Row ${row}: the kind “${k || ''}” must be 休/班 or holiday/workday`) })
      const y = Number(date.slice(0, 4))
      if (!byYear.has(y)) byYear.set(y, [])
      byYear.get(y).push({ date, kind, name: name || '' })
      count++
    }
    for (const [y, days] of byYear) calendar.set(y, { days: days.sort((a, b) => a.date.localeCompare(b.date)), updated_at: iso(nowMs()), updated_by: me.username })
    return ok(200, { years: [...byYear.keys()].sort(), days: count })
  }
  if ((mm = p.match(/^\/calendar\/(\d{4})$/))) {
    const y = Number(mm[1])
    if (m === 'GET') { const c = calendar.get(y); return c ? ok(200, { year: y, days: c.days }) : nf() }
    if (m === 'PUT') {
      if (!admin) return forbid()
      const f = {}
      const days = Array.isArray(body.days) ? body.days : null
      if (!days) return bad({ days: T('缺少 days', 'days is missing') })
      const seen = new Set()
      days.forEach((d, i) => {
        // one message per row, under `days[i]` (like the server)
        if (!/^\d{4}-\d{2}-\d{2}$/.test(d.date || '') || Number(d.date.slice(0, 4)) !== y) f[`days[${i}]`] = T(`${d.date || '—'} 不在 ${y} 年`, `${d.date || '—'} is not in ${y}`)
        else if (seen.has(d.date)) f[`days[${i}]`] = T(`${d.date} 重复`, `${d.date} appears twice`)
        else if (!['holiday', 'workday'].includes(d.kind)) f[`days[${i}]`] = T('类型应为 holiday（休）或 workday（班）', 'The kind must be holiday or workday')
        seen.add(d.date)
      })
      if (Object.keys(f).length) return bad(f)
      calendar.set(y, { days: days.map((d) => ({ date: d.date, kind: d.kind, name: d.name || '' })).sort((a, b) => a.date.localeCompare(b.date)), updated_at: iso(nowMs()), updated_by: me.username })
      return ok(200, { year: y, days: calendar.get(y).days })
    }
  }

  // ---- files ----
  if (p === '/files' && m === 'POST') {
    const raw = body.__raw || Buffer.from(JSON.stringify(body))
    if (!raw.length) return bad({ file: T('文件为空', 'The file is empty') })
    if (raw.length > 10 * 1024 * 1024) return (err(res, req, 413, 'payload_too_large', '提交的内容过大', 'The request is too large'), true)
    const f = {
      id: randomUUID(), name: q('name') || 'file', content_type: req.headers['content-type'] || 'application/octet-stream', size: raw.length,
      sha256: createHash('sha256').update(raw).digest('hex'), created_at: iso(nowMs()), data: raw,
    }
    files.set(f.id, f)
    const { data, ...out } = f
    return ok(201, out)
  }
  if ((mm = p.match(/^\/files\/([^/]+)$/)) && m === 'GET') {
    const f = files.get(mm[1])
    if (!f) return nf()
    res.writeHead(200, { 'content-type': f.content_type, 'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(f.name)}`, 'x-request-id': res.rid })
    res.end(f.data)
    return true
  }

  // ---- stats ----
  if (p.startsWith('/case-stats')) {
    if (!has('system_admin', 'street_admin', 'community_worker', 'grid_worker', 'party_secretary')) return forbid()
    const area = q('area_id')
    const from = q('from'), to = q('to')
    const inPeriod = (c) => { const d = bjDay(c.received_at); return (!from || d >= from) && (!to || d <= to) }
    const base = [...cases.values()].filter((c) => inScope(me, c.area_id) && under(c.area_id, area))
    const list = base.filter(inPeriod)
    if (from && !/^\d{4}-\d{2}-\d{2}$/.test(from)) return bad({ from: T('日期格式应为 YYYY-MM-DD', 'Dates are YYYY-MM-DD') })
    if (to && !/^\d{4}-\d{2}-\d{2}$/.test(to)) return bad({ to: T('日期格式应为 YYYY-MM-DD', 'Dates are YYYY-MM-DD') })
    if (p === '/case-stats') return ok(200, { area_id: area || null, from: from || '', to: to || bjDay(nowMs()), totals: rates(list), weights: WEIGHTS, definitions: en ? DEFINITIONS.en : DEFINITIONS.zh })
    if (p === '/case-stats/trend') {
      const bucket = q('bucket') === 'day' ? 10 : 7
      const groups = new Map()
      for (const c of list) { const k = bjDay(c.received_at).slice(0, bucket); if (!groups.has(k)) groups.set(k, []); groups.get(k).push(c) }
      return ok(200, [...groups.keys()].sort().map((k) => ({ period: k, ...rates(groups.get(k)) })))
    }
    if (p === '/case-stats/ranking') {
      const by = q('by') || 'unit'
      const keyOf = {
        unit: (c) => (c.unit_id ? [c.unit_id, unitOf(c.unit_id).name] : null),
        street: (c) => { const a = up(c.area_id, 'street'); return a && [a.id, a.name] },
        community: (c) => { const a = up(c.area_id, 'community'); return a && [a.id, a.name] },
        grid: (c) => { const a = up(c.area_id, 'grid'); return a && [a.id, `${up(c.area_id, 'community')?.name || ''}${a.name}`] },
        category: (c) => { const cat = catByCode(c.category_code); return cat && [cat.code, cat.name] },
      }[by]
      if (!keyOf) return bad({ by: T('by 应为 unit、street、community、grid 或 category', 'by is unit, street, community, grid or category') })
      const groups = new Map()
      for (const c of list) { const k = keyOf(c); if (!k) continue; if (!groups.has(k[0])) groups.set(k[0], { name: k[1], list: [] }); groups.get(k[0]).list.push(c) }
      const rows = [...groups.entries()].map(([id, g]) => ({ id, name: g.name, ...rates(g.list) }))
      rows.sort((a, b) => (b.score ?? -1) - (a.score ?? -1) || b.received - a.received)
      rows.forEach((r, i) => (r.rank = i + 1))
      return ok(200, rows)
    }
    if (p === '/case-stats/hotspots') {
      const days = q('days') === '30' ? 30 : 7
      const t = nowMs()
      const groups = new Map()
      for (const c of base) {
        const age = (t - c.received_at) / DAY
        if (age > 2 * days) continue
        const com = up(c.area_id, 'community')
        if (!com) continue
        const k = com.id + '|' + c.category_code
        if (!groups.has(k)) groups.set(k, { community_id: com.id, community_name: com.name, category_id: catByCode(c.category_code)?.id, category_code: c.category_code, category_name: catByCode(c.category_code)?.name, current: 0, previous: 0 })
        groups.get(k)[age <= days ? 'current' : 'previous']++
      }
      const rows = [...groups.values()].filter((g) => g.current >= 2 && g.current > g.previous)
        // growth = current − previous (cases); ratio = current ÷ previous, null when the previous period had none
        .map((g) => ({ ...g, growth: g.current - g.previous, ratio: g.previous ? Number((g.current / g.previous).toFixed(2)) : null }))
        .sort((a, b) => b.growth - a.growth || b.current - a.current)
      return ok(200, rows.slice(0, 12))
    }
    return nf()
  }

  // ---- cases ----
  if (p === '/my/cases' && m === 'GET') {
    const mine = [...cases.values()].filter((c) => c.requester.user_id === me.id || c.created_by === me.id).sort((a, b) => b.received_at - a.received_at)
    return ok(200, paged(url, mine.map(summary)))
  }
  if (p === '/cases/map' && m === 'GET') {
    if (!isStaff(me)) return forbid()
    const top = q('area_id') || me.grants.map((g) => g.area_id).filter(Boolean).sort((a, b) => depth(a) - depth(b))[0]
    // like the server: a user without an area grant (the system admin) must name the area
    if (!top || !A.get(top) || !inScope(me, top)) return nf()
    const from = q('from'), to = q('to')
    if (from && !/^\d{4}-\d{2}-\d{2}$/.test(from)) return bad({ from: T('日期格式应为 YYYY-MM-DD', 'Dates are YYYY-MM-DD') })
    if (to && !/^\d{4}-\d{2}-\d{2}$/.test(to)) return bad({ to: T('日期格式应为 YYYY-MM-DD', 'Dates are YYYY-MM-DD') })
    // the outlines are the grids (the server sends no community or street outlines)
    const shown = [...A.values()].filter((a) => a.kind === 'grid' && a.boundary && under(a.id, top))
    const inTop = [...cases.values()].filter((c) => under(c.area_id, top))
    const list = inTop.filter((c) => c.lat != null && !['rejected', 'merged'].includes(c.status))
      .filter((c) => { const d = bjDay(c.received_at); return (!from || d >= from) && (!to || d <= to) })
    const open = (a) => inTop.filter((c) => OPEN.includes(c.status) && under(c.area_id, a.id)).length
    return ok(200, {
      area_id: top,
      areas: shown.map((a) => ({ id: a.id, name: a.name, kind: a.kind, boundary: a.boundary, open: open(a) })),
      cases: list.map((c) => ({ id: c.id, no: c.no, lat: c.lat, lon: c.lon, status: c.status, overdue: isOverdue(c), category_name: catByCode(c.category_code)?.name })),
    })
  }
  // the dispatcher's queue counters: cases per status in my dispatch scope, the overdue ones, and what waits for my units
  if (p === '/cases/counts' && m === 'GET') {
    if (!isStaff(me)) return forbid()
    const by_status = {}
    let overdue = 0
    for (const c of cases.values()) {
      if (!inScope(me, c.area_id)) continue
      by_status[c.status] = (by_status[c.status] || 0) + 1
      if (ACTIVE.includes(c.status) && isOverdue(c)) overdue++
    }
    const mine = myUnitIds(me)
    const handle = [...cases.values()].filter((c) => ACTIVE.includes(c.status) && mine.includes(c.unit_id)).length
    return ok(200, { by_status, overdue, handle })
  }
  // 12345 hotline work orders
  if (p === '/cases/import/template.csv' && m === 'GET') {
    if (!dispatcherRole) return forbid()
    return csvOut('12345工单模板.csv', [HOTLINE_COLUMNS.join(','), '12345-20261130-0001,2026-11-30 09:15,投诉,0101,小区门口垃圾两天没清运,' + (areaByName('第一网格')?.code || '') + ',,,1号楼东侧,王先生,13800000000'].join('\r\n') + '\r\n', 'hotline-template.csv')
  }
  if (p === '/cases/import' && m === 'POST') {
    if (!dispatcherRole) return forbid()
    const mode = q('mode')
    if (!['dry_run', 'commit'].includes(mode)) return bad({ mode: T('mode 应为 dry_run 或 commit', 'mode is dry_run or commit') })
    const raw = body.__raw
    if (!raw?.length) return bad({ file: T('文件为空', 'The file is empty') })
    if (raw[0] === 0x50 && raw[1] === 0x4b) return bad({ file: T('模拟服务器只读 CSV；.xlsx 请用真实服务器导入', 'The mock reads CSV only; import .xlsx on the real server') })
    const r = hotlineImport(csvRows(decode(raw)), mode === 'commit', me)
    if (r.status === 422) return bad(r.fields)
    if (r.committed && r.created) log(req, me, 'case.import', 'case', null, ['hotline'])
    return ok(200, r)
  }
  if (p === '/cases' && m === 'POST') {
    const key = req.headers['idempotency-key']
    if (key && idem.has(key)) return ok(200, detail(cases.get(idem.get(key)), me, en))
    const f = {}
    const KINDS = ['consult', 'help', 'complaint', 'report', 'suggestion']
    if (!KINDS.includes(body.kind)) f.kind = T('请选择诉求类型', 'Choose the kind')
    const cat = catByCode(body.category_code || '')
    if (!cat) f.category_code = T('请选择事项分类', 'Choose a category')
    else if (cat.level !== 2) f.category_code = T('请选择具体的二级分类', 'Choose a second-level category')
    else if (!cat.active) f.category_code = T('该分类已停用', 'This category is no longer in use')
    const desc = (body.description || '').trim()
    if (!desc) f.description = T('请描述诉求内容', 'Describe the demand')
    else if ([...desc].length > 4000) f.description = T('诉求内容不能超过 4000 字', 'At most 4,000 characters')
    if (!body.requester?.name?.trim()) f['requester.name'] = T('请填写诉求人姓名', 'Enter the requester’s name')
    if (body.requester?.phone && !/^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/.test(body.requester.phone)) f['requester.phone'] = T('电话号码格式不正确', 'Not a valid phone number')
    // requester.person_id: the registry person picked as requester (like the server: any UUID, stored as given)
    const personId = body.requester?.person_id ?? null
    if (personId != null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(String(personId))) f['requester.person_id'] = T('人员编号格式不正确', 'Not a valid person id')
    const loc = body.location || {}
    let area = null
    let intakeNote = null // why the case is taken where it is (the first timeline event says it, like the server)
    const byPoint = !loc.area_id && !loc.dwelling_id && (loc.lat != null || loc.lon != null)
    if (loc.area_id) { area = A.get(loc.area_id); if (!area) f['location.area_id'] = T('区域不存在', 'No such area') }
    else if (byPoint) {
      if (!(Math.abs(loc.lat) <= 90 && Math.abs(loc.lon) <= 180)) f['location.lat'] = T('经纬度不正确', 'Invalid coordinates')
      else {
        // like the server: a point is taken where it lies, also outside the submitter's own area (and routed
        // from there); a point in no mapped grid or community goes to the submitter's street
        area = areaAt(loc.lat, loc.lon)
        if (area && !inScope(me, area.id)) intakeNote = `位置在提交人所属区域之外，按坐标所在区域「${area.name}」受理`
        if (!area) {
          const street = me.grants.map((g) => g.area_id && up(g.area_id, 'street')).find(Boolean)
          if (street) { area = street; intakeNote = '坐标不在任何网格或社区范围内，由提交人所在街道受理' }
          else f.location = T('该坐标不在任何网格或社区范围内', 'The point lies in no grid or community')
        }
      }
    } else if (loc.address) {
      const g = me.grants.filter((x) => x.area_id).map((x) => A.get(x.area_id)).filter((a) => a && ['community', 'grid', 'building'].includes(a.kind))
      if (g.length === 1) area = g[0]
      else f.location = T('仅凭地址无法确定所属区域，请选择区域或定位', 'An address alone does not tell the area; choose the area or use the location')
    } else f.location = T('请选择区域、定位或填写地址', 'Choose the area, use your location or enter the address')
    if (area && !byPoint && !f.location && !inScope(me, area.id)) f.location = T('该区域不在您的管辖范围内', 'This area is outside your scope')
    if (Object.keys(f).length) return bad(f)
    const t = nowMs()
    const resident = has('resident') && !isStaff(me)
    const c = seedCase({ t0: t, area, code: cat.code, stop: 'received', channel: body.channel || (resident ? 'phone_page' : 'console') })
    Object.assign(c, {
      kind: body.kind, description: desc, title: body.title?.trim() || `${cat.name}：${desc.slice(0, 18)}${desc.length > 18 ? '…' : ''}`,
      address: loc.address || (loc.lat != null ? null : c.address), lat: loc.lat ?? (area.boundary ? c.lat : null), lon: loc.lon ?? (area.boundary ? c.lon : null),
      requester: { name: body.requester.name.trim(), phone: body.requester.phone || null, user_id: resident ? me.id : null, person_id: personId }, created_by: me.id,
    })
    const att = (body.attachments || []).map((id) => files.get(id)).filter(Boolean).map((x) => ({ id: x.id, name: x.name }))
    c.events = []
    ev(c, t, me.display_name, 'receive', null, 'received', { attachments: att, note: [T('渠道：', 'Channel: ') + c.channel, intakeNote].filter(Boolean).join('；') })
    if (key) idem.set(key, c.id)
    log(req, me, 'case.create', 'case', c.id, ['kind', 'category_code'])
    return ok(201, detail(c, me, en))
  }
  if (p === '/cases' && m === 'GET') {
    if (!isStaff(me)) return forbid()
    const queue = q('queue') || 'all'
    if (!['dispatch', 'handle', 'mine', 'all'].includes(queue)) return bad({ queue: T('queue 应为 dispatch、handle、mine 或 all', 'queue is dispatch, handle, mine or all') })
    const statuses = q('status') ? q('status').split(',') : null
    const unknown = (statuses || []).find((x) => !STATUS_ZH[x])
    if (unknown) return bad({ status: T(`未知状态「${unknown}」`, `Unknown status “${unknown}”`) })
    const s = q('q').toLowerCase()
    const mine = myUnitIds(me)
    let list = [...cases.values()].filter((c) => {
      if (queue === 'handle') { if (!mine.includes(c.unit_id) && !c.whistles.some((w) => w.units.some((u) => mine.includes(u.unit_id)))) return false }
      else if (queue === 'mine') { if (c.created_by !== me.id && c.requester.user_id !== me.id) return false }
      else if (!inScope(me, c.area_id)) return false
      if (statuses && !statuses.includes(c.status)) return false
      if (q('area_id') && !under(c.area_id, q('area_id'))) return false
      if (q('unit_id') && c.unit_id !== q('unit_id')) return false
      if (q('category_code') && !c.category_code.startsWith(q('category_code'))) return false
      if (q('overdue') === 'true' && !isOverdue(c)) return false
      if (s && !(c.no.toLowerCase().includes(s) || c.title.toLowerCase().includes(s) || c.description.toLowerCase().includes(s) || (c.address || '').toLowerCase().includes(s))) return false
      return true
    })
    // open cases: the nearest deadline first; the rest: newest first
    list.sort((a, b) => (ACTIVE.includes(a.status) && ACTIVE.includes(b.status) && a.handle_due_at && b.handle_due_at ? a.handle_due_at - b.handle_due_at : b.received_at - a.received_at))
    return ok(200, paged(url, list.map(summary)))
  }
  if ((mm = p.match(/^\/cases\/([^/]+)(?:\/(timeline|actions|whistles)(?:\/([^/]+))?(?:\/(arrive))?)?$/))) {
    const c = cases.get(mm[1])
    if (!c) return nf()
    const mayRead = (isStaff(me) && inScope(me, c.area_id)) || memberOf(me, c.unit_id) || c.requester.user_id === me.id || c.created_by === me.id
    if (!mayRead) return forbid()
    if (!mm[2] && m === 'GET') {
      if (memberOf(me, c.unit_id)) log(req, me, 'case.read_requester', 'case', c.id, ['requester'])
      return ok(200, detail(c, me, en))
    }
    if (mm[2] === 'timeline' && m === 'GET') { tick(c); return ok(200, [...c.events].sort((a, b) => a.at.localeCompare(b.at)).map((e) => ({ ...e, action_label: label('action', e.action) }))) }
    if (mm[2] === 'whistles' && mm[4] === 'arrive' && m === 'POST') {
      const w = c.whistles.find((x) => x.id === mm[3])
      if (!w) return nf()
      const slot = w.units.find((u) => u.unit_id === body.unit_id)
      if (!slot) return bad({ unit_id: T('该单位不在本次吹哨名单中', 'This unit was not summoned') })
      if (!memberOf(me, body.unit_id)) return (err(res, req, 403, 'forbidden', '您不是该单位的成员，不能代其报到', 'You are not a member of this unit'), true)
      if (slot.arrived_at) return (err(res, req, 409, 'conflict', '该单位已经报到', 'This unit has already reported in'), true)
      slot.arrived_at = nowMs(); slot.arrived_by = me.display_name; c.version++
      ev(c, nowMs(), me.display_name, 'arrive', null, null, { unit_name: unitOf(body.unit_id).name })
      return ok(200, detail(c, me, en))
    }
    if (mm[2] === 'whistles' && !mm[3] && m === 'POST') {
      if (!has('system_admin', 'street_admin') || !inScope(me, c.area_id)) return forbid()
      if (body.version !== c.version) return conflict()
      if (['closed', 'rejected', 'merged'].includes(c.status)) return (err(res, req, 409, 'case.wrong_state', `诉求当前状态为“${STATUS_ZH[c.status]}”，不能吹哨`, `The case is ${STATUS_EN[c.status]}; no whistle now`), true)
      const f = {}
      if (!['daily', 'tough', 'emergency'].includes(body.kind)) f.kind = T('请选择吹哨类型', 'Choose the kind')
      if (!Array.isArray(body.unit_ids) || !body.unit_ids.length) f.unit_ids = T('至少选择一个单位', 'Choose at least one unit')
      if (body.minutes != null && !(body.minutes >= 5 && body.minutes <= 1440)) f.minutes = T('报到时限应为 5–1440 分钟', '5–1440 minutes')
      if (Object.keys(f).length) return bad(f)
      const t = nowMs()
      const w = { id: randomUUID(), kind: body.kind, note: body.note || null, created_at: t, created_by: me.display_name, deadline_at: t + (body.minutes || 30) * MIN, units: body.unit_ids.map((id) => ({ unit_id: id, arrived_at: null })) }
      c.whistles.push(w); c.version++
      ev(c, t, me.display_name, 'whistle', null, null, { note: `${{ daily: '日常', tough: '攻坚', emergency: '应急' }[body.kind]}吹哨：${body.unit_ids.map((id) => unitOf(id)?.name).join('、')}，${body.minutes || 30} 分钟内报到${body.note ? '。' + body.note : ''}` })
      return ok(200, detail(c, me, en))
    }
    if (mm[2] === 'actions' && mm[3] && m === 'POST') return doAction(c, mm[3])
  }
  return nf()

  function doAction(c, action) {
    const KNOWN = ['register', 'reject', 'dispatch', 'accept', 'return', 'arbitrate', 'handle', 'verify', 'rate', 'close', 'request_extension', 'decide_extension', 'supervise', 'merge', 'reopen']
    if (!KNOWN.includes(action)) return nf()
    if (body.version !== c.version) return conflict()
    const from = c.status
    const allowedNow = allowed(c, me)
    if (!allowedNow.includes(action)) {
      // the right person, the wrong state → case.wrong_state; otherwise forbidden
      const stateOk = { register: ['received'], reject: ['received'], merge: ['received', 'registered'], dispatch: ['received', 'registered'], arbitrate: ['arbitration'], accept: ['dispatched'], return: ['dispatched', 'in_progress'], handle: ['dispatched', 'in_progress'], request_extension: ['dispatched', 'in_progress'], decide_extension: ['in_progress'], supervise: ['dispatched', 'in_progress'], verify: ['handled'], rate: ['verified'], close: ['verified', 'rated'], reopen: ['rated', 'closed'] }[action]
      if (!stateOk.includes(c.status)) return (err(res, req, 409, 'case.wrong_state', `诉求当前状态为“${STATUS_ZH[c.status]}”，不能“${ACTION_ZH[action]}”，请刷新后查看`, `The case is ${STATUS_EN[c.status]}; “${action}” is not possible now. Reload to see the latest.`), true)
      if (action === 'return' && c.bound) return (err(res, req, 409, 'case.bound', '该诉求已由街道仲裁确定承办单位，不能再退单', 'The street decided the unit by arbitration; it cannot be returned'), true)
      if (action === 'request_extension' && c.pending_extension) return (err(res, req, 409, 'case.extension_pending', '已有待审批的延期申请', 'An extension request is already pending'), true)
      if (action === 'request_extension' && c.extension_count >= MAX_EXTENSIONS) return (err(res, req, 409, 'case.extension_limit', `每件诉求最多批准延期 ${MAX_EXTENSIONS} 次`, `At most ${MAX_EXTENSIONS} extension per case`), true)
      return forbid()
    }
    const t = nowMs()
    const actor = me.display_name
    const need = (k, zh, e) => (!body[k] || (typeof body[k] === 'string' && !body[k].trim()) ? { [k]: T(zh, e) } : {})
    let f = {}
    const unitName = () => unitOf(c.unit_id)?.name || null
    const calc = (fn) => { try { fn(); return null } catch (e) { if (e instanceof UnknownYear) return e.year; throw e } }
    switch (action) {
      case 'register': c.status = 'registered'; break
      case 'reject': f = need('reason', '请填写不予立案的理由', 'Give the reason'); if (!f.reason) c.status = 'rejected'; break
      case 'merge': {
        const into = cases.get(body.into_id)
        if (!into) f.into_id = T('请选择要合并到的诉求', 'Choose the case to merge into')
        else if (into.id === c.id) f.into_id = T('不能合并到自身', 'Cannot merge into itself')
        else if (['rejected', 'merged', 'closed'].includes(into.status)) f.into_id = T('目标诉求已结束，不能合并', 'The target case is finished')
        if (!Object.keys(f).length) { c.status = 'merged'; c.merged_into = into.id; body.note = T(`合并至 ${into.no}`, `Merged into ${into.no}`) + (body.note ? '：' + body.note : '') }
        break
      }
      case 'dispatch': {
        const r = route(c.category_code, c.area_id, c.returned_unit_ids)
        const unitId = body.unit_id || r.unit_id
        if (!unitId || !units.get(unitId)) { f.unit_id = T('没有可派往的单位，请选择承办单位', 'No unit to route to; choose one'); break }
        const y = calc(() => setDeadlines(c, t))
        if (y) return unknownYear(y)
        c.routing = body.unit_id && body.unit_id !== r.unit_id
          ? { zh: { unit_id: unitId, unit_name: unitOf(unitId).name, duty_id: null, duty_name: null, rule: 'manual', explanation: `派遣员人工指定：${unitOf(unitId).name}（系统建议：${r.unit_name || '无'}）` }, en: { unit_id: unitId, unit_name: unitOf(unitId).name, duty_id: null, duty_name: null, rule: 'manual', explanation: `Chosen by the dispatcher: ${unitOf(unitId).name} (suggested: ${r.unit_name || 'none'})` } }
          : { zh: r, en: route(c.category_code, c.area_id, c.returned_unit_ids, true) }
        c.unit_id = unitId; c.first_unit_id ||= unitId; c.status = 'dispatched'; c.overdue_flag = false
        break
      }
      case 'arbitrate':
        f = { ...need('unit_id', '请选择承办单位', 'Choose the unit'), ...need('note', '请填写仲裁意见', 'Give the decision') }
        if (!Object.keys(f).length) {
          const y = calc(() => setDeadlines(c, t)); if (y) return unknownYear(y)
          const un = unitOf(body.unit_id)?.name || ''
          c.routing = {
            zh: { unit_id: body.unit_id, unit_name: un, duty_id: null, duty_name: null, rule: 'arbitration', explanation: `街道仲裁确定由${un}承办（不得再退单）` },
            en: { unit_id: body.unit_id, unit_name: un, duty_id: null, duty_name: null, rule: 'arbitration', explanation: `The street decided by arbitration that ${un} handles it (no more returns)` },
          }
          c.unit_id = body.unit_id; c.bound = true; c.status = 'dispatched'
        }
        break
      case 'accept': c.responded_at ||= t; c.status = 'in_progress'; break
      case 'return':
        f = need('reason', '请填写退单理由', 'Give the reason')
        if (!f.reason) {
          body.note = body.reason
          const un = unitName()
          c.return_count++; c.returned_unit_ids.push(c.unit_id); c.unit_id = null; c.handle_due_at = c.response_due_at = null; c.pending_extension = null
          c.status = c.return_count >= MAX_RETURNS ? 'arbitration' : 'registered'
          c.events.push({ id: randomUUID(), at: iso(t), actor_name: actor, action, from_status: from, to_status: c.status, unit_name: un, note: body.reason, attachments: [] })
          c.version++
          return ok(200, detail(c, me, en))
        }
        break
      case 'handle':
        f = { ...need('result', '请填写办理结果', 'Describe the result') }
        if (!['resolved', 'explained', 'unresolvable'].includes(body.outcome)) f.outcome = T('请选择办理结论', 'Choose the outcome')
        if (!Object.keys(f).length) {
          const y = calc(() => (c.verify_due_at = addLimit(t, catByCode(c.category_code).verify_limit)))
          if (y) return unknownYear(y)
          c.responded_at ||= t // handled without a separate accept
          c.handled_at = t; c.result = body.result.trim(); c.outcome = body.outcome; c.status = 'handled'; c.pending_extension = null
        }
        break
      case 'verify':
        if (typeof body.ok !== 'boolean') f.ok = T('请选择核查结论', 'Choose the verdict')
        else if (!body.ok && !body.note?.trim()) f.note = T('核查不通过时请写明原因', 'Say why it fails')
        else if (body.ok) { c.verified_at = t; c.status = 'verified' } else { c.status = 'in_progress'; c.handled_at = null; c.outcome = null }
        break
      case 'rate':
        if (!['satisfied', 'basic', 'dissatisfied'].includes(body.rating)) f.rating = T('请选择满意程度', 'Choose a rating')
        else { c.rating = body.rating; c.rating_comment = body.comment?.trim() || null; c.status = 'rated'; body.note = c.rating_comment }
        break
      case 'close': c.closed_at = t; c.status = 'closed'; break
      case 'request_extension':
        if (!(Number.isInteger(body.days) && body.days >= 1 && body.days <= 15)) f.days = T('延期天数应为 1–15 个工作日', '1–15 working days')
        Object.assign(f, need('reason', '请填写延期理由', 'Give the reason'))
        if (!Object.keys(f).length) { c.pending_extension = { days: body.days, reason: body.reason.trim() }; body.note = T(`申请延期 ${body.days} 个工作日：`, `Asks for ${body.days} more working days: `) + body.reason.trim() }
        break
      case 'decide_extension':
        if (typeof body.approve !== 'boolean') f.approve = T('请选择是否批准', 'Approve or refuse')
        else {
          const pe = c.pending_extension
          if (body.approve) { const y = calc(() => (c.handle_due_at = addWorkingDays(c.handle_due_at, pe.days))); if (y) return unknownYear(y); c.extension_count++; c.overdue_flag = false; c.warned = false }
          body.note = (body.approve ? T(`批准延期 ${pe.days} 个工作日`, `Approved ${pe.days} more working days`) : T('不予延期', 'Refused')) + (body.note ? '：' + body.note : '')
          c.pending_extension = null
        }
        break
      case 'supervise':
        f = need('note', '请填写督办意见', 'Write the notice')
        if (!(Number.isInteger(body.days) && body.days >= 1 && body.days <= 30)) f.days = T('办结时限应为 1–30 个工作日', '1–30 working days')
        if (!Object.keys(f).length) {
          const y = calc(() => (c.handle_due_at = addWorkingDays(t, body.days)))
          if (y) return unknownYear(y)
          c.supervised = true; c.supervise_count = (c.supervise_count || 0) + 1; c.overdue_flag = false; c.warned = false
          body.note = body.note.trim() + T(`（限 ${body.days} 个工作日内办结）`, ` (handle within ${body.days} working days)`)
        }
        break
      case 'reopen':
        f = need('reason', '请填写重启理由', 'Give the reason')
        if (!f.reason) {
          const y = calc(() => setDeadlines(c, t)); if (y) return unknownYear(y)
          c.reopen_count++; c.status = 'dispatched'; c.handled_at = c.verified_at = c.closed_at = c.responded_at = null; c.outcome = c.result = null; c.rating = null; c.overdue_flag = false
          body.note = body.reason
        }
        break
    }
    if (Object.keys(f).length) return bad(f)
    const att = action === 'handle' ? (body.attachments || []).map((id) => files.get(id)).filter(Boolean).map((x) => ({ id: x.id, name: x.name })) : []
    const note = body.note ?? body.reason ?? (action === 'handle' ? body.result : null)
    c.events.push({ id: randomUUID(), at: iso(t), actor_name: actor, action, from_status: from, to_status: c.status === from ? null : c.status, unit_name: ['dispatch', 'arbitrate', 'accept', 'handle', 'request_extension'].includes(action) ? unitName() : null, note: note || null, attachments: att })
    c.version++
    log(req, me, 'case.' + action, 'case', c.id, [])
    return ok(200, detail(c, me, en))
  }
}

// ---------------------------------------------------------------- for the other mocks
// 回应关切 (mock/questions.mjs) routes a question like a case (power list, else the community's unit), counts its
// answer deadline in working days on the same calendar, and lets the members of the unit answer it.
export const caseSupport = {
  route: (categoryCode, areaId) => route(categoryCode, areaId),
  unit: (id) => unitOf(id),
  duty: (id) => duties.get(id) || null,
  category: (code) => (code ? catByCode(code) : null),
  addWorkingDays: (start, days) => addWorkingDays(start, days, true),
  memberOf: (me, unitId) => memberOf(me, unitId),
  myUnitIds: (me) => myUnitIds(me),
}
