// 通知公告 with receipts (docs/notices-api-draft.md): notices to the households and staff of an area, their
// coverage and receipts (send_notices to write, read_registry to read), and the user's own notices.
import { http } from './http'

const enc = encodeURIComponent

export const noticeApi = {
  /** {area_id?, status? published (default) | withdrawn | all, q?, page, page_size} → {items: [Notice], total, page, page_size} */
  list: (params, opts) => http.get('/notices', params, opts),
  /** NewNotice → 201 NoticeDetail; 422 error.fields (title, body, area_id, tags, roles, form[i].label …) */
  create: (body) => http.post('/notices', body, { silent: true }),
  /** → NoticeDetail (Notice + by_grid) */
  get: (id, opts) => http.get(`/notices/${enc(id)}`, undefined, opts),
  /** {grid_id?, state? all | unread | unacked | acked | unreachable | door, page, page_size} → {items: [ReceiptRow], total, page, page_size} */
  households: (id, params, opts) => http.get(`/notices/${enc(id)}/households`, params, opts),
  /** → {reminded}; 409 notices.remind_too_soon within an hour of the last reminder */
  remind: (id) => http.post(`/notices/${enc(id)}/remind`, {}, { silent: true }),
  /** door-to-door: {answer?, note?} → ReceiptRow; 422 error.fields.answer.<key> */
  ackHousehold: (id, householdId, body) => http.post(`/notices/${enc(id)}/households/${enc(householdId)}/ack`, body, { silent: true }),
  /** {reason} → NoticeDetail */
  withdraw: (id, body) => http.post(`/notices/${enc(id)}/withdraw`, body, { silent: true }),
}

export const myNoticeApi = {
  /** {page, page_size} → {items: [MyNotice], total, unread} */
  list: (params, opts) => http.get('/me/notices', params, opts),
  /** → MyNotice (opening it records the read) */
  get: (id, opts) => http.get(`/me/notices/${enc(id)}`, undefined, opts),
  /** {answer?} → MyNotice; 422 error.fields.answer.<key> */
  ack: (id, body) => http.post(`/me/notices/${enc(id)}/ack`, body, { silent: true }),
}
