// Roles and permissions of the mock: a copy of the server's table (crates/gongzhi/src/domain/role.rs),
// for GET /me `permissions` and GET /roles.

export const ROLE_INFO = {
  system_admin: { zh: '系统管理员', en: 'System administrator', rank: 100, kinds: [],
    s: ['管理整个系统：根区域、接口令牌、数据共享规则、分类字典和工作日历，以及所有用户。', 'Runs the whole system: root areas, API tokens, sharing rules, the category dictionary and calendar, and every user.'] },
  district_admin: { zh: '区级管理员', en: 'District administrator', rank: 80, kinds: ['district'],
    s: ['区级（区委社会工作部、区政务服务中心等）：跨本区各街道查看和调度，管理本区用户。', "The district: sees and acts across its streets and manages the district's users."] },
  hotline_centre: { zh: '12345热线中心', en: '12345 hotline centre', rank: 70, kinds: ['city', 'district'],
    s: ['12345 热线中心：导入热线工单、派往各街道、回传办理结果。', 'The 12345 hotline centre: imports hotline tickets, dispatches them to the streets, takes the results back.'] },
  street_admin: { zh: '街道管理员', en: 'Street administrator', rank: 60, kinds: ['street'],
    s: ['街道办：管理本街道的区域、人员账号、人口房屋、接诉即办和志愿服务。', 'The street office: manages its areas, user accounts, registry, cases and volunteer service.'] },
  community_admin: { zh: '社区管理员', en: 'Community administrator', rank: 40, kinds: ['community'],
    s: ['社区书记/主任：社区工作者的全部权限，并管理本社区的账号、查看审计日志。', "The community's head: everything a community worker may do, plus the community's accounts and audit log."] },
  community_worker: { zh: '社区工作者', en: 'Community worker', rank: 20, kinds: ['community'],
    s: ['社区工作者：维护一户一档、受理和派遣诉求、组织志愿服务。', 'Keeps the household files, takes and dispatches cases, runs volunteer service.'] },
  party_secretary: { zh: '党组织书记', en: 'Party secretary', rank: 20, kinds: ['street', 'community'],
    s: ['党组织书记：管理党组织、党员报到和志愿服务，查看诉求办理。', "Runs the party organisation, members' report-in and service; reads cases."] },
  grid_worker: { zh: '网格员', en: 'Grid worker', rank: 20, kinds: ['grid'],
    s: ['网格员：走访入户、核实信息、随手拍上报，在手机上完成。', 'Visits households, verifies records and reports what they see, on a phone.'] },
  building_leader: { zh: '楼长', en: 'Building head', rank: 10, kinds: ['building'],
    s: ['楼长：维护本楼住户信息、协助走访。', "Keeps the building's households up to date and helps with visits."] },
  department_handler: { zh: '部门承办人', en: 'Department handler', rank: 20, kinds: ['district', 'street'],
    s: ['职能部门承办人：办理派给本单位的诉求并回复。', 'Handles the cases dispatched to the department and answers them.'] },
  work_unit_contact: { zh: '单位联系人', en: 'Work unit contact', rank: 10, kinds: ['street', 'community'],
    s: ['在职党员单位联系人：查看本单位党员到社区报到和服务情况。', "Follows the unit's members' report-in and service in the communities."] },
  volunteer: { zh: '志愿者', en: 'Volunteer', rank: 10, kinds: ['community', 'grid', 'building'],
    s: ['志愿者：报名活动、签到签退、查看时长和积分。', 'Signs up for activities, checks in and out, sees hours and points.'] },
  resident: { zh: '居民', en: 'Resident', rank: 10, kinds: ['community', 'grid', 'building'],
    s: ['居民：提交诉求和随手拍、查看办理进度并评价。', 'Submits requests and photos, follows them and rates the answer.'] },
}
// the server's order (Role::ALL), used after rank for ties
const ORDER = ['system_admin', 'street_admin', 'community_worker', 'grid_worker', 'building_leader', 'party_secretary', 'department_handler', 'work_unit_contact', 'volunteer', 'resident', 'district_admin', 'community_admin', 'hotline_centre']

