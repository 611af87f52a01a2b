// Signed-in user state (a tiny reactive store; no Pinia needed yet).
import { reactive, computed } from 'vue'
import { authApi } from '../api'
import { setToken } from '../api/http'

const state = reactive({
  me: null, // Me from GET /api/v1/me
  checked: false, // we asked the server at least once
})

export const ADMIN_ROLES = ['system_admin', 'street_admin']

const roles = computed(() => {
  const set = new Set()
  for (const g of state.me?.grants || []) set.add(g.role)
  return set
})

export const auth = {
  state,
  roles,
  get me() {
    return state.me
  },
  hasRole(...names) {
    return names.some((n) => roles.value.has(n))
  },
  /** Ask the server who we are; returns Me or null (never throws on 401). */
  async load() {
    try {
      state.me = await authApi.me({ silent: true, noRedirect: true })
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
    state.checked = true
  },
}
