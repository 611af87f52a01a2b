import { createRouter, createWebHistory } from 'vue-router'
import { auth } from '../stores/auth'
import { isPhoneOnly } from '../utils/phoneRoles'
import MainLayout from '../layouts/MainLayout.vue'
import LoginView from '../views/LoginView.vue'
import { markRaw } from 'vue'
import {
  HomeFilled, MapLocation, Flag, User, Key, Document, Reading, DataAnalysis, Avatar, House, OfficeBuilding,
  Guide, Notebook, Bell, Suitcase, Upload, Share, FolderOpened,
  Promotion, Stamp, EditPen, Location, TrendCharts, Collection, Management, Calendar, Camera,
  UserFilled, Tickets, Odometer, Memo, Trophy, DocumentChecked, Postcard, Finished, Medal, School, Wallet, SetUp, ShoppingCart, Sunny,
  Message, ChatLineSquare, Connection, Notification, MessageBox, DocumentAdd, Checked, ChatDotRound, ChatLineRound,
} from '@element-plus/icons-vue'

// Who sees a page is decided by the permissions the server gives the user (GET /me `permissions`,
// docs/api.md “Roles and permissions”): meta.perms lists them (any of). meta.roles stays for the pages
// that are about a role (a volunteer's own page, a department handler's desk, a work unit's portal…).
// A page with both is open to either.

// 一户一档: reading needs read_registry; the pages that write (import, visit form) edit_registry.
const reg = (path, name, view, title, icon, extra = {}) => ({
  path, name, component: view, meta: { title, icon: icon && markRaw(icon), menu: !!icon, group: 'registry', perms: ['read_registry'], ...extra },
})

// 接诉即办 (docs/cases.md): dispatch + management for dispatchers (dispatch_cases), the handler workbench
// for unit members (the department_handler role) and dispatchers, dashboard + map for readers
// (read_cases); 我的诉求 (resident phone page) for every signed-in user.
const cases = (path, name, view, title, icon, perms, extra = {}) => ({
  path, name, component: view, meta: { title, icon: icon && markRaw(icon), menu: !!icon, group: 'cases', perms, ...extra },
})
const CASE_ROUTES = [
  cases('cases/dispatch', 'cases-dispatch', () => import('../views/cases/DispatchView.vue'), 'cases.menu.dispatch', Promotion, ['dispatch_cases'], { testid: 'menu-cases-dispatch' }),
  cases('cases/handle', 'cases-handle', () => import('../views/cases/HandleView.vue'), 'cases.menu.handle', Stamp, ['dispatch_cases'], { testid: 'menu-cases-handle', roles: ['department_handler'] }),
  // a grid worker reports what they see on patrol (a phone flow of the role)
  cases('cases/new', 'case-new', () => import('../views/cases/CaseNewView.vue'), 'cases.menu.new', EditPen, ['dispatch_cases'], { testid: 'menu-cases-new', roles: ['grid_worker'] }),
  cases('cases/map', 'cases-map', () => import('../views/cases/CaseMapView.vue'), 'cases.menu.map', Location, ['read_cases'], { testid: 'menu-cases-map' }),
  cases('cases/stats', 'cases-stats', () => import('../views/cases/CaseStatsView.vue'), 'cases.menu.stats', TrendCharts, ['read_cases'], { testid: 'menu-cases-stats' }),
  cases('cases/:id', 'case-detail', () => import('../views/cases/CaseDetailView.vue'), 'cases.menu.detail', null, ['read_cases', 'dispatch_cases'], { activeMenu: ['/cases/dispatch', '/cases/handle', '/cases/map'], roles: ['department_handler'] }),
  // the dictionary, units and calendar: read by dispatchers, edited with their own permissions
  cases('case-categories', 'case-categories', () => import('../views/cases/CategoriesView.vue'), 'cases.menu.categories', Collection, ['dispatch_cases', 'manage_case_dictionary'], { testid: 'menu-case-categories' }),
  cases('case-units', 'case-units', () => import('../views/cases/UnitsView.vue'), 'cases.menu.units', Management, ['dispatch_cases', 'manage_case_units'], { testid: 'menu-case-units' }),
  cases('calendar', 'calendar', () => import('../views/cases/CalendarView.vue'), 'cases.menu.calendar', Calendar, ['dispatch_cases', 'manage_case_dictionary'], { testid: 'menu-calendar' }),
  // open to everyone by URL; in the menu for residents (meta.menuRoles) and the other phone-only users (meta.phoneMenu)
  cases('my/cases', 'my-cases', () => import('../views/cases/MyCasesView.vue'), 'cases.menu.my', Camera, undefined, { testid: 'menu-my-cases', menuRoles: ['resident'], phoneMenu: ['grid_worker', 'building_leader'] }),
]

