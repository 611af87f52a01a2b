import { createRouter, createWebHistory } from 'vue-router'
import { auth } from '../stores/auth'
import MainLayout from '../layouts/MainLayout.vue'
import LoginView from '../views/LoginView.vue'
import { markRaw } from 'vue'
import {
  HomeFilled, MapLocation, Flag, User, Key, Document, Reading, DataAnalysis, Avatar, House, OfficeBuilding,
  Guide, Notebook, Bell, Suitcase, Upload, Share, FolderOpened,
  Promotion, Stamp, EditPen, Location, TrendCharts, Collection, Management, Calendar, Camera,
  UserFilled, Tickets, Odometer, Trophy, DocumentChecked, Postcard, Finished, Medal, School, Wallet, SetUp, ShoppingCart, Sunny,
} from '@element-plus/icons-vue'
import { DISPATCH_ROLES, HANDLE_ROLES, VIEW_ROLES, INTAKE_ROLES, CASE_READ_ROLES } from '../utils/cases'
import { SVC_ROLES, SVC_WRITE_ROLES, UNIT_PORTAL_ROLES } from '../views/service/common'

// 一户一档: read and edit for these roles (docs/api.md “Registry”).
const REG = ['system_admin', 'street_admin', 'community_worker', 'grid_worker', 'building_leader']
const reg = (path, name, view, title, icon, extra = {}) => ({
  path, name, component: view, meta: { title, icon: icon && markRaw(icon), menu: !!icon, group: 'registry', roles: REG, ...extra },
})

// 接诉即办 (docs/cases.md): dispatch + management for dispatchers, the handler workbench for unit members,
// dashboard + map for the watching roles; 我的诉求 (resident phone page) for every signed-in user.
const cases = (path, name, view, title, icon, roles, extra = {}) => ({
  path, name, component: view, meta: { title, icon: icon && markRaw(icon), menu: !!icon, group: 'cases', roles, ...extra },
})
const CASE_ROUTES = [
  cases('cases/dispatch', 'cases-dispatch', () => import('../views/cases/DispatchView.vue'), 'cases.menu.dispatch', Promotion, DISPATCH_ROLES, { testid: 'menu-cases-dispatch' }),
  cases('cases/handle', 'cases-handle', () => import('../views/cases/HandleView.vue'), 'cases.menu.handle', Stamp, HANDLE_ROLES, { testid: 'menu-cases-handle' }),
  cases('cases/new', 'case-new', () => import('../views/cases/CaseNewView.vue'), 'cases.menu.new', EditPen, INTAKE_ROLES, { testid: 'menu-cases-new' }),
  cases('cases/map', 'cases-map', () => import('../views/cases/CaseMapView.vue'), 'cases.menu.map', Location, VIEW_ROLES, { testid: 'menu-cases-map' }),
  cases('cases/stats', 'cases-stats', () => import('../views/cases/CaseStatsView.vue'), 'cases.menu.stats', TrendCharts, VIEW_ROLES, { testid: 'menu-cases-stats' }),
  cases('cases/:id', 'case-detail', () => import('../views/cases/CaseDetailView.vue'), 'cases.menu.detail', null, CASE_READ_ROLES, { activeMenu: ['/cases/dispatch', '/cases/handle', '/cases/map'] }),
  cases('case-categories', 'case-categories', () => import('../views/cases/CategoriesView.vue'), 'cases.menu.categories', Collection, DISPATCH_ROLES, { testid: 'menu-case-categories' }),
  cases('case-units', 'case-units', () => import('../views/cases/UnitsView.vue'), 'cases.menu.units', Management, DISPATCH_ROLES, { testid: 'menu-case-units' }),
  cases('calendar', 'calendar', () => import('../views/cases/CalendarView.vue'), 'cases.menu.calendar', Calendar, DISPATCH_ROLES, { testid: 'menu-calendar' }),
  // open to everyone by URL; in the menu for residents only (meta.menuRoles)
  cases('my/cases', 'my-cases', () => import('../views/cases/MyCasesView.vue'), 'cases.menu.my', Camera, undefined, { testid: 'menu-my-cases', menuRoles: ['resident'] }),
]

