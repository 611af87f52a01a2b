import { ref, reactive, nextTick } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'
import { t } from '../i18n'

/**
 * Server-side field errors for an el-form: bind `:error="serverErrors.errors.name"`
 * on each el-form-item, call `apply(err)` in the catch.
 */
export function useServerErrors() {
  const errors = reactive({})
  function clear() {
    for (const k of Object.keys(errors)) delete errors[k]
  }
  async function apply(err, { toast = true } = {}) {
    clear()
    await nextTick()
    if (err && err.fields) Object.assign(errors, err.fields)
    if (toast && err && err.message && err.status !== 401) ElMessage.error({ message: err.message, grouping: true })
  }
  return { errors, clear, apply }
}

/**
 * The file chosen in an <input type="file">, or null; the input is cleared, so that choosing the same
 * file again (after fixing it) fires another change.
 */
export function takeFile(e) {
  const f = e.target.files?.[0] || null
  e.target.value = ''
  return f
}

/**
 * A file sent as soon as it is chosen (`onPick` on the input's change): `busy` meanwhile, then
 * `done(answer)`; a refusal shows as a toast, the file's own problem first.
 */
export function useFileUpload(send, done, { duration = 6000 } = {}) {
  const busy = ref(false)
  async function onPick(e) {
    const f = takeFile(e)
    if (!f) return
    busy.value = true
    try {
      done(await send(f))
    } catch (x) {
      ElMessage.error({ message: x.fields?.file || x.message, duration, grouping: true })
    } finally {
      busy.value = false
    }
  }
  return { busy, onPick }
}

/** Asks before something that cannot be undone (the button in red): true when the user goes on. */
export async function confirmDanger(text, okText, title = t('common.confirmTitle')) {
  try {
    await ElMessageBox.confirm(text, title, {
      type: 'warning', confirmButtonText: okText, cancelButtonText: t('common.cancel'), confirmButtonClass: 'el-button--danger',
    })
    return true
  } catch {
    return false
  }
}

/**
 * Sends a dialog's form: `form.saving` while `send()` runs; then the toast `saved`, the dialog closed
 * (`form.open = false`) and `after()`. A refusal shows on the form: the server's field errors (their
 * names mapped by `fields`) in `errors`, its message as `form.error`. With `conflict`, a 409 (the record
 * changed meanwhile) closes the dialog with a warning and calls `after()` as well.
 */
export async function sendForm(form, errors, send, { saved, after, conflict = false, fields = (f) => f || {} }) {
  form.saving = true
  try {
    await send()
    ElMessage.success(saved)
    form.open = false
    after?.()
  } catch (e) {
    if (conflict && e.status === 409) {
      ElMessage.warning(e.message || t('error.conflict'))
      form.open = false
      after?.()
    } else {
      Object.assign(errors, fields(e.fields))
      form.error = e.message
    }
  } finally {
    form.saving = false
  }
}

/** Copy text; works on plain http too (navigator.clipboard needs a secure context). */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    /* fall back below */
  }
  const ta = document.createElement('textarea')
  ta.value = text
  ta.setAttribute('readonly', '')
  ta.style.position = 'fixed'
  ta.style.opacity = '0'
  document.body.appendChild(ta)
  ta.select()
  let ok = false
  try {
    ok = document.execCommand('copy')
  } catch {
    ok = false
  }
  document.body.removeChild(ta)
  return ok
}