// 党员下沉、志愿服务、积分 (docs/party-volunteers.md): three menu groups (志愿服务, 党建, 积分) for the holders
// of read_service; 单位门户 for work-unit contacts (and staff, who pick a unit); 我的志愿服务 (phone) for volunteers.
const svc = (group) => (path, name, view, title, icon, perms, extra = {}) => ({
  path, name, component: view, meta: { title, icon: icon && markRaw(icon), menu: !!icon, group, perms, ...extra },
})
const SVC = ['read_service']
const vs = svc('service')
const ps = svc('party')
const pts = svc('points')
const SERVICE_ROUTES = [
  vs('service/volunteers', 'svc-volunteers', () => import('../views/service/VolunteersView.vue'), 'svc.menu.volunteers', UserFilled, SVC, { testid: 'menu-volunteers' }),
  vs('service/activities', 'svc-activities', () => import('../views/service/ActivitiesView.vue'), 'svc.menu.activities', Tickets, SVC, { testid: 'menu-activities' }),
  vs('service/activities/:id', 'svc-activity', () => import('../views/service/ActivityDetailView.vue'), 'svc.menu.activity', null, SVC, { activeMenu: ['/service/activities'] }),
  vs('service/load', 'svc-load', () => import('../views/service/LoadView.vue'), 'svc.menu.load', Odometer, SVC, { testid: 'menu-load' }),
  vs('service/commendations', 'svc-commendations', () => import('../views/service/CommendationsView.vue'), 'svc.menu.commendations', Trophy, SVC, { testid: 'menu-commendations' }),
  vs('service/certificates', 'svc-certificates', () => import('../views/service/CertificatesView.vue'), 'svc.menu.certificates', DocumentChecked, SVC, { testid: 'menu-certificates' }),
  // a volunteer prints their own certificate too
  vs('service/certificates/:id/print', 'svc-certificate-print', () => import('../views/service/CertificatePrintView.vue'), 'svc.menu.certificate', null, SVC, { activeMenu: ['/service/certificates', '/m/volunteer'], roles: ['volunteer'] }),
  ps('party/members', 'svc-members', () => import('../views/service/PartyMembersView.vue'), 'svc.menu.members', Postcard, SVC, { testid: 'menu-party-members' }),
  ps('party/report-ins', 'svc-report-ins', () => import('../views/service/ReportInsView.vue'), 'svc.menu.reportIns', Finished, SVC, { testid: 'menu-report-ins' }),
  ps('party/ratings', 'svc-ratings', () => import('../views/service/RatingsView.vue'), 'svc.menu.ratings', Medal, SVC, { testid: 'menu-ratings' }),
  // a unit's contact sees their unit; those who keep the party organisations (admins, party secretaries) pick one
  ps('work-unit', 'svc-work-unit', () => import('../views/service/WorkUnitView.vue'), 'svc.menu.workUnit', School, ['edit_party_orgs'], { testid: 'menu-work-unit', roles: ['work_unit_contact'] }),
  pts('points/accounts', 'svc-accounts', () => import('../views/service/PointsAccountsView.vue'), 'svc.menu.accounts', Wallet, SVC, { testid: 'menu-points-accounts' }),
  pts('points/rules', 'svc-rules', () => import('../views/service/PointRulesView.vue'), 'svc.menu.rules', SetUp, SVC, { testid: 'menu-points-rules' }),
  pts('points/catalog', 'svc-catalog', () => import('../views/service/CatalogView.vue'), 'svc.menu.catalog', ShoppingCart, SVC, { testid: 'menu-catalog' }),
  // the volunteer's phone pages
  { path: 'm/volunteer', name: 'my-volunteer', component: () => import('../views/service/MyVolunteerView.vue'), meta: { title: 'svc.menu.myVolunteer', icon: markRaw(Sunny), menu: true, roles: ['volunteer'], testid: 'menu-my-volunteer' } },
  { path: 'm/checkin', name: 'my-checkin', component: () => import('../views/service/CheckinView.vue'), meta: { title: 'svc.menu.checkin', roles: ['volunteer'], activeMenu: ['/m/volunteer'] } },
]

