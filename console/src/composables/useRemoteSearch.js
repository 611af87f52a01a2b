// The search behind a remote picker (RemoteSelect, AreaSelect): `search(text)` asks `fetch(text)`
// for the options; only the latest question's answer counts (a late answer to an older one is
// dropped), and a failed one leaves no options. `show(items)` puts items up without asking (and
// drops any answer still on its way).
import { ref } from 'vue'

export function useRemoteSearch(fetch) {
  const options = ref([])
  const loading = ref(false)
  let seq = 0
  function show(items) {
    seq++
    options.value = items
  }
  async function search(text) {
    const my = ++seq
    loading.value = true
    try {
      const items = await fetch(text)
      if (my === seq) options.value = items
    } catch {
      if (my === seq) options.value = []
    } finally {
      if (my === seq) loading.value = false
    }
  }
  return { options, loading, search, show }
}
