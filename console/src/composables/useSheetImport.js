// The flow the import dialogs share (SheetImportDialog, AreaImportDialog, UserImportDialog,
// HotlineImportDialog): download the template; choose a file (checked here for its type, size and
// emptiness, then, unless `check: false`, sent at once as a dry run); send it with a mode (dry_run |
// commit | commit_valid) and keep the answer: a committed one as `result` (and `imported` is
// emitted), any other as `report`. A 422 about the file as a whole shows as `error`.
//   open()            whether the dialog is open (opening it starts afresh)
//   names             the file names it takes (a RegExp)
//   maxBytes          the largest file (a number, or a function giving it)
//   texts             the i18n prefix of badType, tooBig ({size}, {max}), empty, templateName
//   template()        → Promise<{blob, filename}>; templateName(): its file name when the answer has none
//   run(file, mode)   → Promise<the report>
//   answered(r, mode) instead of the result / report split (HotlineImportDialog keeps one report)
import { ref, computed, watch } from 'vue'
import { ElMessage } from 'element-plus'
import { t } from '../i18n'
import { saveBlob } from '../api/http'
import { fileSizeText } from '../utils/cases'
import { takeFile } from '../utils/forms'

export function useSheetImport(emit, { open, names, maxBytes, texts, template, templateName, run, answered, check = true }) {
  const input = ref(null)
  const file = ref(null)
  const report = ref(null) // the report of the last check (or a rejected commit)
  const result = ref(null) // the report of the commit
  const busy = ref('') // '' | 'template' | 'dry_run' | 'commit' | 'commit_valid'
  const error = ref('')

  watch(open, (v) => {
    if (!v) return
    file.value = null
    report.value = null
    result.value = null
    error.value = ''
    busy.value = ''
  })

  async function downloadTemplate() {
    busy.value = 'template'
    try {
      const { blob, filename } = await template()
      saveBlob(blob, filename || templateName?.() || t(`${texts}.templateName`))
    } catch (e) {
      ElMessage.error({ message: e.message, grouping: true })
    } finally {
      busy.value = ''
    }
  }
  function onPick(e) {
    const f = takeFile(e)
    if (!f) return
    report.value = null
    error.value = ''
    file.value = null
    const max = typeof maxBytes === 'function' ? maxBytes() : maxBytes
    if (!names.test(f.name)) return (error.value = t(`${texts}.badType`))
    if (f.size > max) return (error.value = t(`${texts}.tooBig`, { size: fileSizeText(f.size), max: fileSizeText(max) }))
    if (!f.size) return (error.value = t(`${texts}.empty`))
    file.value = f
    if (check) send('dry_run')
  }
  async function send(mode) {
    if (!file.value) return
    busy.value = mode
    error.value = ''
    try {
      const r = await run(file.value, mode)
      if (answered) answered(r, mode)
      else if (r?.status === 'committed') {
        result.value = r
        report.value = null
        emit('imported', r)
      } else report.value = r
    } catch (e) {
      // 422: the file as a whole (missing columns, no rows, unreadable) → error.fields.file
      report.value = null
      if (e?.status !== 401) error.value = e.fields?.file || Object.values(e.fields || {})[0] || e.message
    } finally {
      busy.value = ''
    }
  }

  const problems = computed(() => report.value?.problems || [])
  const rejected = computed(() => report.value?.status === 'rejected')
  function close() {
    emit('update:modelValue', false)
  }
  function beforeClose(done) {
    if (busy.value && busy.value !== 'template') return
    done()
  }
  return { input, file, report, result, busy, error, downloadTemplate, onPick, send, problems, rejected, close, beforeClose }
}
