// A short list of things that are revoked, never deleted (API tokens, sharing rules): rows, loading, load()
// and revoke(row) after a danger confirm. api: { list(), revoke(id) }; keys: the i18n keys of the
// question ({ name }), its button and the success toast; onLoaded() after each list came.
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { itemsOf } from '../api'
import { confirmDanger } from '../utils/forms'

export function useRevocableList(api, { confirmKey, buttonKey, doneKey, onLoaded }) {
  const { t } = useI18n()
  const rows = ref([])
  const loading = ref(false)
  async function load() {
    loading.value = true
    try {
      rows.value = itemsOf(await api.list())
      onLoaded?.()
    } catch {
      /* toast shown */
    } finally {
      loading.value = false
    }
  }
  async function revoke(row) {
    if (!(await confirmDanger(t(confirmKey, { name: row.name }), t(buttonKey)))) return
    try {
      await api.revoke(row.id)
      ElMessage.success(t(doneKey))
      load()
    } catch {
      /* toast shown */
    }
  }
  return { rows, loading, load, revoke }
}
