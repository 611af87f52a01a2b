import { t } from '../i18n'

/** Parse the boundary textarea: '' → null, else a GeoJSON Polygon/MultiPolygon (geometry or Feature). */
export function parseBoundary(text) {
  const s = (text || '').trim()
  if (!s) return { ok: true, value: null }
  let v
  try {
    v = JSON.parse(s)
  } catch (e) {
    return { ok: false, error: t('areas.boundaryInvalidJson', { msg: e.message }) }
  }
  if (v && v.type === 'Feature' && v.geometry) v = v.geometry
  if (!v || (v.type !== 'Polygon' && v.type !== 'MultiPolygon')) return { ok: false, error: t('areas.boundaryInvalidType') }
  if (!Array.isArray(v.coordinates) || v.coordinates.length === 0) return { ok: false, error: t('areas.boundaryNoCoords') }
  return { ok: true, value: v }
}

/** Pretty JSON with coordinate pairs kept on one line: [115.46, 38.87]. */
export function formatJson(v) {
  if (v == null) return ''
  return JSON.stringify(v, null, 2).replace(/\[\s*(-?[\d.eE+-]+),\s*(-?[\d.eE+-]+)(?:,\s*(-?[\d.eE+-]+))?\s*\]/g, (_m, a, b, c) =>
    c !== undefined ? `[${a}, ${b}, ${c}]` : `[${a}, ${b}]`,
  )
}
