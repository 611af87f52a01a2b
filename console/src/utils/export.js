// Excel exports (issue 14): GET an .xlsx with the page's filters, save it under the server's
// name, and say so. One helper for every page that exports.
import { ref } from 'vue'
import { ElMessage } from 'element-plus'
import { request, saveBlob } from '../api/http'
import { t } from '../i18n'

/** `path`: e.g. '/cases/export.xlsx'; `query`: the filters (undefined values are left out). */
export async function downloadExport(path, query, fallbackName) {
  const clean = Object.fromEntries(Object.entries(query || {}).filter(([, v]) => v !== undefined && v !== null && v !== ''))
  const { blob, filename } = await request('GET', path, { query: clean, blob: true, silent: true })
  const name = filename || fallbackName
  saveBlob(blob, name)
  ElMessage.success({ message: t('export.saved', { name }), grouping: true })
}

/** A busy flag and a runner that reports a refusal (e.g. more than 200,000 rows) in words. */
export function useExport() {
  const exporting = ref(false)
  async function run(path, query, fallbackName) {
    exporting.value = true
    try {
      await downloadExport(path, query, fallbackName)
    } catch (e) {
      if (e?.status !== 401) ElMessage.error({ message: t('export.failed', { msg: e?.message || '' }), grouping: true })
    } finally {
      exporting.value = false
    }
  }
  return { exporting, run }
}