// 党员下沉、志愿服务、积分 (docs/party-volunteers.md): three menu groups (志愿服务, 党建, 积分) for the community
// and street roles (grid workers read); 单位门户 for work-unit contacts; 我的志愿服务 (phone) for volunteers.
const svc = (group) => (path, name, view, title, icon, roles, extra = {}) => ({
  path, name, component: view, meta: { title, icon: icon && markRaw(icon), menu: !!icon, group, roles, ...extra },
})
const vs = svc('service')
const ps = svc('party')
const pts = svc('points')
const SERVICE_ROUTES = [
  vs('service/volunteers', 'svc-volunteers', () => import('../views/service/VolunteersView.vue'), 'svc.menu.volunteers', UserFilled, SVC_ROLES, { testid: 'menu-volunteers' }),
  vs('service/activities', 'svc-activities', () => import('../views/service/ActivitiesView.vue'), 'svc.menu.activities', Tickets, SVC_ROLES, { testid: 'menu-activities' }),
  vs('service/activities/:id', 'svc-activity', () => import('../views/service/ActivityDetailView.vue'), 'svc.menu.activity', null, SVC_ROLES, { activeMenu: ['/service/activities'] }),
  vs('service/load', 'svc-load', () => import('../views/service/LoadView.vue'), 'svc.menu.load', Odometer, SVC_ROLES, { testid: 'menu-load' }),
  vs('service/commendations', 'svc-commendations', () => import('../views/service/CommendationsView.vue'), 'svc.menu.commendations', Trophy, SVC_ROLES, { testid: 'menu-commendations' }),
  vs('service/certificates', 'svc-certificates', () => import('../views/service/CertificatesView.vue'), 'svc.menu.certificates', DocumentChecked, SVC_ROLES, { testid: 'menu-certificates' }),
  // a volunteer prints their own certificate too
  vs('service/certificates/:id/print', 'svc-certificate-print', () => import('../views/service/CertificatePrintView.vue'), 'svc.menu.certificate', null, [...SVC_ROLES, 'volunteer'], { activeMenu: ['/service/certificates', '/m/volunteer'] }),
  ps('party/members', 'svc-members', () => import('../views/service/PartyMembersView.vue'), 'svc.menu.members', Postcard, SVC_ROLES, { testid: 'menu-party-members' }),
  ps('party/report-ins', 'svc-report-ins', () => import('../views/service/ReportInsView.vue'), 'svc.menu.reportIns', Finished, SVC_ROLES, { testid: 'menu-report-ins' }),
  ps('party/ratings', 'svc-ratings', () => import('../views/service/RatingsView.vue'), 'svc.menu.ratings', Medal, SVC_ROLES, { testid: 'menu-ratings' }),
  ps('work-unit', 'svc-work-unit', () => import('../views/service/WorkUnitView.vue'), 'svc.menu.workUnit', School, UNIT_PORTAL_ROLES, { testid: 'menu-work-unit' }),
  pts('points/accounts', 'svc-accounts', () => import('../views/service/PointsAccountsView.vue'), 'svc.menu.accounts', Wallet, SVC_ROLES, { testid: 'menu-points-accounts' }),
  pts('points/rules', 'svc-rules', () => import('../views/service/PointRulesView.vue'), 'svc.menu.rules', SetUp, SVC_ROLES, { testid: 'menu-points-rules' }),
  pts('points/catalog', 'svc-catalog', () => import('../views/service/CatalogView.vue'), 'svc.menu.catalog', ShoppingCart, SVC_ROLES, { testid: 'menu-catalog' }),
  // the volunteer's phone pages
  { path: 'm/volunteer', name: 'my-volunteer', component: () => import('../views/service/MyVolunteerView.vue'), meta: { title: 'svc.menu.myVolunteer', icon: markRaw(Sunny), menu: true, roles: ['volunteer'], testid: 'menu-my-volunteer' } },
  { path: 'm/checkin', name: 'my-checkin', component: () => import('../views/service/CheckinView.vue'), meta: { title: 'svc.menu.checkin', roles: ['volunteer'], activeMenu: ['/m/volunteer'] } },
]

// 共享数据: the roles that see resident data only through sharing rules (docs/api.md “Sharing”).
export const SHARED_ROLES = ['department_handler', 'work_unit_contact', 'party_secretary', 'volunteer']

