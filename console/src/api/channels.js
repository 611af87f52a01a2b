// 渠道台账: each community's channels to residents (公众号, 微信群, …) and the rules that flag dead ones
// (crates/gongzhi/src/app/channels.rs, tag `registry`).
import { http } from './http'

const enc = encodeURIComponent

export const channelApi = {
  /**
   * {area_id, status: active (default) | retired | merged | all, flagged: true, page, page_size}
   * → {items: [Channel], total, flagged (flagged active channels in that scope), page, page_size}
   */
  list: (params, opts) => http.get('/community-channels', params, opts),
  /** → Channel (404 outside the caller's scope) */
  get: (id, opts) => http.get(`/community-channels/${enc(id)}`, undefined, opts),
  /** {community_id, kind, name, audience, purpose?, owner_name?, members?, posts_last_month?, last_active_on?} → 201 Channel; 422 error.fields */
  create: (body) => http.post('/community-channels', body, { silent: true }),
  /** {version, name?, audience?, purpose?, owner_name?, members?, posts_last_month?, last_active_on?} → Channel; 409 stale version */
  update: (id, body) => http.patch(`/community-channels/${enc(id)}`, body, { silent: true }),
  /** {version, reason} → Channel (edit_areas; 422 reason, 409 stale, 422 channel.not_active) */
  retire: (id, body) => http.post(`/community-channels/${enc(id)}/retire`, body, { silent: true }),
  /** {version, reason, into_id} → Channel (into_id: another active channel of the same community) */
  merge: (id, body) => http.post(`/community-channels/${enc(id)}/merge`, body, { silent: true }),
}
