// 回应关切 (docs/questions-api-draft.md): residents' questions about their community, routed like a case to the unit
// that answers (answer_questions at the community or above, or a member of that unit); an answer may be published
// (reworded without personal data) on the community's public page /p/<code>; a repeat is linked to the earlier answer.
// Calls that feed a form are `silent` (the page shows the message and the field errors itself).
import { http } from './http'

const enc = encodeURIComponent

export const questionApi = {
  /**
   * {status? open (default) | answered | linked | declined | all, overdue?, q?, area_id?, page, page_size}
   * → {items: [QuestionSummary], total, counts: {open, overdue, answered}}
   */
  list: (params, opts) => http.get('/questions', params, opts),
  /** → Question (QuestionSummary + body, asker_name, route_rule, route_basis, answer…, similar: [PublicAnswer], can_answer) */
  get: (id, opts) => http.get(`/questions/${enc(id)}`, undefined, opts),
  /** {answer, publish, public_title?, public_body?} → Question; 409 questions.not_open; 422 error.fields */
  answer: (id, body) => http.post(`/questions/${enc(id)}/answer`, body, { silent: true }),
  /** {public_title, public_body} → Question (answered only; edits the wording when already public) */
  publish: (id, body) => http.post(`/questions/${enc(id)}/publish`, body, { silent: true }),
  /** → Question */
  unpublish: (id) => http.post(`/questions/${enc(id)}/unpublish`, {}, { silent: true }),
  /** {to: id of a published question of the same community} → Question (status linked, the answer copied) */
  link: (id, to) => http.post(`/questions/${enc(id)}/link`, { to }, { silent: true }),
  /** {unit_id, note} → Question (route_rule manual) */
  route: (id, body) => http.post(`/questions/${enc(id)}/route`, body, { silent: true }),
  /** {reason} → Question (status declined) */
  decline: (id, reason) => http.post(`/questions/${enc(id)}/decline`, { reason }, { silent: true }),
}

// the resident's own questions (phone pages)
export const myQuestionApi = {
  /** → {items: [MyQuestion], community: {code, name} | null} (where the resident lives, if known) */
  list: (opts) => http.get('/me/questions', undefined, opts),
  /** {title, body, community_code?, category_code?} → 201 MyQuestion; 422 error.fields (community_code …); 429 more than 5 a day */
  ask: (body) => http.post('/me/questions', body, { silent: true }),
  /** → MyQuestion */
  get: (id, opts) => http.get(`/me/questions/${enc(id)}`, undefined, opts),
  /** {q, community_code?} → {items: [PublicAnswer]} (up to 5) */
  similar: (params, opts) => http.get('/me/questions/similar', params, { silent: true, ...opts }),
}