// 共享数据: the roles that see resident data only through sharing rules (docs/api.md “Sharing”).
export const SHARED_ROLES = ['department_handler', 'work_unit_contact', 'party_secretary', 'volunteer']

// meta.perms / meta.roles: the menu item and the route are only for holders of one of these permissions
// or roles (either list matches; neither: every signed-in user).
// meta.menu: shown in the side menu (order = array order); meta.menuRoles: the menu item only for these roles;
// meta.activeMenu: menu paths to highlight on a page outside the menu (the first one the user has).
// meta.notForPhone: a general admin page kept out of the menu of phone-only users (utils/phoneRoles.js);
// meta.phoneMenu: roles whose phone-only users have it in their menu although meta.menuRoles leaves them out.
// meta.noGrantsMenu: in the menu of users with no role at all (a resident who signed up by themselves).
export const appRoutes = [
  { path: '', name: 'home', component: () => import('../views/HomeView.vue'), meta: { title: 'menu.home', icon: markRaw(HomeFilled), menu: true } },
  // 消息 (the in-app inbox, GET /me/messages): every signed-in user, phone-only users included (their drawer menu and
  // the phone home's 全部功能); the header bell opens it too
  { path: 'messages', name: 'messages', component: () => import('../views/MessagesView.vue'), meta: { title: 'menu.messages', icon: markRaw(Message), menu: true, testid: 'menu-messages' } },
  // 通知公告 (docs/notices-api-draft.md): senders (send_notices) and readers of the area's registry (grid workers,
  // building heads follow their grid's receipts and the door-to-door list); 我的通知 (phone) for every signed-in user
  { path: 'notices', name: 'notices', component: () => import('../views/notices/NoticesView.vue'), meta: { title: 'notice.menu', icon: markRaw(Notification), menu: true, perms: ['send_notices', 'read_registry'], testid: 'menu-notices' } },
  { path: 'notices/:id', name: 'notice', component: () => import('../views/notices/NoticeDetailView.vue'), meta: { title: 'notice.menu', perms: ['send_notices', 'read_registry'], activeMenu: ['/notices'] } },
  { path: 'm/notices', name: 'my-notices', component: () => import('../views/notices/MyNoticesView.vue'), meta: { title: 'notice.menuMy', icon: markRaw(MessageBox), menu: true, testid: 'menu-my-notices' } },
  // 认领住户信息 (phone): open to everyone by URL; in the menu of residents and of users with no role yet (a resident
  // who signed up, GET /me `person_linked` false: their home shows a card leading here)
  { path: 'm/claim', name: 'my-claim', component: () => import('../views/signup/ClaimView.vue'), meta: { title: 'claim.menu', icon: markRaw(DocumentAdd), menu: true, menuRoles: ['resident'], noGrantsMenu: true, testid: 'menu-my-claim' } },
  { path: 'm/notices/:id', name: 'my-notice', component: () => import('../views/notices/MyNoticeView.vue'), meta: { title: 'notice.menuMy', activeMenu: ['/m/notices'] } },
  // 回应关切 (docs/questions-api-draft.md): the holders of answer_questions (community workers and above) and the
  // departments' handlers (the questions routed to their unit) answer residents' questions and publish the answers;
  // 我的提问 (phone): open to everyone by URL (the public page's 我要提问 leads to /m/questions/new?c=<code>), in the menu
  // of residents and of users with no role yet
  { path: 'questions', name: 'questions', component: () => import('../views/questions/QuestionsView.vue'), meta: { title: 'question.menu', icon: markRaw(ChatDotRound), menu: true, perms: ['answer_questions'], roles: ['department_handler'], testid: 'menu-questions' } },
  { path: 'questions/:id', name: 'question', component: () => import('../views/questions/QuestionDetailView.vue'), meta: { title: 'question.menu', perms: ['answer_questions'], roles: ['department_handler'], activeMenu: ['/questions'] } },
  { path: 'm/questions', name: 'my-questions', component: () => import('../views/questions/MyQuestionsView.vue'), meta: { title: 'question.menuMy', icon: markRaw(ChatLineRound), menu: true, menuRoles: ['resident'], noGrantsMenu: true, testid: 'menu-my-questions' } },
  { path: 'm/questions/new', name: 'ask-question', component: () => import('../views/questions/AskView.vue'), meta: { title: 'question.askTitle', activeMenu: ['/m/questions'] } },
  { path: 'm/questions/:id', name: 'my-question', component: () => import('../views/questions/MyQuestionView.vue'), meta: { title: 'question.menuMy', activeMenu: ['/m/questions'] } },
  reg('registry', 'registry', () => import('../views/registry/RegistryHomeView.vue'), 'menu.registry', DataAnalysis, { testid: 'menu-registry' }),
  reg('persons', 'persons', () => import('../views/registry/PersonsView.vue'), 'menu.persons', Avatar, { testid: 'menu-persons' }),
  reg('registry/import', 'registry-import', () => import('../views/registry/ImportView.vue'), 'menu.importPersons', Upload, { testid: 'menu-import', perms: ['edit_registry'] }),
  reg('persons/:id', 'person', () => import('../views/registry/PersonDetailView.vue'), 'menu.persons'),
  reg('households', 'households', () => import('../views/registry/HouseholdsView.vue'), 'menu.households', House, { testid: 'menu-households' }),
  reg('households/:id', 'household-file', () => import('../views/registry/HouseholdFileView.vue'), 'reg.households.file'),
  reg('dwellings', 'dwellings', () => import('../views/registry/DwellingsView.vue'), 'menu.dwellings', OfficeBuilding, { testid: 'menu-dwellings' }),
  reg('visit', 'visit', () => import('../views/registry/VisitView.vue'), 'menu.visit', Guide, { testid: 'menu-visit', perms: ['edit_registry'] }),
  reg('visits', 'visits', () => import('../views/registry/VisitsView.vue'), 'menu.visits', Notebook, { testid: 'menu-visits' }),
  reg('needs', 'needs', () => import('../views/registry/NeedsView.vue'), 'menu.needs', Bell, { testid: 'menu-needs' }),
  reg('legal-entities', 'legal-entities', () => import('../views/registry/EntitiesView.vue'), 'menu.entities', Suitcase, { testid: 'menu-entities' }),
  // 渠道台账: the communities' channels to residents and the rules that flag dead ones (retire / merge: edit_areas)
  reg('registry/channels', 'channels', () => import('../views/registry/ChannelsView.vue'), 'reg.channels.menu', Connection, { testid: 'menu-channels' }),
  // 住户认领审核: the residents' claims of their registry record (signed up by themselves) that matched a person of the area
  reg('registry/claims', 'resident-claims', () => import('../views/registry/ClaimsView.vue'), 'claims.menu', Checked, { testid: 'menu-resident-claims', perms: ['edit_registry'] }),
  ...CASE_ROUTES,
  ...SERVICE_ROUTES,
  // 区域: those who keep the areas (edit_areas) and those whose work is the areas' registry (read_registry: the
  // community's staff, grid workers, building heads); not the departments' handlers nor the work units' contacts
  { path: 'areas', name: 'areas', component: () => import('../views/AreasView.vue'), meta: { title: 'menu.areas', icon: markRaw(MapLocation), menu: true, perms: ['edit_areas', 'read_registry'], notForPhone: true, testid: 'menu-areas' } },
  // 党组织: those who keep the organisations (edit_party_orgs: admins, party secretaries) and the readers of party
  // members and service (read_service: community workers)
  { path: 'party-orgs', name: 'party-orgs', component: () => import('../views/PartyOrgsView.vue'), meta: { title: 'menu.partyOrgs', icon: markRaw(Flag), menu: true, perms: ['edit_party_orgs', 'read_service'], notForPhone: true, testid: 'menu-party-orgs' } },
  { path: 'users', name: 'users', component: () => import('../views/UsersView.vue'), meta: { title: 'menu.users', icon: markRaw(User), menu: true, perms: ['manage_users'], testid: 'menu-users' } },
  // 角色说明: what each role may do (GET /roles), for every staff user: anyone holding a permission, and the
  // departments' and units' people (residents and volunteers have their own phone pages)
  { path: 'roles', name: 'roles', component: () => import('../views/RolesView.vue'), meta: { title: 'menu.roles', icon: markRaw(Memo), menu: true, perms: ['*'], roles: ['department_handler', 'work_unit_contact'], notForPhone: true, testid: 'menu-roles' } },
  // API tokens and sharing rules are the system admin's (system-wide; the server's manage_system)
  { path: 'tokens', name: 'tokens', component: () => import('../views/TokensView.vue'), meta: { title: 'menu.tokens', icon: markRaw(Key), menu: true, roles: ['system_admin'], testid: 'menu-tokens' } },
  { path: 'sharing', name: 'sharing', component: () => import('../views/SharingView.vue'), meta: { title: 'menu.sharing', icon: markRaw(Share), menu: true, roles: ['system_admin'], testid: 'menu-sharing' } },
  // the wording of the messages the system sends (the server's manage_system)
  { path: 'system/message-templates', name: 'message-templates', component: () => import('../views/MessageTemplatesView.vue'), meta: { title: 'menu.messageTemplates', icon: markRaw(ChatLineSquare), menu: true, perms: ['manage_system'], notForPhone: true, testid: 'menu-message-templates' } },
  { path: 'shared', name: 'shared', component: () => import('../views/SharedView.vue'), meta: { title: 'menu.shared', icon: markRaw(FolderOpened), menu: true, roles: SHARED_ROLES, notForPhone: true, testid: 'menu-shared' } },
  { path: 'audit', name: 'audit', component: () => import('../views/AuditView.vue'), meta: { title: 'menu.audit', icon: markRaw(Document), menu: true, perms: ['read_audit'], testid: 'menu-audit' } },
  { path: 'api-docs', name: 'api-docs', component: () => import('../views/ApiDocsView.vue'), meta: { title: 'menu.apiDocs', icon: markRaw(Reading), menu: true, notForPhone: true, testid: 'menu-api-docs' } },
  { path: 'me/password', name: 'my-password', component: () => import('../views/ChangePasswordView.vue'), meta: { title: 'password.title' } },
]