const ADM = ['system_admin', 'district_admin', 'street_admin']
const REG = ['system_admin', 'district_admin', 'street_admin', 'community_admin', 'community_worker', 'grid_worker', 'building_leader']
const SVC = ['system_admin', 'district_admin', 'street_admin', 'community_admin', 'community_worker', 'party_secretary']
// [id, label zh, label en, what zh, what en, system-wide, roles]
export const PERMISSIONS = [
  ['manage_system', '系统设置', 'System settings', '建立省、市根区域，签发接口令牌，设定数据共享规则。', 'Create root areas, issue API tokens, set data-sharing rules.', true, ['system_admin']],
  ['manage_users', '账号管理', 'User accounts', '为本区域建账号、授予不高于自己的角色、重置密码、查看和结束会话。', "Create the area's accounts, grant roles up to one's own, reset passwords, see and end sessions.", false, [...ADM, 'community_admin']],
  ['read_audit', '审计日志', 'Audit log', '查看本区域内谁在何时查看或修改了什么。', 'See who read or changed what, and when, in the area.', false, [...ADM, 'community_admin']],
  ['sign_audit_checkpoints', '审计签名', 'Audit checkpoints', '对审计链签名存证，供事后核验。', 'Sign checkpoints of the audit chain for later verification.', true, ['system_admin']],
  ['edit_areas', '区域维护', 'Areas', '新建、修改、移动本区域下的街道、社区、网格和楼栋。', 'Create, edit and move the streets, communities, grids and buildings below.', false, ADM],
  ['edit_party_orgs', '党组织维护', 'Party organisations', '维护党组织及其覆盖的区域。', 'Keep the party organisations and the areas they cover.', false, [...ADM, 'party_secretary']],
  ['read_registry', '查看一户一档', 'Read the registry', '查看房屋、住户和人口信息（证件号、手机号默认脱敏）。', 'See dwellings, households and residents (ID numbers and mobiles masked).', false, REG],
  ['edit_registry', '维护一户一档', 'Edit the registry', '登记、修改、导入住户和人口，记录走访。', 'Register, change and import households and residents; record visits.', false, REG],
  ['reveal_personal', '查看完整个人信息', 'Reveal personal data', '说明理由后查看完整证件号和手机号，每次都记入审计。', 'See full ID numbers and mobiles after giving a reason; each time is audited.', false, REG.filter((r) => r !== 'building_leader')],
  ['purge_registry', '清除过期信息', 'Purge old records', '清除迁出超过保存期限的人员信息。', 'Remove people who moved away past the retention period.', true, ['system_admin']],
  ['read_cases', '查看诉求', 'Read cases', '查看本区域的诉求、地图和三率统计（诉求人脱敏）。', "See the area's cases, map and rates (requesters masked).", false, ['system_admin', 'district_admin', 'hotline_centre', 'street_admin', 'community_admin', 'community_worker', 'grid_worker', 'party_secretary']],
  ['dispatch_cases', '受理派遣诉求', 'Dispatch cases', '登记、派遣、核查、办结、督办诉求，导入导出 12345 工单。', 'Register, dispatch, verify, close and supervise cases; import and export 12345 tickets.', false, ['system_admin', 'district_admin', 'hotline_centre', 'street_admin', 'community_admin', 'community_worker']],
  ['arbitrate_cases', '仲裁与吹哨', 'Arbitrate and whistle', '裁定退回的诉求，吹哨召集部门。', 'Decide returned cases and blow the whistle to call departments in.', false, ADM],
  ['manage_case_units', '承办单位与职责清单', 'Handling units', '维护承办单位、人员和权责清单。', 'Keep the handling units, their members and power lists.', false, ADM],
  ['manage_case_dictionary', '分类字典与工作日历', 'Dictionary and calendar', '维护诉求分类、办理时限和工作日历。', 'Keep the case categories, time limits and working-day calendar.', true, ['system_admin']],
  ['read_service', '查看党员志愿服务', 'Read service', '查看志愿者、党员报到、活动、积分和评价。', "See volunteers, party members' report-in, activities, points and ratings.", false, SVC],
  ['send_notices', '发布通知公告', 'Send notices', '向本区域住户和工作人员发布通知，查看送达和回执情况，提醒未读、撤回。', "Send notices to the area's households and staff, follow delivery and receipts, remind, withdraw.", false, ['system_admin', 'district_admin', 'street_admin', 'community_admin', 'community_worker']],
  ['answer_questions', '回应居民关切', 'Answer questions', '答复居民提出的问题，将答复公开到社区公开页，关联重复提问。', "Answer residents' questions, publish answers on the community's public page, link repeated questions.", false, ['system_admin', 'district_admin', 'street_admin', 'community_admin', 'community_worker']],
  ['manage_service', '管理党员志愿服务', 'Manage service', '登记志愿者和党员、组织活动、确认时长、发放积分、评星表彰。', 'Register volunteers and members, run activities, confirm hours, post points, rate and commend.', false, SVC],
]

