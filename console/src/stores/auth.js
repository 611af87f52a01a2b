// Signed-in user state (a tiny reactive store; no Pinia needed yet).
// What the user may do comes from the server: `me.permissions` (GET /me) gates menus and buttons
// (`auth.can('read_cases')`); `hasRole` stays for pages that are about a role (a volunteer's own
// page, a resident, a work unit's portal, a department handler's desk).
import { reactive, computed } from 'vue'
import { authApi, roleApi } from '../api'
import { setToken } from '../api/http'

const state = reactive({
  me: null, // Me from GET /api/v1/me
  checked: false, // we asked the server at least once
  roleInfo: null, // RoleInfo[] from GET /roles (loaded once after sign-in; the role page and area defaults use it)
})

const roles = computed(() => {
  const set = new Set()
  for (const g of state.me?.grants || []) set.add(g.role)
  return set
})
// A server without `permissions` in /me grants nothing here (the menus shrink to the role-only pages).
const permissions = computed(() => new Set(Array.isArray(state.me?.permissions) ? state.me.permissions : []))

let rolesLoading = null

export const auth = {
  state,
  roles,
  get me() {
    return state.me
  },
  hasRole(...names) {
    return names.some((n) => roles.value.has(n))
  },
  /** Holds any of these permissions somewhere (`'*'`: any permission at all, i.e. a staff user). */
  can(...names) {
    return names.some((n) => (n === '*' ? permissions.value.size > 0 : permissions.value.has(n)))
  },
  /** GET /roles once per sign-in (silent; [] when it fails). `force` asks again. */
  loadRoles(force = false) {
    if (!rolesLoading || force) {
      rolesLoading = roleApi
        .list({ silent: true, noRedirect: true })
        .then((res) => (state.roleInfo = Array.isArray(res) ? res : res?.items || []))
        .catch(() => {
          rolesLoading = null
          return []
        })
    }
    return rolesLoading
  },
  /**
   * My grants whose role carries `permission` (per GET /roles). Before the role table is loaded every
   * grant with an area counts, so an area default is never empty.
   */
  grantsWith(permission) {
    const gs = (state.me?.grants || []).filter((g) => g.area_id)
    const info = state.roleInfo
    if (!info?.length) return gs
    const ok = new Set(info.filter((r) => (r.permissions || []).some((p) => (p.permission || p) === permission)).map((r) => r.role))
    return gs.filter((g) => ok.has(g.role))
  },
  /** Ask the server who we are; returns Me or null (never throws on 401). */
  async load() {
    try {
      state.me = await authApi.me({ silent: true, noRedirect: true })
      if (state.me && !state.me.must_change_password) auth.loadRoles(true)
    } catch (e) {
      if (e.code === 'auth.password_change_required') {
        // The server refuses /me too while a change is required: keep what we know.
        state.me = state.me || { must_change_password: true, grants: [] }
        if (state.me) state.me.must_change_password = true
      } else {
        state.me = null
      }
    }
    state.checked = true
    return state.me
  },
  async login(username, password) {
    const res = await authApi.login(username, password)
    if (res?.token) setToken(res.token)
    state.me = res?.user || (await authApi.me({ silent: true }))
    // the login answer may carry the user without `permissions`: ask /me for the full picture
    if (state.me && !state.me.must_change_password && !Array.isArray(state.me.permissions)) {
      state.me = (await authApi.me({ silent: true }).catch(() => null)) || state.me
    }
    if (state.me && !state.me.must_change_password) auth.loadRoles(true)
    state.checked = true
    return state.me
  },
  async logout() {
    try {
      await authApi.logout()
    } catch {
      /* already signed out */
    }
    this.clear()
  },
  clear() {
    setToken(null)
    state.me = null
    state.roleInfo = null
    rolesLoading = null
    state.checked = true
  },
}
