// One record a page shows (a notice, a question, mine or to handle): `record`, `loading` (true until
// the first answer), `notFound` (404 / 403: gone, or not mine to see), `failed` (the message of any
// other failure; `failedText()` when it has none); only the answer to the latest load counts.
// onLoaded(record, before): after each answer, with the record shown before it.
import { ref } from 'vue'

export function useRecord(fetch, { failedText, onLoaded } = {}) {
  const record = ref(null)
  const loading = ref(true)
  const notFound = ref(false)
  const failed = ref('')
  let seq = 0
  async function load() {
    const my = ++seq
    loading.value = true
    try {
      const r = await fetch()
      if (my !== seq) return
      const before = record.value
      record.value = r
      notFound.value = false
      failed.value = ''
      onLoaded?.(r, before)
    } catch (e) {
      if (my !== seq || e?.status === 401) return
      if (e?.status === 404 || e?.status === 403) notFound.value = true
      else failed.value = e?.message || failedText()
    } finally {
      if (my === seq) loading.value = false
    }
  }
  return { record, loading, notFound, failed, load }
}
