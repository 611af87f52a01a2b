// The home page's to-dos and the area-tree import (docs/api.md “/me/todos”, “/import/areas”).
import { http, request } from './http'

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

export const todoApi = {
  /** → {items: [{kind, count, label_zh, label_en, severity, link, samples: [{id, title, detail, link}]}]} */
  mine: (opts) => http.get('/me/todos', undefined, opts),
}

/** The content type of an area file by its name: GeoJSON, a workbook, or CSV. */
export function areaFileType(name = '') {
  if (/\.(geo)?json$/i.test(name)) return 'application/geo+json'
  if (/\.xls[xm]$/i.test(name)) return XLSX_TYPE
  return 'text/csv'
}

export const areaImportApi = {
  /** The sheet template (编码, 名称, 类型, 上级编码), CSV UTF-8 with BOM */
  template: () => request('GET', '/import/templates/areas.csv', { blob: true, silent: true }),
  /** mode: dry_run | commit (all or nothing); the file is the raw body → AreaImportReport */
  run: (file, mode, signal) =>
    request('POST', '/import/areas', { query: { mode }, raw: file, contentType: areaFileType(file?.name), signal, silent: true }),
}
