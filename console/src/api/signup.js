// 居民自助注册 (issue 15 point 8): sign-up with a mobile number and an SMS code (public, no sign-in), the
// resident's claim of their registry record (any signed-in user), and the community workers' review of the
// claims that matched a person of their area (edit_registry). crates/gongzhi/src/app/signup.rs.
import { request, http } from './http'

const enc = encodeURIComponent
// public: the page shows its own errors (silent) and a 401 must not jump to /login (noRedirect)
const pub = { silent: true, noRedirect: true }

export const signupApi = {
  /** {phone} → 202 {expires_in_s, resend_after_s}; 422 fields.phone, 429 (err.retryAfter), 409 signup.sms_unavailable */
  sendCode: (phone) => request('POST', '/public/signup/code', { body: { phone }, ...pub }),
  /** {phone, code, username, display_name, password} → 201 {user_id, username}; 422 fields.*, 409 fields.username | signup.phone_taken */
  signUp: (body) => request('POST', '/public/signup', { body, ...pub }),
}

export const myClaimApi = {
  /** → MyClaim[] newest first ({id, name, status submitted | confirmed | rejected, reason?, created_at, decided_at?}) */
  list: (opts) => http.get('/me/claims', undefined, opts),
  /** {name, id_no} → 202 MyClaim (status submitted, matched or not); 422 fields, 409 claims.already_linked, 429 */
  create: (body) => http.post('/me/claims', body, { silent: true }),
}

export const claimApi = {
  /** {status: pending (default) | confirmed | rejected | all, page, page_size} → {items: [Claim], total, page, page_size} */
  list: (params, opts) => http.get('/resident-claims', params, opts),
  /** → Claim; 409 when already decided */
  confirm: (id) => http.post(`/resident-claims/${enc(id)}/confirm`, {}, { silent: true }),
  /** {reason} → Claim; 422 fields.reason, 409 when already decided */
  reject: (id, reason) => http.post(`/resident-claims/${enc(id)}/reject`, { reason }, { silent: true }),
}
