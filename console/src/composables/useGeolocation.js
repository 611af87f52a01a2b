// The device's position, once: `geo.busy` meanwhile, `geo.error` when it fails (or the browser has
// none), `geo.accuracy` in metres (null when not told). locate() gives `fix({ lat, lon })`, rounded to
// six places. `maximumAge`: how old a cached fix may be (ms); `deniedText()`: the message when the
// user refused (else the general "could not locate").
import { reactive } from 'vue'
import { t } from '../i18n'

export function useGeolocation(fix, { maximumAge = 60000, deniedText } = {}) {
  const geo = reactive({ busy: false, error: '', accuracy: null })
  function locate() {
    if (!navigator.geolocation) return (geo.error = t('reg.visit.locateUnsupported'))
    geo.busy = true
    geo.error = ''
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        geo.accuracy = Math.round(pos.coords.accuracy || 0) || null
        fix({ lat: Number(pos.coords.latitude.toFixed(6)), lon: Number(pos.coords.longitude.toFixed(6)) })
        geo.busy = false
      },
      (err) => {
        geo.error = err.code === 1 && deniedText ? deniedText() : t('reg.visit.locateFailed', { msg: err.message || err.code })
        geo.busy = false
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge },
    )
  }
  return { geo, locate }
}
