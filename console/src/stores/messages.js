// The unread count of the in-app inbox, shared by the header bell and the messages page (one source,
// so the badge and the page agree). `refresh()` asks the server; a read action's answer ({unread})
// goes in through `set()` and wins over a refresh that was already on its way.
import { reactive } from 'vue'
import { messageApi } from '../api/messages'

const state = reactive({ unread: 0, loaded: false })
let seq = 0

export const messages = {
  state,
  /** GET /me/messages/unread (silent: the bell never toasts or redirects); returns the count. */
  async refresh() {
    const my = ++seq
    try {
      const res = await messageApi.unread({ silent: true, noRedirect: true })
      const n = Math.max(0, Number(res?.unread) || 0)
      if (my === seq) {
        state.unread = n
        state.loaded = true
      }
      return n
    } catch {
      return state.unread // keep the last count
    }
  },
  /** The count a read action answered. */
  set(n) {
    seq++
    state.unread = Math.max(0, Number(n) || 0)
    state.loaded = true
  },
  clear() {
    seq++
    state.unread = 0
    state.loaded = false
  },
}