// meta.roles: the menu item and the route are only for these roles.
// meta.menu: shown in the side menu (order = array order); meta.menuRoles: the menu item only for these roles;
// meta.activeMenu: menu paths to highlight on a page outside the menu (the first one the user has).
export const appRoutes = [
  { path: '', name: 'home', component: () => import('../views/HomeView.vue'), meta: { title: 'menu.home', icon: markRaw(HomeFilled), menu: true } },
  reg('registry', 'registry', () => import('../views/registry/RegistryHomeView.vue'), 'menu.registry', DataAnalysis, { testid: 'menu-registry' }),
  reg('persons', 'persons', () => import('../views/registry/PersonsView.vue'), 'menu.persons', Avatar, { testid: 'menu-persons' }),
  reg('registry/import', 'registry-import', () => import('../views/registry/ImportView.vue'), 'menu.importPersons', Upload, { testid: 'menu-import' }),
  reg('persons/:id', 'person', () => import('../views/registry/PersonDetailView.vue'), 'menu.persons'),
  reg('households', 'households', () => import('../views/registry/HouseholdsView.vue'), 'menu.households', House, { testid: 'menu-households' }),
  reg('households/:id', 'household-file', () => import('../views/registry/HouseholdFileView.vue'), 'reg.households.file'),
  reg('dwellings', 'dwellings', () => import('../views/registry/DwellingsView.vue'), 'menu.dwellings', OfficeBuilding, { testid: 'menu-dwellings' }),
  reg('visit', 'visit', () => import('../views/registry/VisitView.vue'), 'menu.visit', Guide, { testid: 'menu-visit' }),
  reg('visits', 'visits', () => import('../views/registry/VisitsView.vue'), 'menu.visits', Notebook, { testid: 'menu-visits' }),
  reg('needs', 'needs', () => import('../views/registry/NeedsView.vue'), 'menu.needs', Bell, { testid: 'menu-needs' }),
  reg('legal-entities', 'legal-entities', () => import('../views/registry/EntitiesView.vue'), 'menu.entities', Suitcase, { testid: 'menu-entities' }),
  ...CASE_ROUTES,
  ...SERVICE_ROUTES,
  { path: 'areas', name: 'areas', component: () => import('../views/AreasView.vue'), meta: { title: 'menu.areas', icon: markRaw(MapLocation), menu: true, testid: 'menu-areas' } },
  { path: 'party-orgs', name: 'party-orgs', component: () => import('../views/PartyOrgsView.vue'), meta: { title: 'menu.partyOrgs', icon: markRaw(Flag), menu: true, testid: 'menu-party-orgs' } },
  { path: 'users', name: 'users', component: () => import('../views/UsersView.vue'), meta: { title: 'menu.users', icon: markRaw(User), menu: true, roles: ['system_admin'], testid: 'menu-users' } },
  { path: 'tokens', name: 'tokens', component: () => import('../views/TokensView.vue'), meta: { title: 'menu.tokens', icon: markRaw(Key), menu: true, roles: ['system_admin'], testid: 'menu-tokens' } },
  { path: 'sharing', name: 'sharing', component: () => import('../views/SharingView.vue'), meta: { title: 'menu.sharing', icon: markRaw(Share), menu: true, roles: ['system_admin'], testid: 'menu-sharing' } },
  { path: 'shared', name: 'shared', component: () => import('../views/SharedView.vue'), meta: { title: 'menu.shared', icon: markRaw(FolderOpened), menu: true, roles: SHARED_ROLES, testid: 'menu-shared' } },
  { path: 'audit', name: 'audit', component: () => import('../views/AuditView.vue'), meta: { title: 'menu.audit', icon: markRaw(Document), menu: true, roles: ['system_admin', 'street_admin'], testid: 'menu-audit' } },
  { path: 'api-docs', name: 'api-docs', component: () => import('../views/ApiDocsView.vue'), meta: { title: 'menu.apiDocs', icon: markRaw(Reading), menu: true, testid: 'menu-api-docs' } },
  { path: 'me/password', name: 'my-password', component: () => import('../views/ChangePasswordView.vue'), meta: { title: 'password.title' } },
]

const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    { path: '/login', name: 'login', component: LoginView, meta: { public: true, title: 'login.title' } },
    {
      path: '/change-password',
      name: 'change-password',
      component: () => import('../views/ChangePasswordView.vue'),
      meta: { forced: true, title: 'password.forcedTitle' },
    },
    { path: '/', component: MainLayout, children: appRoutes },
    // the full-screen check-in QR (no menu / header), shown on a screen or projector by the organiser
    { path: '/service/activities/:id/qr', name: 'svc-activity-qr', component: () => import('../views/service/ActivityQrView.vue'), meta: { title: 'svc.menu.qr', roles: SVC_WRITE_ROLES } },
    // 志愿服务证明查验: public, no sign-in
    { path: '/verify', name: 'verify', component: () => import('../views/service/VerifyView.vue'), meta: { public: true, title: 'svc.verify.title' } },
    { path: '/verify/:number', name: 'verify-number', component: () => import('../views/service/VerifyView.vue'), meta: { public: true, title: 'svc.verify.title' } },
    { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('../views/NotFoundView.vue'), meta: { public: true } },
  ],
  scrollBehavior: () => ({ top: 0 }),
})

export function canSee(route) {
  const roles = route.meta?.roles
  return !roles || auth.hasRole(...roles)
}
/** Shown in the side menu (and on the home page) for the signed-in user. */
export function inMenu(route) {
  const only = route.meta?.menuRoles
  return !!route.meta?.menu && canSee(route) && (!only || auth.hasRole(...only))
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
