// 渠道台账: each community's channels to residents (公众号, 微信群, …) and the rules that flag dead ones
// (crates/gongzhi/src/app/channels.rs, tag `registry`).
import { http, request } from './http'

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

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
  /** The register's sheet (.xlsx: 社区, 渠道名称, 类型, 服务对象, 用途, 负责人, 成员数, 上月发帖数, 最近活跃日期) */
  importTemplate: () => request('GET', '/community-channels/import/template.xlsx', { blob: true, silent: true }),
  /**
   * mode: dry_run | commit (all rows or none) | commit_valid (the good rows); the file is the raw body
   * (xlsx or CSV, ≤ 2 MiB) → {status, rows, ok_rows, error_rows, created, updated, skipped_rows, problems}
   */
  importRun: (file, mode, signal) =>
    request('POST', '/community-channels/import', {
      query: { mode },
      raw: file,
      contentType: /\.xls[xm]$/i.test(file?.name || '') ? XLSX_TYPE : 'text/csv',
      signal,
      silent: true,
    }),
}
