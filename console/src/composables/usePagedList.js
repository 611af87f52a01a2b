// One paged list: the page (page.page, page.page_size), its rows and total, loading, load() and
// search() (back to page 1). fetch(paging) gets { page, page_size } and returns the API's answer
// (a page { items, total } or a plain array); only the answer to the latest load is shown.
//   onLoaded(p, res)  after a page came: p = { items, total }, res = the raw answer
//   clearOnError      empty the rows when the load fails (else they stay; the toast says why)
//   onError(e)        after the latest load failed
//   backPastEnd       a page past the end (its rows gone meanwhile): load the last page instead
//   immediate         load when the view is mounted (default)
import { ref, reactive, onMounted } from 'vue'
import { pageOf } from '../api'

export function usePagedList(fetch, { pageSize = 20, page = 1, onLoaded, onError, clearOnError = false, backPastEnd = false, immediate = true } = {}) {
  const paging = reactive({ page, page_size: pageSize })
  const rows = ref([])
  const total = ref(0)
  const loading = ref(false)
  let seq = 0
  async function load() {
    const my = ++seq
    loading.value = true
    try {
      const res = await fetch({ page: paging.page, page_size: paging.page_size })
      if (my !== seq) return
      const p = pageOf(res)
      rows.value = p.items
      total.value = p.total
      onLoaded?.(p, res)
      if (backPastEnd && !p.items.length && p.total && paging.page > 1) {
        paging.page = Math.max(1, Math.ceil(p.total / paging.page_size))
        return load()
      }
    } catch (e) {
      if (my !== seq) return
      if (clearOnError) rows.value = []
      onError?.(e)
    } finally {
      if (my === seq) loading.value = false
    }
  }
  function search() {
    paging.page = 1
    return load()
  }
  if (immediate) onMounted(load)
  return { page: paging, rows, total, loading, load, search }
}
