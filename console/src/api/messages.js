// 消息中心 (the in-app inbox) and the message templates (docs/api.md “Messages”).
import { http } from './http'

const enc = encodeURIComponent

export const messageApi = {
  /** {unread?: true|false, page, page_size} → {items: [{id, kind, title, body, link, urgent, created_at, read_at}], total, page, page_size} */
  list: (params, opts) => http.get('/me/messages', params, opts),
  /** → {unread: n} (the bell's badge) */
  unread: (opts) => http.get('/me/messages/unread', undefined, opts),
  /** → {unread: n}; 404 when the message is not the caller's */
  read: (id, opts) => http.post(`/me/messages/${enc(id)}/read`, undefined, opts),
  /** → {unread: n} */
  readAll: (opts) => http.post('/me/messages/read-all', undefined, opts),
}

// How the caller's messages reach them (docs/api.md “/me/channels”): the inbox always; SMS, e-mail, WeCom
// (企业微信应用消息) and the webhook when the instance has them and the person has the address. Turning
// one off holds back only non-urgent messages (督办, 吹哨 still come).
export const myChannelApi = {
  /** → [{channel: inbox | sms | email | wecom_app | webhook, enabled, available, fixed}] */
  list: (opts) => http.get('/me/channels', undefined, opts),
  /** {enabled} → the whole list again; 422 error.fields.channel for the inbox */
  set: (channel, enabled) => http.put(`/me/channels/${enc(channel)}`, { enabled }, { silent: true }),
}

// The wording of every message gongzhi sends (manage_system): zh and en, only the template's {variables}.
export const templateApi = {
  /** → [{key, about_zh, about_en, vars, title_zh, body_zh, title_en, body_en, customised, version, updated_at, updated_by}] */
  list: (opts) => http.get('/message-templates', undefined, opts),
  /** {version, title_zh, body_zh, title_en, body_en} → the template; 422 error.fields.<field>, 409 stale version */
  save: (key, body) => http.put(`/message-templates/${enc(key)}`, body, { silent: true }),
  /** back to the shipped wording → the template (customised false) */
  reset: (key) => http.del(`/message-templates/${enc(key)}`),
}