const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    { path: '/login', name: 'login', component: LoginView, meta: { public: true, title: 'login.title' } },
    // 居民注册: public, no sign-in (a mobile number and an SMS code)
    { path: '/signup', name: 'signup', component: () => import('../views/signup/SignupView.vue'), meta: { public: true, title: 'signup.title' } },
    {
      path: '/change-password',
      name: 'change-password',
      component: () => import('../views/ChangePasswordView.vue'),
      meta: { forced: true, title: 'password.forcedTitle' },
    },
    { path: '/', component: MainLayout, children: appRoutes },
    // the full-screen check-in QR (no menu / header), shown on a screen or projector by the organiser
    { path: '/service/activities/:id/qr', name: 'svc-activity-qr', component: () => import('../views/service/ActivityQrView.vue'), meta: { title: 'svc.menu.qr', perms: ['manage_service'] } },
    // 志愿服务证明查验: public, no sign-in
    { path: '/verify', name: 'verify', component: () => import('../views/service/VerifyView.vue'), meta: { public: true, title: 'svc.verify.title' } },
    { path: '/verify/:number', name: 'verify-number', component: () => import('../views/service/VerifyView.vue'), meta: { public: true, title: 'svc.verify.title' } },
    // 回访评价: the resident's rating link (GET/POST /public/rate/{token}), public, no sign-in
    { path: '/rate/:token', name: 'rate', component: () => import('../views/cases/RateView.vue'), meta: { public: true, title: 'cases.ratePage.title' } },
    { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('../views/NotFoundView.vue'), meta: { public: true } },
  ],
  scrollBehavior: () => ({ top: 0 }),
})

export function canSee(route) {
  const { roles, perms } = route.meta || {}
  if (!roles && !perms) return true
  return (!!roles && auth.hasRole(...roles)) || (!!perms && auth.can(...perms))
}
/** Shown in the side menu (and on the home page) for the signed-in user. */
export function inMenu(route) {
  const only = route.meta?.menuRoles
  if (!route.meta?.menu || !canSee(route)) return false
  const phone = isPhoneOnly()
  if (phone && route.meta.notForPhone) return false
  return !only || auth.hasRole(...only) || (phone && !!route.meta.phoneMenu && auth.hasRole(...route.meta.phoneMenu)) ||
    (!!route.meta.noGrantsMenu && auth.roles.value.size === 0)
}

router.beforeEach(async (to) => {
  if (to.meta.public) {
    // A signed-in user opening /login goes straight in.
    if (to.name === 'login' && auth.me && auth.state.checked && !auth.me.must_change_password) return { path: '/' }
    return true
  }
  if (!auth.state.checked || !auth.me) await auth.load()
  if (!auth.me) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  if (auth.me.must_change_password && to.name !== 'change-password') return { name: 'change-password' }
  if (!canSee(to)) return { path: '/' }
  return true
})

export default router
