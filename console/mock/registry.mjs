// Mock of the registry routes (一户一档, docs/api.md “Registry”), with seeded Chinese demo data.
// Dev-only: personal values are kept in clear here; the real server encrypts them.
import { randomUUID } from 'node:crypto'

let A // areas Map from server.mjs
let U // users Map
const dwellings = new Map()
const households = new Map()
const members = [] // { id, household_id, person_id, relation, from_date, to_date }
const persons = new Map()
const visits = []
const needs = new Map()
const entities = new Map()
const events = [] // { id, at, actor_name, object_type, object_id, household_id, reason, note, changes }

const DAY = 86400000
const now = () => new Date().toISOString()
const shDay = (ms = Date.now()) => new Date(ms + 8 * 3600000).toISOString().slice(0, 10)
const today = () => shDay()
const addDays = (d, n) => shDay(new Date(d + 'T00:00:00+08:00').getTime() + n * DAY)

// seeded random, so the demo is the same every start
let seed = 20260
function rnd() {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (arr) => arr[Math.floor(rnd() * arr.length)]
const chance = (p) => rnd() < p

const VOCAB = {
  dwelling_usage: [['self_occupied', '自住'], ['rented', '出租'], ['vacant', '空置'], ['commercial', '商用'], ['other', '其他']],
  household_kind: [['registered', '户籍户'], ['resident', '常住户'], ['floating', '流动人口户'], ['collective', '集体户']],
  relation: [['head', '户主'], ['spouse', '配偶'], ['child', '子女'], ['parent', '父母'], ['other', '其他']],
  id_type: [['id_card', '居民身份证'], ['passport', '护照'], ['hk_macao_permit', '港澳居民来往内地通行证'], ['taiwan_permit', '台湾居民来往大陆通行证'], ['residence_permit', '港澳台居民居住证']],
  gender: [['male', '男'], ['female', '女']],
  political_status: [['masses', '群众'], ['cpc_member', '中共党员'], ['cpc_probationary', '预备党员'], ['cyl_member', '共青团员'], ['democratic_party', '民主党派'], ['non_partisan', '无党派人士']],
  education: [['none', '未上学'], ['primary', '小学'], ['junior', '初中'], ['senior', '高中/中专'], ['college', '大专'], ['bachelor', '本科'], ['postgraduate', '研究生']],
  residence_type: [['hukou', '户籍'], ['resident', '常住'], ['floating', '流动'], ['overseas', '境外']],
  tags: [['living_alone_elderly', '独居老人'], ['empty_nest_elderly', '空巢老人'], ['left_behind_child', '留守儿童'], ['disabled', '残疾人'], ['subsistence', '低保'], ['extreme_poverty', '特困'], ['entitled_group', '优抚对象'], ['key_attention', '重点关注人员']],
  visit_mode: [['in_person', '入户'], ['phone', '电话'], ['online', '线上']],
  need_category: [['elderly_care', '养老'], ['medical', '医疗'], ['employment', '就业'], ['relief', '救助'], ['repair', '维修'], ['dispute', '矛盾纠纷'], ['other', '其他']],
  urgency: [['low', '一般'], ['medium', '较急'], ['high', '紧急']],
  change_reason: [['create', '建档'], ['move_in', '入住'], ['move_out', '迁出'], ['birth', '出生'], ['death', '死亡'], ['head_change', '户主变更'], ['owner_change', '业主变更'], ['correction', '信息更正'], ['verify', '核实无变化'], ['delete', '删除'], ['purge', '过期清除']],
  entity_kind: [['company', '企业'], ['shop', '商户'], ['school', '学校'], ['hospital', '医疗机构'], ['social_org', '社会组织'], ['government', '机关单位'], ['other', '其他']],
}
const SENSITIVE = ['disabled', 'subsistence', 'extreme_poverty', 'key_attention']
const codeOf = (list, v) => { const hit = VOCAB[list].find(([c, l]) => c === v || l === v); return hit ? hit[0] : null }

// ---------- ID numbers ----------
const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
function idCheck(s17) { let s = 0; for (let i = 0; i < 17; i++) s += Number(s17[i]) * W[i]; return '10X98765432'[s % 11] }
function validId(id) { return /^\d{17}[\dX]$/.test(id) && idCheck(id.slice(0, 17)) === id[17] }
const maskId = (v) => (v ? v.slice(0, 3) + '*'.repeat(v.length - 7) + v.slice(-4) : null)
const maskMobile = (v) => (v ? v.slice(0, 3) + '****' + v.slice(-4) : null)
const USCC_CH = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
function usccCheck(s17) { let s = 0; for (let i = 0; i < 17; i++) s += USCC_CH.indexOf(s17[i]) * USCC_W[i]; return USCC_CH[(31 - (s % 31)) % 31] }
function validUscc(v) { return /^[0-9A-HJ-NPQRTUWXY]{18}$/.test(v) && usccCheck(v.slice(0, 17)) === v[17] }

function ageOf(birth) {
  if (!birth) return null
  const t = today()
  let a = Number(t.slice(0, 4)) - Number(birth.slice(0, 4))
  if (t.slice(5) < birth.slice(5)) a--
  return a
}

// ---------- areas ----------
const areaList = () => [...A.values()]
function ancestors(id) {
  const out = []
  let a = A.get(id)
  while (a) { out.push(a); a = a.parent_id && A.get(a.parent_id) }
  return out
}
const up = (id, kind) => ancestors(id).find((a) => a.kind === kind)
function under(id, rootId) { return !rootId || ancestors(id).some((a) => a.id === rootId) }
function inScope(me, areaId) {
  return me.grants.some((g) => (g.role === 'system_admin' && !g.area_id) || ancestors(areaId).some((a) => a.id === g.area_id))
}
const REG_ROLES = ['system_admin', 'street_admin', 'community_worker', 'grid_worker', 'district_admin', 'community_admin', 'building_leader']
const canRead = (me) => me.grants.some((g) => REG_ROLES.includes(g.role))
const canSensitive = (me) => me.grants.some((g) => REG_ROLES.slice(0, 6).includes(g.role))

// ---------- builders ----------
function addEvent(actor, object_type, object_id, household_id, reason, changes = {}, note = null, at = now()) {
  events.push({ id: randomUUID(), at, actor_name: actor, object_type, object_id, household_id, reason, note, changes })
}
function makeDwelling(building, unit, floor, room, usage) {
  const grid = up(building.id, 'grid'), comm = up(building.id, 'community')
  const d = {
    id: randomUUID(), building_id: building.id, grid_id: grid.id, community_id: comm.id, unit, floor, room, usage,
    owners: [], version: 1, last_verified_at: null, updated_at: now(),
  }
  dwellings.set(d.id, d)
  return d
}
const dwAddress = (d) => {
  const b = A.get(d.building_id), c = A.get(d.community_id)
  return `${c?.name || ''}${b?.name || ''}${d.unit ? d.unit + '单元' : ''}${d.room}${/^\d+$/.test(d.room) ? '室' : ''}`
}
function makePerson(p) {
  const x = {
    id: randomUUID(), id_type: 'id_card', gender: null, birth_date: null, ethnicity: '汉族', mobile: null,
    political_status: 'masses', education: null, occupation: null, work_unit: null, hukou_place: null,
    residence_type: 'hukou', tags: [], sensitive_tags: [], status: 'active', version: 1,
    last_verified_at: null, last_verified_by: null, updated_at: now(), deleted: false, ...p,
  }
  persons.set(x.id, x)
  return x
}

const SURNAMES = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文'
const GIVEN_M = ['建国', '志强', '伟', '磊', '军', '勇', '杰', '涛', '明', '超', '海波', '国庆', '振华', '子轩', '浩然', '宇航', '文博', '德明', '宏伟', '春生', '永刚', '晓东', '立新', '卫东']
const GIVEN_F = ['秀英', '桂兰', '淑珍', '丽', '静', '敏', '艳', '芳', '娜', '婷', '雪梅', '玉兰', '春梅', '晓燕', '欣怡', '梓涵', '雨桐', '思琪', '慧敏', '丽华', '凤英', '淑华', '美玲', '海燕']
const OCC = ['退休', '教师', '个体经营', '工人', '医生', '公司职员', '学生', '司机', '厨师', '护士', '公务员', '快递员', '待业', '农民', '工程师']
const UNITS = ['保定市第一中心医院', '竞秀区实验小学', '长城汽车股份有限公司', '保定银行', '个体', '河北大学', '保定东站', '顺丰速运']
const HUKOU = ['河北省保定市竞秀区', '河北省保定市莲池区', '河北省保定市满城区', '河北省石家庄市', '山东省德州市', '河南省安阳市', '山西省大同市', '河北省保定市清苑区']

function newId(birth, male) {
  const d3 = 2 * Math.floor(rnd() * 5) + (male ? 1 : 0)
  const s17 = '130602' + birth.replace(/-/g, '') + String(Math.floor(rnd() * 100)).padStart(2, '0') + d3
  return s17 + idCheck(s17)
}
const newMobile = () => pick(['138', '139', '135', '136', '150', '151', '158', '186', '187', '188', '177', '199']) + String(Math.floor(rnd() * 1e8)).padStart(8, '0')
function birthFor(age) {
  const y = Number(today().slice(0, 4)) - age
  const m = 1 + Math.floor(rnd() * 12), d = 1 + Math.floor(rnd() * 28)
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
}
const msAgo = (days) => new Date(Date.now() - days * DAY - Math.floor(rnd() * 8) * 3600000).toISOString()

function seedData() {
  const workers = ['刘网格', '张社区', '王海燕', '陈立新']
  const buildings = areaList().filter((a) => a.kind === 'building' && under(a.id, areaList().find((x) => x.name === '朝阳社区')?.id))
  for (const b of buildings) {
    const units = b.name === '6号楼' ? ['1'] : ['1', '2']
    for (const unit of units) for (let floor = 1; floor <= 6; floor++) for (const r of ['01', '02']) {
      const usage = chance(0.08) ? 'vacant' : chance(0.22) ? 'rented' : floor === 1 && chance(0.2) ? 'commercial' : 'self_occupied'
      const d = makeDwelling(b, unit, floor, `${floor}${r}`, usage)
      const ownerSurname = pick(SURNAMES)
      const ownerName = ownerSurname + pick(chance(0.5) ? GIVEN_M : GIVEN_F)
      if (chance(0.15)) {
        const old = pick(SURNAMES) + pick(GIVEN_M)
        d.owners.push({ id: randomUUID(), owner_name: old, person_id: null, entity_id: null, from_date: '2003-05-01', to_date: '2016-08-20' })
        d.owners.push({ id: randomUUID(), owner_name: ownerName, person_id: null, entity_id: null, from_date: '2016-08-20', to_date: null })
      } else {
        d.owners.push({ id: randomUUID(), owner_name: ownerName, person_id: null, entity_id: null, from_date: `${1998 + Math.floor(rnd() * 20)}-0${1 + Math.floor(rnd() * 9)}-15`, to_date: null })
      }
      if (usage === 'vacant' || usage === 'commercial') continue
      const area_id = b.id
      const kind = usage === 'rented' ? (chance(0.6) ? 'floating' : 'resident') : chance(0.85) ? 'registered' : 'resident'
      const verifiedDaysAgo = Math.floor(rnd() * (usage === 'rented' ? 200 : 520))
      const h = {
        id: randomUUID(), dwelling_id: d.id, kind, head_person_id: null, area_id, grid_id: d.grid_id, community_id: d.community_id,
        version: 1, last_verified_at: chance(0.06) ? null : msAgo(verifiedDaysAgo), last_verified_by: pick(workers), updated_at: msAgo(verifiedDaysAgo),
      }
      households.set(h.id, h)
      addEvent(pick(workers), 'household', h.id, h.id, 'create', { kind: [null, kind] }, null, msAgo(600 + Math.floor(rnd() * 300)))
      // members
      const shape = pick(['elder1', 'elder2', 'couple', 'family3', 'family3', 'family4', 'family5', 'single'])
      const headSurname = usage === 'self_occupied' && chance(0.7) ? ownerSurname : pick(SURNAMES)
      const plan = {
        elder1: [['head', 70 + Math.floor(rnd() * 20)]],
        elder2: [['head', 68 + Math.floor(rnd() * 15)], ['spouse', 66 + Math.floor(rnd() * 15)]],
        couple: [['head', 28 + Math.floor(rnd() * 20)], ['spouse', 26 + Math.floor(rnd() * 20)]],
        family3: [['head', 35 + Math.floor(rnd() * 15)], ['spouse', 33 + Math.floor(rnd() * 15)], ['child', 3 + Math.floor(rnd() * 15)]],
        family4: [['head', 38 + Math.floor(rnd() * 10)], ['spouse', 36 + Math.floor(rnd() * 10)], ['child', 5 + Math.floor(rnd() * 12)], ['parent', 65 + Math.floor(rnd() * 20)]],
        family5: [['head', 40 + Math.floor(rnd() * 8)], ['spouse', 38 + Math.floor(rnd() * 8)], ['child', 10 + Math.floor(rnd() * 8)], ['child', 2 + Math.floor(rnd() * 6)], ['parent', 70 + Math.floor(rnd() * 15)]],
        single: [['head', 22 + Math.floor(rnd() * 40)]],
      }[shape]
      let headMale = chance(0.7)
      for (const [rel, age] of plan) {
        const male = rel === 'head' ? headMale : rel === 'spouse' ? !headMale : chance(0.5)
        const surname = rel === 'spouse' || (rel === 'parent' && !male) ? pick(SURNAMES) : headSurname
        const birth = birthFor(age)
        const tags = [], stags = []
        if (age >= 70 && plan.length === 1) tags.push(chance(0.6) ? 'living_alone_elderly' : 'empty_nest_elderly')
        else if (age >= 65 && shape === 'elder2' && chance(0.5)) tags.push('empty_nest_elderly')
        if (age < 16 && chance(0.12)) tags.push('left_behind_child')
        if (age > 55 && chance(0.06)) tags.push('entitled_group')
        if (chance(0.05)) stags.push('disabled')
        if (chance(0.05)) stags.push('subsistence')
        if (age > 60 && chance(0.02)) stags.push('extreme_poverty')
        if (age > 18 && chance(0.02)) stags.push('key_attention')
        const p = makePerson({
          name: surname + pick(male ? GIVEN_M : GIVEN_F), gender: male ? 'male' : 'female', birth_date: birth,
          id_no: newId(birth, male), mobile: age >= 16 ? newMobile() : null,
          political_status: age > 18 && chance(0.15) ? 'cpc_member' : age > 14 && age < 28 && chance(0.4) ? 'cyl_member' : 'masses',
          education: age < 6 ? null : age < 12 ? 'primary' : age < 15 ? 'junior' : pick(['junior', 'senior', 'college', 'bachelor', 'bachelor', 'postgraduate', 'primary']),
          occupation: age >= 60 ? '退休' : age < 18 ? '学生' : pick(OCC), work_unit: age >= 22 && age < 60 ? pick(UNITS) : null,
          hukou_place: kind === 'floating' ? pick(HUKOU.slice(3)) : pick(HUKOU.slice(0, 3)),
          residence_type: kind === 'floating' ? 'floating' : kind === 'resident' ? 'resident' : 'hukou',
          tags, sensitive_tags: stags, area_id, grid_id: d.grid_id, community_id: d.community_id,
          last_verified_at: h.last_verified_at, last_verified_by: h.last_verified_by, updated_at: h.updated_at,
        })
        const from = addDays(today(), -(200 + Math.floor(rnd() * 3000)))
        members.push({ id: randomUUID(), household_id: h.id, person_id: p.id, relation: rel, from_date: rel === 'child' && age < 8 ? birth : from, to_date: null })
        if (rel === 'head') h.head_person_id = p.id
        addEvent(pick(workers), 'person', p.id, h.id, 'create', { name: [null, p.name], relation: [null, rel] }, null, msAgo(580 + Math.floor(rnd() * 200)))
      }
      // some history: a past member and a correction
      if (chance(0.15)) {
        const p = makePerson({ name: headSurname + pick(GIVEN_M), gender: 'male', birth_date: birthFor(30), residence_type: 'hukou', status: 'moved_out', area_id, grid_id: d.grid_id, community_id: d.community_id })
        p.id_no = newId(p.birth_date, true)
        const to = addDays(today(), -Math.floor(rnd() * 400))
        members.push({ id: randomUUID(), household_id: h.id, person_id: p.id, relation: 'child', from_date: '2010-03-01', to_date: to })
        addEvent(pick(workers), 'person', p.id, h.id, 'move_out', { status: ['active', 'moved_out'] }, '到北京工作', new Date(to + 'T10:00:00+08:00').toISOString())
      }
      if (chance(0.3)) {
        const headP = persons.get(h.head_person_id)
        addEvent(pick(workers), 'person', headP.id, h.id, 'correction', { mobile: ['139****0000', maskMobile(headP.mobile)], occupation: ['工人', headP.occupation] }, '电话核实后更正', msAgo(30 + Math.floor(rnd() * 200)))
      }
      // visits and needs
      const nv = chance(0.35) ? 0 : 1 + Math.floor(rnd() * 3)
      for (let i = 0; i < nv; i++) {
        const on = addDays(today(), -Math.floor(rnd() * 240))
        const v = { id: randomUUID(), household_id: h.id, visited_on: on, visitors: pick(workers), mode: pick(['in_person', 'in_person', 'in_person', 'phone', 'online']), lat: null, lon: null, notes: pick(['家中一切正常，老人身体尚可。', '反映楼道灯不亮，已记录。', '孩子上学接送有困难，建议联系社区托管。', '租户信息已核对。', '住户不在家，电话联系确认情况。', '老人独居，需定期上门看望。']), created_at: new Date(on + 'T09:30:00+08:00').toISOString() }
        visits.push(v)
        if (chance(0.35)) {
          const category = pick(['elderly_care', 'medical', 'employment', 'relief', 'repair', 'repair', 'dispute', 'other'])
          const urgency = pick(['low', 'low', 'medium', 'high'])
          const desc = { elderly_care: '希望申请居家养老助餐服务', medical: '老人行动不便，需要家庭医生上门', employment: '家中有失业人员，希望推荐工作', relief: '家庭收入下降，咨询临时救助', repair: pick(['楼道灯坏了', '下水管道漏水', '单元门禁失灵']), dispute: '与楼上邻居因漏水产生纠纷', other: '咨询电动车充电桩安装' }[category]
          const due = addDays(on, urgency === 'high' ? 3 : urgency === 'medium' ? 7 : 15)
          const status = due < addDays(today(), -30) ? pick(['closed', 'closed', 'in_progress']) : pick(['open', 'in_progress', 'closed'])
          const n = { id: randomUUID(), household_id: h.id, visit_id: v.id, category, urgency, description: desc, owner_user_id: null, owner_name: status !== 'open' ? pick(workers) : null, status, due_on: due, result: status === 'closed' ? '已处理，住户满意' : null, version: 1, created_at: v.created_at }
          needs.set(n.id, n)
        }
      }
    }
  }
  // a possible duplicate: the same ID number in two households
  const hs = [...households.values()]
  const a = persons.get(hs[3].head_person_id)
  const dupe = makePerson({ ...a, id: randomUUID(), area_id: hs[40].area_id, grid_id: hs[40].grid_id, community_id: hs[40].community_id, tags: [], sensitive_tags: [] })
  members.push({ id: randomUUID(), household_id: hs[40].id, person_id: dupe.id, relation: 'other', from_date: '2022-06-01', to_date: null })
  // legal entities
  const comm = areaList().find((x) => x.name === '朝阳社区')
  const ents = [['保定市竞秀区朝阳便民超市', 'shop', '周海波'], ['保定市安康社区卫生服务站', 'hospital', '吴丽'], ['保定朝阳物业管理有限公司', 'company', '郑国庆'], ['竞秀区朝阳社区老年协会', 'social_org', '孙桂兰']]
  for (const [name, kind, contact] of ents) {
    let s17 = (kind === 'shop' ? '92' : kind === 'social_org' ? '52' : kind === 'hospital' ? '12' : '91') + '130602'
    while (s17.length < 17) s17 += USCC_CH[Math.floor(rnd() * 31)]
    const e = { id: randomUUID(), name, uscc: s17 + usccCheck(s17), kind, area_id: comm.id, dwelling_id: null, contact_name: contact, contact_mobile: newMobile(), version: 1, created_at: now() }
    entities.set(e.id, e)
  }
}

// ---------- views ----------
function curMembership(personId) {
  return members.find((x) => x.person_id === personId && !x.to_date) || null
}
function personOut(p, me) {
  const ms = curMembership(p.id)
  const h = ms && households.get(ms.household_id)
  const out = {
    id: p.id, name: p.name, id_type: p.id_type, id_no_masked: maskId(p.id_no), gender: p.gender, birth_date: p.birth_date,
    age: ageOf(p.birth_date), ethnicity: p.ethnicity, mobile_masked: maskMobile(p.mobile), political_status: p.political_status,
    education: p.education, occupation: p.occupation, work_unit: p.work_unit, hukou_place: p.hukou_place,
    residence_type: p.residence_type, tags: p.tags, status: p.status, area_id: p.area_id, grid_id: p.grid_id,
    community_id: p.community_id, household_id: h?.id || null, relation: ms?.relation || null,
    address: h ? dwAddress(dwellings.get(h.dwelling_id)) : null, version: p.version,
    last_verified_at: p.last_verified_at, last_verified_by: p.last_verified_by, updated_at: p.updated_at,
  }
  if (canSensitive(me)) out.sensitive_tags = p.sensitive_tags
  return out
}
function memberOut(ms, me) {
  const p = persons.get(ms.person_id)
  // like the server: the person nested in the membership
  return { id: ms.id, person_id: p.id, relation: ms.relation, from_date: ms.from_date, to_date: ms.to_date, person: personOut(p, me) }
}
function isStale(h) {
  const d = dwellings.get(h.dwelling_id)
  const days = d.usage === 'rented' ? 90 : 365
  return !h.last_verified_at || Date.now() - new Date(h.last_verified_at).getTime() > days * DAY
}
function householdOut(h) {
  const head = h.head_person_id && persons.get(h.head_person_id)
  return {
    id: h.id, dwelling_id: h.dwelling_id, address: dwAddress(dwellings.get(h.dwelling_id)), kind: h.kind,
    head_person_id: h.head_person_id, head_name: head?.name || null,
    member_count: members.filter((m) => m.household_id === h.id && !m.to_date).length,
    area_id: h.area_id, grid_id: h.grid_id, community_id: h.community_id, version: h.version,
    last_verified_at: h.last_verified_at, last_verified_by: h.last_verified_by, stale: isStale(h), updated_at: h.updated_at,
  }
}
function dwellingOut(d, detail = false) {
  const b = A.get(d.building_id)
  const cur = d.owners.find((o) => !o.to_date) || null
  const out = {
    id: d.id, building_id: d.building_id, building_name: b?.name, grid_id: d.grid_id, community_id: d.community_id,
    unit: d.unit, floor: d.floor, room: d.room, usage: d.usage, address: dwAddress(d), current_owner: cur?.owner_name || null,
    household_count: [...households.values()].filter((h) => h.dwelling_id === d.id && !h.deleted).length,
    version: d.version, last_verified_at: d.last_verified_at, updated_at: d.updated_at,
  }
  if (detail) out.owners = d.owners
  return out
}
const needOut = (n) => {
  const h = households.get(n.household_id)
  return { ...n, address: h ? dwAddress(dwellings.get(h.dwelling_id)) : '', overdue: n.status !== 'closed' && n.due_on < today() }
}
const visitOut = (v) => {
  const h = households.get(v.household_id)
  return { ...v, address: h ? dwAddress(dwellings.get(h.dwelling_id)) : '', needs: [...needs.values()].filter((n) => n.visit_id === v.id).map(needOut) }
}
const entityOut = ({ contact_mobile, ...e }) => ({ ...e, contact_mobile_masked: maskMobile(contact_mobile) })
const eventOut = ({ household_id, ...e }) => e

function paged(url, all) {
  const page = Math.max(1, Number(url.searchParams.get('page') || 1))
  const size = Math.min(200, Math.max(1, Number(url.searchParams.get('page_size') || 20)))
  return { items: all.slice((page - 1) * size, page * size), total: all.length, page, page_size: size }
}

/** The residents (for mock/service.mjs: volunteers are registry persons). */
export const registryPersons = () => persons
/**
 * The households as mock/notices.mjs addresses them: address, grid / community / building, the head's name and the
 * registry tags of the current members (non-sensitive and sensitive apart).
 */
export function registryHouseholds() {
  return [...households.values()].filter((h) => !h.deleted).map((h) => {
    const ms = members.filter((x) => x.household_id === h.id && !x.to_date).map((x) => persons.get(x.person_id)).filter(Boolean)
    return {
      id: h.id, address: dwAddress(dwellings.get(h.dwelling_id)), area_id: h.area_id, grid_id: h.grid_id, community_id: h.community_id,
      head_name: persons.get(h.head_person_id)?.name || ms[0]?.name || '', tags: [...new Set(ms.flatMap((p) => p.tags || []))],
      member_ids: ms.map((p) => p.id),
    }
  })
}

export function initRegistry({ areas, users }) {
  A = areas
  U = users
  seedData()
}

// Returns true when the route was handled.
export function registryApi({ req, res, url, p, m, body, me, send, err, log }) {
  const REG = /^\/(registry|dwellings|households|persons|visits|needs|legal-entities|import|export)(\/|$)/
  if (!REG.test(p)) return false
  const en = (req.headers['accept-language'] || '').startsWith('en')
  const L = (zh, e) => (en ? e : zh)
  const q = (k) => url.searchParams.get(k) || ''
  const nf = () => (err(res, req, 404, 'not_found', '未找到', 'Not found'), true)
  const bad = (fields) => (err(res, req, 422, 'validation', '输入有误', 'Invalid input', fields), true)
  const conflict = () => (err(res, req, 409, 'conflict', '已被他人修改，请刷新后重试', 'Changed by someone else; reload and retry'), true)
  const ok = (status, b) => (send(res, status, b), true)
  if (!canRead(me)) return (err(res, req, 403, 'forbidden', '没有权限', 'Forbidden'), true)
  const actor = me.display_name
  const areaFilter = q('area_id')
  const vis = (areaId) => inScope(me, areaId) && under(areaId, areaFilter)
  let mm

  // ---- import / export (CSV) — a small stand-in: no quoted cells, persons only, no households ----
  const csvOut = (name, text) => {
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"`, 'x-request-id': res.rid })
    res.end('\ufeff' + text)
    return true
  }
  const COLS = ['姓名', '证件类型', '证件号码', '性别', '出生日期', '民族', '手机号码', '政治面貌', '学历', '职业', '工作单位', '户籍地', '居住类型', '特殊人群', '楼栋编码', '单元', '室号', '与户主关系', '户类型', '房屋用途']
  if (p === '/import/templates/persons.csv' && m === 'GET') {
    return csvOut('persons-template.csv', COLS.join(',') + '\r\n王芳,居民身份证,130602198805120028,女,1988-05-12,汉族,13812345678,群众,本科,教师,保定市第一中学,保定市,户籍,独居老人,130602001001001001,1,301,户主,户籍户,自住\r\n')
  }
  if (p === '/import/persons' && m === 'POST') {
    const mode = q('mode') || 'dry_run'
    if (!['dry_run', 'commit'].includes(mode)) return bad({ mode: L('mode 应为 dry_run 或 commit', 'mode must be dry_run or commit') })
    const raw = body.__raw || Buffer.alloc(0)
    if (!raw.length) return bad({ file: L('文件为空', 'The file is empty') })
    // the mock does not read workbooks (the real server does): answer like a damaged one
    if (raw[0] === 0x50 && raw[1] === 0x4b) return ok(200, { status: 'rejected', encoding: 'xlsx', rows: 0, ok_rows: 0, error_rows: 0, created: 0, updated: 0, unchanged: 0, notes: [], problems: [{ row: 0, column: '', problem: '无法读取 Excel 文件（mock 不解析 Excel，请用 CSV） / the mock cannot read Excel workbooks; use CSV' }] })
    let text, encoding = 'utf-8'
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(raw) } catch { text = new TextDecoder('gb18030').decode(raw); encoding = 'gb18030' }
    const lines = text.replace(/^\ufeff/, '').split(/\r?\n/)
    const head = lines[0].split(',').map((h) => h.trim())
    const r = { status: 'dry_run', encoding, rows: 0, ok_rows: 0, error_rows: 0, created: 0, updated: 0, unchanged: 0, problems: [], notes: [] }
    const missing = ['姓名', '证件号码', '居住类型', '楼栋编码'].filter((c) => !head.includes(c))
    if (missing.length) return ok(200, { ...r, status: 'rejected', problems: missing.map((c) => ({ row: 1, column: c, problem: '缺少必需的列 / required column missing' })) })
    const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    const byCode = new Map([...A.values()].filter((a) => a.kind === 'building').map((a) => [a.code, a]))
    const good = [], seen = new Map()
    lines.slice(1).forEach((line, i) => {
      const row = i + 2
      if (!line.trim()) return
      r.rows++
      const cell = Object.fromEntries(head.map((h, j) => [h, (line.split(',')[j] || '').trim()]))
      const errs = []
      const id = cell['证件号码'].toUpperCase()
      if (!cell['姓名']) errs.push(['姓名', '不能为空 / Must not be empty'])
      if (!/^\d{17}[\dX]$/.test(id)) errs.push(['证件号码', '身份证号应为 18 位（前 17 位为数字） / An ID number has 18 characters, the first 17 digits'])
      else if ('10X98765432'[W.reduce((s, w, k) => s + w * Number(id[k]), 0) % 11] !== id[17]) errs.push(['证件号码', "身份证号校验位不正确 / The ID number's check character is wrong"])
      else if (seen.has(id)) errs.push(['证件号码', `与第 ${seen.get(id)} 行的证件号码重复 / duplicate of row ${seen.get(id)}`])
      else seen.set(id, row)
      const residence = codeOf('residence_type', cell['居住类型'])
      if (!residence) errs.push(['居住类型', '居住类型应为：户籍、常住、流动、境外 / Residence type must be one of: hukou, resident, floating, overseas'])
      const b = byCode.get(cell['楼栋编码'])
      if (!b || !inScope(me, b.id)) errs.push(['楼栋编码', `楼栋编码 ${cell['楼栋编码']} 不存在或不在您的管辖范围内 / unknown or out of scope`])
      if (errs.length) {
        r.error_rows++
        for (const [column, problem] of errs) if (r.problems.length < 1000) r.problems.push({ row, column, problem })
        return
      }
      const old = [...persons.values()].find((x) => !x.deleted && x.id_no === id)
      if (!old) r.created++
      else if (old.name === cell['姓名'] && old.residence_type === residence && old.area_id === b.id) r.unchanged++
      else r.updated++
      good.push({ old, name: cell['姓名'], id_no: id, residence_type: residence, b, mobile: cell['手机号码'] || null })
    })
    r.ok_rows = good.length
    if (mode === 'commit') {
      if (r.error_rows) return ok(200, { ...r, status: 'rejected', notes: ['文件中有错误，未写入任何数据 / the file has errors; nothing was written'] })
      for (const g of good) {
        const where = { area_id: g.b.id, grid_id: g.b.parent_id, community_id: A.get(g.b.parent_id)?.parent_id }
        if (g.old) Object.assign(g.old, { name: g.name, residence_type: g.residence_type, ...where, version: g.old.version + 1, updated_at: now() })
        else makePerson({ name: g.name, id_no: g.id_no, mobile: g.mobile, residence_type: g.residence_type, ...where })
      }
      r.status = 'committed'
      log(req, me, 'import.persons', 'person', null)
    }
    return ok(200, r)
  }
  if (p === '/export/persons.csv' && m === 'GET') {
    if (areaFilter && !A.get(areaFilter)) return nf()
    const rows = [...persons.values()].filter((x) => !x.deleted && vis(x.area_id)).map((x) => {
      const o = personOut(x, me)
      return [o.name, '居民身份证', o.id_no_masked || '', o.gender === 'male' ? '男' : o.gender === 'female' ? '女' : '', o.birth_date || '', o.ethnicity || '', o.mobile_masked || '', o.address || '']
        .map((v) => (/^[=+\-@]/.test(String(v)) ? "'" + v : v)).join(',')
    })
    log(req, me, 'export.persons', 'person', null)
    return csvOut('persons.csv', ['姓名', '证件类型', '证件号码（脱敏）', '性别', '出生日期', '民族', '手机号码（脱敏）', '地址'].join(',') + '\r\n' + rows.join('\r\n') + '\r\n')
  }

  if (p === '/registry/vocab') {
    const out = {}
    for (const [k, items] of Object.entries(VOCAB)) out[k] = items.map(([code, label]) => ({ code, label, ...(k === 'tags' ? { sensitive: SENSITIVE.includes(code) } : {}) }))
    return ok(200, out)
  }
  if (p === '/registry/stats') {
    const days = Number(q('days') || 90)
    const hs = [...households.values()].filter((h) => !h.deleted && vis(h.area_id))
    const since = addDays(today(), -days)
    const visitedIds = new Set(visits.filter((v) => v.visited_on >= since).map((v) => v.household_id))
    const everIds = new Set(visits.map((v) => v.household_id))
    const hsIds = new Set(hs.map((h) => h.id))
    const ns = [...needs.values()].filter((n) => hsIds.has(n.household_id)).map(needOut)
    const byCat = {}
    for (const n of ns.filter((x) => x.status !== 'closed')) {
      byCat[n.category] ||= { category: n.category, open: 0, overdue: 0 }
      byCat[n.category].open++
      if (n.overdue) byCat[n.category].overdue++
    }
    const visited = hs.filter((h) => visitedIds.has(h.id)).length
    const fresh = hs.filter((h) => !isStale(h)).length
    return ok(200, {
      area_id: areaFilter || null, days,
      households: hs.length,
      persons: [...persons.values()].filter((x) => !x.deleted && x.status === 'active' && vis(x.area_id)).length,
      dwellings: [...dwellings.values()].filter((d) => vis(d.building_id)).length,
      visited_households: visited,
      visit_coverage: hs.length ? visited / hs.length : 0,
      never_visited_households: hs.filter((h) => !everIds.has(h.id)).length,
      open_needs: ns.filter((n) => n.status !== 'closed').length,
      overdue_needs: ns.filter((n) => n.overdue).length,
      needs_by_category: Object.values(byCat).sort((a, b) => b.open - a.open),
      fresh_households: fresh,
      freshness_rate: hs.length ? fresh / hs.length : 0,
    })
  }
  if (p === '/registry/stale') {
    const all = [...households.values()].filter((h) => !h.deleted && vis(h.area_id) && isStale(h))
      .sort((a, b) => (a.last_verified_at || '').localeCompare(b.last_verified_at || '')).map(householdOut)
    return ok(200, paged(url, all))
  }
  if (p === '/registry/duplicates') {
    const byId = new Map()
    for (const x of persons.values()) if (!x.deleted && x.id_no && vis(x.area_id)) { if (!byId.has(x.id_no)) byId.set(x.id_no, []); byId.get(x.id_no).push(x) }
    const items = [...byId.values()].filter((l) => l.length > 1).map((l) => ({ kind: 'same_id_no', persons: l.map((x) => ({ id: x.id, name: x.name, id_no_masked: maskId(x.id_no), address: null })) }))
    return ok(200, items)
  }

  // ---- dwellings ----
  if (p === '/dwellings' && m === 'GET') {
    const s = q('q')
    const all = [...dwellings.values()].filter((d) => vis(d.building_id) && (!s || dwAddress(d).includes(s) || d.owners.some((o) => !o.to_date && o.owner_name.includes(s))))
      .sort((a, b) => dwAddress(a).localeCompare(dwAddress(b), 'zh', { numeric: true })).map((d) => dwellingOut(d))
    return ok(200, paged(url, all))
  }
  if (p === '/dwellings' && m === 'POST') {
    const b = A.get(body.building_id)
    const f = {}
    if (!b || b.kind !== 'building') f.building_id = L('请选择楼栋', 'Choose a building')
    if (!body.room) f.room = L('不能为空', 'Required')
    const usage = codeOf('dwelling_usage', body.usage || '')
    if (!usage) f.usage = L('房屋用途应为：自住、出租、空置、商用、其他', 'Dwelling use must be one of: self_occupied, rented, vacant, commercial, other')
    if (Object.keys(f).length) return bad(f)
    if (!inScope(me, b.id)) return nf()
    if ([...dwellings.values()].some((d) => d.building_id === b.id && d.unit === (body.unit || '') && d.room === body.room)) return (err(res, req, 409, 'conflict', '该房屋已登记', 'This dwelling is already registered', { room: L('该房屋已登记', 'Already registered') }), true)
    const d = makeDwelling(b, body.unit || '', body.floor ?? null, String(body.room), usage)
    addEvent(actor, 'dwelling', d.id, null, 'create', { address: [null, dwAddress(d)] })
    return ok(201, dwellingOut(d, true))
  }
  if ((mm = p.match(/^\/dwellings\/([^/]+)(\/owners)?$/))) {
    const d = dwellings.get(mm[1])
    if (!d || !inScope(me, d.building_id)) return nf()
    if (mm[2] && m === 'POST') {
      if (!body.owner_name) return bad({ owner_name: L('不能为空', 'Required') })
      const from = body.from_date || today()
      for (const o of d.owners) if (!o.to_date) o.to_date = from
      d.owners.push({ id: randomUUID(), owner_name: body.owner_name, person_id: body.person_id || null, entity_id: body.entity_id || null, from_date: from, to_date: null })
      d.version++; d.updated_at = now()
      addEvent(actor, 'dwelling', d.id, null, 'owner_change', { owner_name: [d.owners.at(-2)?.owner_name || null, body.owner_name] })
      return ok(200, dwellingOut(d, true))
    }
    if (m === 'GET') return ok(200, dwellingOut(d, true))
    if (m === 'PATCH') {
      if (body.version !== d.version) return conflict()
      const changes = {}
      for (const k of ['unit', 'floor', 'room', 'usage']) if (k in body && body[k] !== d[k]) { changes[k] = [d[k], body[k]]; d[k] = body[k] }
      d.version++; d.updated_at = now()
      addEvent(actor, 'dwelling', d.id, null, body.reason || 'correction', changes)
      return ok(200, dwellingOut(d, true))
    }
  }

  // ---- households ----
  if (p === '/households' && m === 'GET') {
    const s = q('q'), stale = q('stale') === 'true', dw = q('dwelling_id')
    const all = [...households.values()].filter((h) => !h.deleted && vis(h.area_id) && (!dw || h.dwelling_id === dw)).map(householdOut)
      .filter((h) => (!stale || h.stale) && (!s || h.address.includes(s) || (h.head_name || '').includes(s) || members.some((x) => x.household_id === h.id && !x.to_date && persons.get(x.person_id).name.includes(s))))
      .sort((a, b) => a.address.localeCompare(b.address, 'zh', { numeric: true }))
    return ok(200, paged(url, all))
  }
  if (p === '/households' && m === 'POST') {
    const d = dwellings.get(body.dwelling_id)
    if (!d) return bad({ dwelling_id: L('请选择房屋', 'Choose a dwelling') })
    if (!inScope(me, d.building_id)) return nf()
    const kind = codeOf('household_kind', body.kind || '')
    if (!kind) return bad({ kind: L('户类型应为：户籍户、常住户、流动人口户、集体户', 'Household type must be one of: registered, resident, floating, collective') })
    const h = { id: randomUUID(), dwelling_id: d.id, kind, head_person_id: null, area_id: d.building_id, grid_id: d.grid_id, community_id: d.community_id, version: 1, last_verified_at: now(), last_verified_by: actor, updated_at: now() }
    households.set(h.id, h)
    addEvent(actor, 'household', h.id, h.id, 'create', { kind: [null, kind] })
    return ok(201, householdOut(h))
  }
  if ((mm = p.match(/^\/households\/([^/]+)(?:\/(members|verify|file|history)(?:\/([^/]+)\/end)?)?$/))) {
    const h = households.get(mm[1])
    if (!h || h.deleted || !inScope(me, h.area_id)) return nf()
    const sub = mm[2]
    if (sub === 'verify' && m === 'POST') {
      h.last_verified_at = now(); h.last_verified_by = actor; h.version++; h.updated_at = now()
      for (const x of members) if (x.household_id === h.id && !x.to_date) { const pp = persons.get(x.person_id); pp.last_verified_at = h.last_verified_at; pp.last_verified_by = actor }
      addEvent(actor, 'household', h.id, h.id, 'verify', {}, body.note || null)
      return ok(200, householdOut(h))
    }
    if (sub === 'history') return ok(200, events.filter((e) => e.household_id === h.id).sort((a, b) => b.at.localeCompare(a.at)).map(eventOut))
    if (sub === 'file') {
      const ms = members.filter((x) => x.household_id === h.id)
      return ok(200, {
        household: householdOut(h), dwelling: dwellingOut(dwellings.get(h.dwelling_id), true),
        members: ms.filter((x) => !x.to_date).sort((a, b) => (a.relation === 'head' ? -1 : b.relation === 'head' ? 1 : 0)).map((x) => memberOut(x, me)),
        past_members: ms.filter((x) => x.to_date).map((x) => memberOut(x, me)),
        visits: visits.filter((v) => v.household_id === h.id).sort((a, b) => b.visited_on.localeCompare(a.visited_on)).map(visitOut),
        needs: [...needs.values()].filter((n) => n.household_id === h.id).map(needOut),
        events: events.filter((e) => e.household_id === h.id).sort((a, b) => b.at.localeCompare(a.at)).map(eventOut),
        cases: [], services: [], as_of: q('as_of') || null,
      })
    }
    if (sub === 'members' && m === 'POST' && !mm[3]) {
      const pp = persons.get(body.person_id)
      if (!pp || pp.deleted || !inScope(me, pp.area_id)) return bad({ person_id: L('请选择居民', 'Choose a person') })
      const rel = codeOf('relation', body.relation || '')
      if (!rel) return bad({ relation: L('请选择与户主关系', 'Choose the relation') })
      if (curMembership(pp.id)) return (err(res, req, 409, 'conflict', `${pp.name}已在其他户中，请先办理迁出`, `${pp.name} belongs to another household; end that first`, { person_id: L('已在其他户中', 'Already in a household') }), true)
      const x = { id: randomUUID(), household_id: h.id, person_id: pp.id, relation: rel, from_date: body.from_date || today(), to_date: null }
      members.push(x)
      pp.area_id = h.area_id; pp.grid_id = h.grid_id; pp.community_id = h.community_id; pp.status = 'active'
      if (rel === 'head' && !h.head_person_id) h.head_person_id = pp.id
      h.version++; h.updated_at = now()
      addEvent(actor, 'person', pp.id, h.id, body.reason || 'move_in', { household: [null, householdOut(h).address], relation: [null, rel] })
      return ok(201, memberOut(x, me))
    }
    if (sub === 'members' && mm[3] && m === 'POST') {
      const x = members.find((y) => y.id === mm[3] && y.household_id === h.id)
      if (!x) return nf()
      if (x.to_date) return (err(res, req, 409, 'conflict', '该成员已离开本户', 'Already ended'), true)
      const reason = body.reason
      if (!['move_out', 'death'].includes(reason)) return bad({ reason: L('原因应为：迁出、死亡', 'Reason must be move_out or death') })
      x.to_date = body.to_date || today()
      const pp = persons.get(x.person_id)
      pp.status = reason === 'death' ? 'deceased' : 'moved_out'; pp.version++
      if (h.head_person_id === pp.id) h.head_person_id = null
      h.version++; h.updated_at = now()
      addEvent(actor, 'person', pp.id, h.id, reason, { status: ['active', pp.status], to_date: [null, x.to_date] }, body.note || null)
      return ok(200, memberOut(x, me))
    }
    if (!sub && m === 'GET') return ok(200, householdOut(h))
    if (!sub && m === 'PATCH') {
      const unknown = Object.keys(body).filter((k) => !['version', 'kind', 'head_person_id', 'note'].includes(k))
      if (unknown.length) return bad({ [unknown[0]]: L(`未知字段 ${unknown[0]}`, `unknown field ${unknown[0]}`) })
      if (body.version !== h.version) return conflict()
      const changes = {}
      if (body.kind && body.kind !== h.kind) { const k = codeOf('household_kind', body.kind); if (!k) return bad({ kind: L('户类型无效', 'Invalid type') }); changes.kind = [h.kind, k]; h.kind = k }
      if ('head_person_id' in body && body.head_person_id !== h.head_person_id) {
        const nm = members.find((x) => x.household_id === h.id && !x.to_date && x.person_id === body.head_person_id)
        if (!nm) return bad({ head_person_id: L('户主须是本户现有成员', 'The head must be a current member') })
        const old = members.find((x) => x.household_id === h.id && !x.to_date && x.person_id === h.head_person_id)
        if (old) old.relation = 'other'
        changes.head = [persons.get(h.head_person_id)?.name || null, persons.get(nm.person_id).name]
        nm.relation = 'head'; h.head_person_id = nm.person_id
      }
      h.version++; h.updated_at = now()
      addEvent(actor, 'household', h.id, h.id, body.reason || (changes.head ? 'head_change' : 'correction'), changes, body.note || null)
      return ok(200, householdOut(h))
    }
  }

  // ---- persons ----
  if (p === '/persons' && m === 'GET') {
    const s = q('q').trim(), tag = q('tag'), rt = q('residence_type'), st = q('status')
    const amin = q('age_min') ? Number(q('age_min')) : null, amax = q('age_max') ? Number(q('age_max')) : null
    if (tag && SENSITIVE.includes(tag) && !canSensitive(me)) return ok(200, { items: [], total: 0, page: 1, page_size: 20 })
    const exactId = /^\d{17}[\dXx]$/.test(s), exactMobile = /^1\d{10}$/.test(s)
    const all = [...persons.values()].filter((x) => !x.deleted && vis(x.area_id))
      .filter((x) => (exactId ? x.id_no === s.toUpperCase() : exactMobile ? x.mobile === s : !s || x.name.includes(s)))
      .filter((x) => !tag || x.tags.includes(tag) || x.sensitive_tags.includes(tag))
      .filter((x) => !rt || x.residence_type === rt)
      .filter((x) => !st || x.status === st)
      .filter((x) => (amin == null || ageOf(x.birth_date) >= amin) && (amax == null || ageOf(x.birth_date) <= amax))
      .map((x) => personOut(x, me))
      .sort((a, b) => (a.address || '').localeCompare(b.address || '', 'zh', { numeric: true }))
    log(req, me, 'person.list', 'person', null, [])
    return ok(200, paged(url, all))
  }
  const validatePerson = (b, creating) => {
    const f = {}
    if (creating || 'name' in b) if (!b.name || !String(b.name).trim()) f.name = L('不能为空', 'Required')
    if (creating && !b.area_id) f.area_id = L('请选择所在楼栋或网格', 'Choose a building or grid')
    if ((creating || 'id_no' in b) && (b.id_type || 'id_card') === 'id_card') {
      if (!b.id_no) f.id_no = L('不能为空', 'Required')
      else if (!validId(String(b.id_no).toUpperCase())) f.id_no = L('身份证号码校验位不正确', 'The ID number check digit is wrong')
      else if (b.birth_date && b.birth_date.replace(/-/g, '') !== String(b.id_no).slice(6, 14)) f.birth_date = L('出生日期与身份证号码不一致', 'Birth date does not match the ID number')
    }
    if (b.mobile && !/^1[3-9]\d{9}$/.test(b.mobile)) f.mobile = L('手机号码应为 11 位数字', 'A mobile number has 11 digits')
    if ((creating || 'residence_type' in b) && !codeOf('residence_type', b.residence_type || '')) f.residence_type = L('居住类型应为：户籍、常住、流动、境外', 'Residence type must be one of: hukou, resident, floating, overseas')
    return f
  }
  if (p === '/persons' && m === 'POST') {
    const f = validatePerson(body, true)
    if (Object.keys(f).length) return bad(f)
    const area = A.get(body.area_id)
    if (!area || !inScope(me, area.id)) return bad({ area_id: L('区域不在您的范围内', 'Area out of your scope') })
    const idn = body.id_no ? String(body.id_no).toUpperCase() : null
    if (idn && [...persons.values()].some((x) => !x.deleted && x.id_no === idn)) return (err(res, req, 409, 'conflict', '该证件号码已登记', 'This ID number is already registered', { id_no: L('该证件号码已登记', 'Already registered') }), true)
    const allTags = body.tags || []
    const x = makePerson({
      name: body.name.trim(), id_type: body.id_type || 'id_card', id_no: idn, gender: body.gender || null,
      birth_date: body.birth_date || (idn ? `${idn.slice(6, 10)}-${idn.slice(10, 12)}-${idn.slice(12, 14)}` : null),
      ethnicity: body.ethnicity || null, mobile: body.mobile || null, political_status: body.political_status || null,
      education: body.education || null, occupation: body.occupation || null, work_unit: body.work_unit || null,
      hukou_place: body.hukou_place || null, residence_type: codeOf('residence_type', body.residence_type),
      tags: allTags.filter((t) => !SENSITIVE.includes(t)), sensitive_tags: canSensitive(me) ? allTags.filter((t) => SENSITIVE.includes(t)) : [],
      area_id: area.id, grid_id: (up(area.id, 'grid') || area).id, community_id: up(area.id, 'community')?.id,
      last_verified_at: now(), last_verified_by: actor,
    })
    if (!x.gender && idn) x.gender = Number(idn[16]) % 2 ? 'male' : 'female'
    addEvent(actor, 'person', x.id, null, 'create', { name: [null, x.name] })
    log(req, me, 'person.create', 'person', x.id, Object.keys(body))
    return ok(201, personOut(x, me))
  }
  if ((mm = p.match(/^\/persons\/([^/]+)(\/reveal|\/history)?$/))) {
    const x = persons.get(mm[1])
    if (!x || x.deleted || !inScope(me, x.area_id)) return nf()
    if (mm[2] === '/reveal') {
      if (!canSensitive(me)) return (err(res, req, 403, 'forbidden', '您的角色不能查看完整信息', 'Your role may not see full values'), true)
      if (!body.reason || String(body.reason).trim().length < 2) return bad({ reason: L('请填写查看原因（至少 2 个字）', 'Give a reason (at least 2 characters)') })
      const out = {}
      for (const k of body.fields || ['id_no', 'mobile']) if (k === 'id_no' || k === 'mobile') out[k] = x[k] || null
      log(req, me, 'person.reveal', 'person', x.id, Object.keys(out))
      return ok(200, out)
    }
    if (mm[2] === '/history') return ok(200, events.filter((e) => e.object_id === x.id).sort((a, b) => b.at.localeCompare(a.at)).map(eventOut))
    if (m === 'GET') { log(req, me, 'person.read', 'person', x.id); return ok(200, personOut(x, me)) }
    if (m === 'DELETE') {
      const reason = q('reason')
      if (!reason || reason.trim().length < 2) return bad({ reason: L('请填写删除原因', 'Give a reason') })
      x.deleted = true
      const ms = curMembership(x.id)
      if (ms) ms.to_date = today()
      addEvent(actor, 'person', x.id, ms?.household_id || null, 'delete', {}, reason)
      return ok(204)
    }
    if (m === 'PATCH') {
      if (body.version !== x.version) return conflict()
      const f = validatePerson({ ...body, id_type: body.id_type || x.id_type, birth_date: body.birth_date ?? x.birth_date, ...('id_no' in body ? {} : {}) }, false)
      if (Object.keys(f).length) return bad(f)
      const changes = {}
      const FIELDS = ['name', 'id_type', 'id_no', 'gender', 'birth_date', 'ethnicity', 'mobile', 'political_status', 'education', 'occupation', 'work_unit', 'hukou_place', 'residence_type']
      for (const k of FIELDS) if (k in body && (body[k] || null) !== (x[k] || null)) {
        const mask = k === 'id_no' ? maskId : k === 'mobile' ? maskMobile : (v) => v
        changes[k] = [mask(x[k]) ?? null, mask(body[k]) ?? null]; x[k] = body[k] || null
      }
      if ('tags' in body) {
        const nt = body.tags.filter((t) => !SENSITIVE.includes(t))
        if (nt.join() !== x.tags.join()) { changes.tags = [x.tags, nt]; x.tags = nt }
        if (canSensitive(me)) {
          const ns = body.tags.filter((t) => SENSITIVE.includes(t))
          if (ns.join() !== x.sensitive_tags.join()) { changes.sensitive_tags = ['***', '***']; x.sensitive_tags = ns }
        }
      }
      if ('area_id' in body && body.area_id !== x.area_id) { changes.area_id = [A.get(x.area_id)?.name, A.get(body.area_id)?.name]; x.area_id = body.area_id }
      x.version++; x.updated_at = now()
      addEvent(actor, 'person', x.id, curMembership(x.id)?.household_id || null, body.reason || 'correction', changes, body.note || null)
      log(req, me, 'person.update', 'person', x.id, Object.keys(changes))
      return ok(200, personOut(x, me))
    }
  }

  // ---- visits ----
  if (p === '/visits' && m === 'GET') {
    const hid = q('household_id')
    const all = visits.filter((v) => { const h = households.get(v.household_id); return h && vis(h.area_id) && (!hid || v.household_id === hid) })
      .sort((a, b) => b.visited_on.localeCompare(a.visited_on) || b.created_at.localeCompare(a.created_at)).map(visitOut)
    return ok(200, paged(url, all))
  }
  if (p === '/visits' && m === 'POST') {
    const h = households.get(body.household_id)
    const f = {}
    if (!h || !inScope(me, h.area_id)) f.household_id = L('请选择户', 'Choose a household')
    if (!body.visited_on || !/^\d{4}-\d{2}-\d{2}$/.test(body.visited_on)) f.visited_on = L('日期格式应为 YYYY-MM-DD', 'Use a date as YYYY-MM-DD')
    else if (body.visited_on > today()) f.visited_on = L('走访日期不能晚于今天', 'The visit date cannot be in the future')
    if (!body.visitors || !String(body.visitors).trim()) f.visitors = L('不能为空', 'Required')
    if (!codeOf('visit_mode', body.mode || '')) f.mode = L('走访方式应为：入户、电话、线上', 'Mode must be one of: in_person, phone, online')
    ;(body.needs || []).forEach((n, i) => {
      if (!codeOf('need_category', n.category || '')) f[`needs[${i}].category`] = L('请选择类别', 'Choose a category')
      if (!n.description || !String(n.description).trim()) f[`needs[${i}].description`] = L('请描述需求', 'Describe the need')
    })
    if (Object.keys(f).length) return bad(f)
    const v = { id: randomUUID(), household_id: h.id, visited_on: body.visited_on, visitors: body.visitors, mode: codeOf('visit_mode', body.mode), lat: body.lat ?? null, lon: body.lon ?? null, notes: body.notes || null, created_at: now() }
    visits.push(v)
    for (const n of body.needs || []) {
      const urgency = codeOf('urgency', n.urgency || 'low') || 'low'
      const x = { id: randomUUID(), household_id: h.id, visit_id: v.id, category: codeOf('need_category', n.category), urgency, description: n.description, owner_user_id: me.id, owner_name: me.display_name, status: 'open', due_on: n.due_on || addDays(today(), urgency === 'high' ? 3 : urgency === 'medium' ? 7 : 15), result: null, version: 1, created_at: now() }
      needs.set(x.id, x)
    }
    log(req, me, 'visit.create', 'visit', v.id)
    return ok(201, visitOut(v))
  }

  // ---- needs ----
  if (p === '/needs' && m === 'GET') {
    const st = q('status'), cat = q('category'), od = q('overdue') === 'true', hid = q('household_id')
    const all = [...needs.values()].filter((n) => { const h = households.get(n.household_id); return h && vis(h.area_id) }).map(needOut)
      .filter((n) => (!st || n.status === st) && (!cat || n.category === cat) && (!od || n.overdue) && (!hid || n.household_id === hid))
      .sort((a, b) => (a.status === 'closed') - (b.status === 'closed') || a.due_on.localeCompare(b.due_on))
    return ok(200, paged(url, all))
  }
  if ((mm = p.match(/^\/needs\/([^/]+)$/))) {
    const n = needs.get(mm[1])
    if (!n || !inScope(me, households.get(n.household_id).area_id)) return nf()
    if (m === 'GET') return ok(200, needOut(n))
    if (m === 'PATCH') {
      if (body.version !== n.version) return conflict()
      if (body.status && !['open', 'in_progress', 'closed'].includes(body.status)) return bad({ status: L('状态无效', 'Invalid status') })
      if (body.status === 'closed' && !(body.result || n.result)) return bad({ result: L('办结时请填写处理结果', 'Give the result when closing') })
      for (const k of ['status', 'owner_user_id', 'due_on', 'result']) if (k in body) n[k] = body[k]
      if (body.status && body.status !== 'open' && !n.owner_name) { n.owner_user_id = me.id; n.owner_name = me.display_name }
      n.version++
      return ok(200, needOut(n))
    }
  }

  // ---- legal entities ----
  if (p === '/legal-entities' && m === 'GET') {
    const s = q('q')
    const all = [...entities.values()].filter((e) => vis(e.area_id) && (!s || e.name.includes(s) || e.uscc === s.toUpperCase())).map(entityOut)
    return ok(200, paged(url, all))
  }
  if (p === '/legal-entities' && m === 'POST') {
    const f = {}
    if (!body.name) f.name = L('不能为空', 'Required')
    const uscc = String(body.uscc || '').toUpperCase()
    if (!validUscc(uscc)) f.uscc = L('统一社会信用代码校验位不正确', 'The USCC check character is wrong')
    if (!body.area_id) f.area_id = L('请选择区域', 'Choose an area')
    if (body.contact_mobile && !/^1[3-9]\d{9}$/.test(body.contact_mobile)) f.contact_mobile = L('手机号码应为 11 位数字', 'A mobile number has 11 digits')
    if (!codeOf('entity_kind', body.kind || '')) f.kind = L('请选择类型', 'Choose a type')
    if (Object.keys(f).length) return bad(f)
    if (!inScope(me, body.area_id)) return nf()
    if ([...entities.values()].some((e) => e.uscc === uscc)) return (err(res, req, 409, 'conflict', '该统一社会信用代码已登记', 'This USCC is already registered', { uscc: L('已登记', 'Already registered') }), true)
    const e = { id: randomUUID(), name: body.name, uscc, kind: codeOf('entity_kind', body.kind), area_id: body.area_id, dwelling_id: body.dwelling_id || null, contact_name: body.contact_name || null, contact_mobile: body.contact_mobile || null, version: 1, created_at: now() }
    entities.set(e.id, e)
    return ok(201, entityOut(e))
  }
  if ((mm = p.match(/^\/legal-entities\/([^/]+)$/))) {
    const e = entities.get(mm[1])
    if (!e || !inScope(me, e.area_id)) return nf()
    return ok(200, entityOut(e))
  }
  return nf()
}
