// What the two case desks (调度 DispatchView, 承办 HandleView) do alike around their queue list:
// reloadAll() asks for the list and the tab counters (on opening too), the counters stay fresh every
// minute while the page is in view, and act(action, row) opens the action dialog (dlg) on a case.
import { reactive, onMounted, onBeforeUnmount } from 'vue'

export function useCaseDesk(load, loadCounts) {
  function reloadAll() {
    load()
    loadCounts()
  }
  onMounted(reloadAll)
  const timer = setInterval(() => document.visibilityState === 'visible' && loadCounts(), 60_000)
  onBeforeUnmount(() => clearInterval(timer))

  const dlg = reactive({ open: false, action: '', row: null })
  const act = (action, row) => Object.assign(dlg, { open: true, action, row })
  return { reloadAll, dlg, act }
}