export const ROLES = Object.keys(ROLE_INFO).sort((a, b) => ROLE_INFO[b].rank - ROLE_INFO[a].rank || ORDER.indexOf(a) - ORDER.indexOf(b))
export const rankOf = (role) => ROLE_INFO[role]?.rank ?? 0
export const permsOfRole = (role) => PERMISSIONS.filter((p) => p[6].includes(role)).map((p) => p[0])
/** The permission ids a user holds somewhere (GET /me `permissions`). */
export function permissionsOf(user) {
  const set = new Set()
  for (const g of user?.grants || []) for (const p of permsOfRole(g.role)) set.add(p)
  return PERMISSIONS.map((p) => p[0]).filter((p) => set.has(p))
}
/** The highest rank among the user's grants that carry manage_users. */
export function managerRank(user) {
  return Math.max(0, ...(user?.grants || []).filter((g) => permsOfRole(g.role).includes('manage_users')).map((g) => rankOf(g.role)))
}
/** A role by its id or its Chinese / English name (for sheets). */
export function parseRole(s) {
  const v = String(s || '').trim()
  return ROLES.find((r) => r === v || ROLE_INFO[r].zh === v || ROLE_INFO[r].en.toLowerCase() === v.toLowerCase()) || null
}
/** GET /roles for `me`: every role, highest first, with `grantable` for the caller. */
export function roleTable(me) {
  const isAdmin = (me?.grants || []).some((g) => g.role === 'system_admin')
  const rank = managerRank(me)
  return ROLES.map((role) => {
    const r = ROLE_INFO[role]
    return {
      role, label_zh: r.zh, label_en: r.en, summary_zh: r.s[0], summary_en: r.s[1], rank: r.rank, area_kinds: r.kinds,
      grantable: isAdmin || (rank > 0 && r.rank <= rank && role !== 'system_admin'),
      permissions: PERMISSIONS.filter((p) => p[6].includes(role)).map(([permission, label_zh, label_en, description_zh, description_en, system_wide]) => ({
        permission, label_zh, label_en, description_zh, description_en, system_wide,
      })),
    }
  })
}
/**
 * The older mock checks (cases, service, registry) know the first ten roles: the new ones act as the
 * role they extend there (a district admin as a street admin, a community admin as a community worker,
 * the hotline centre as a dispatcher in 接诉即办).
 */
export function legacyRoles(me, domain = '') {
  const set = new Set((me?.grants || []).map((g) => g.role))
  if (set.has('district_admin')) set.add('street_admin')
  if (set.has('community_admin')) set.add('community_worker')
  if (set.has('hotline_centre') && domain === 'cases') set.add('community_worker')
  return set
}
