// A small fetch wrapper for the gongzhi JSON API.
// - sends Accept-Language matching the UI, the session token (Bearer) and the cookie
// - turns every error into ApiError {status, code, message, fields}
// - 401 → login page (keeps the intended path), 403 password_change_required → change password
import { ElMessage } from 'element-plus'
import { currentLang, t } from '../i18n'

const TOKEN_KEY = 'gongzhi_token'

export class ApiError extends Error {
  constructor(status, code, message, fields, requestId) {
    super(message)
    this.status = status
    this.code = code
    this.fields = fields || {}
    this.requestId = requestId
  }
}

const hooks = {
  onUnauthorized: () => {},
  onPasswordChangeRequired: () => {},
}
export function setHttpHooks(h) {
  Object.assign(hooks, h)
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token)
  else sessionStorage.removeItem(TOKEN_KEY)
}
export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY)
}

function buildUrl(path, query) {
  let url = path.startsWith('/api/') ? path : '/api/v1' + path
  if (query) {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue
      qs.append(k, String(v))
    }
    const s = qs.toString()
    if (s) url += (url.includes('?') ? '&' : '?') + s
  }
  return url
}

/**
 * request('GET', '/areas/roots')
 * options: { query, body, silent (no toast), noRedirect (do not jump to /login on 401),
 *            raw + contentType (send a File/Blob as the body as is), signal (AbortController),
 *            blob (answer a {blob, filename} instead of JSON),
 *            headers (extra request headers, e.g. { 'Idempotency-Key': uuid }) }
 */
export async function request(method, path, options = {}) {
  const { query, body, raw, contentType, signal, blob = false, silent = false, noRedirect = false } = options
  const headers = {
    ...(options.headers || {}),
    Accept: blob ? '*/*' : 'application/json',
    'Accept-Language': currentLang() === 'en' ? 'en' : 'zh-CN',
  }
  const token = getToken()
  if (token) headers.Authorization = `Bearer ${token}`
  if (raw !== undefined) headers['Content-Type'] = contentType || 'application/octet-stream'
  else if (body !== undefined) headers['Content-Type'] = 'application/json'

  let res
  try {
    res = await fetch(buildUrl(path, query), {
      method,
      headers,
      credentials: 'same-origin',
      body: raw !== undefined ? raw : body !== undefined ? JSON.stringify(body) : undefined,
      signal,
    })
    if (blob && res.ok) return { blob: await res.blob(), filename: filenameOf(res.headers.get('content-disposition')) }
  } catch (e) {
    if (e?.name === 'AbortError') throw new ApiError(0, 'aborted', 'aborted')
    const err = new ApiError(0, 'network', t('error.network'))
    if (!silent) ElMessage.error({ message: err.message, grouping: true })
    throw err
  }

  if (res.status === 204) return null
  const text = await res.text()
  let data = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (res.ok) return data

  const e = (data && data.error) || {}
  const err = new ApiError(
    res.status,
    e.code || 'http_' + res.status,
    e.message || t('error.unknown', { status: res.status }),
    e.fields,
    res.headers.get('x-request-id'),
  )
  // 429: how long to wait (Retry-After, seconds)
  const retry = Number(res.headers.get('retry-after'))
  if (res.status === 429 && retry > 0) err.retryAfter = retry

  if (res.status === 401 && !noRedirect) {
    setToken(null)
    hooks.onUnauthorized(err)
    if (!silent) ElMessage.warning({ message: err.message || t('error.sessionExpired'), grouping: true })
    throw err
  }
  if (res.status === 403 && err.code === 'auth.password_change_required') {
    hooks.onPasswordChangeRequired(err)
    throw err
  }
  if (!silent) ElMessage.error({ message: err.message, grouping: true })
  throw err
}

/** The file name of a Content-Disposition header (filename* preferred). */
function filenameOf(cd) {
  if (!cd) return ''
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(cd)
  if (star) {
    try {
      return decodeURIComponent(star[1].trim())
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/.exec(cd)
  return plain ? plain[1].trim() : ''
}

/** Save a Blob as a file in the browser's downloads. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  a.rel = 'noopener'
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

export const http = {
  get: (p, query, o = {}) => request('GET', p, { ...o, query }),
  post: (p, body, o = {}) => request('POST', p, { ...o, body }),
  patch: (p, body, o = {}) => request('PATCH', p, { ...o, body }),
  put: (p, body, o = {}) => request('PUT', p, { ...o, body }),
  del: (p, o = {}) => request('DELETE', p, o),
}
