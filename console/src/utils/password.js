import { t } from '../i18n'

export function passwordChecks(pw, username) {
  pw = pw || ''
  const classes =
    (/[a-z]/.test(pw) ? 1 : 0) +
    (/[A-Z]/.test(pw) ? 1 : 0) +
    (/[0-9]/.test(pw) ? 1 : 0) +
    (/[^A-Za-z0-9]/.test(pw) ? 1 : 0)
  return {
    length: [...pw].length >= 8,
    classes: classes >= 3,
    notUsername: !username || pw.toLowerCase() !== String(username).toLowerCase(),
  }
}

/** Element Plus validator for a new password; `getUsername` is a function. */
export function passwordValidator(getUsername) {
  return (_rule, value, callback) => {
    if (!value) return callback(new Error(t('password.newRequired')))
    const c = passwordChecks(value, getUsername())
    if (!c.length) return callback(new Error(t('password.tooShort')))
    if (!c.classes) return callback(new Error(t('password.tooWeak')))
    if (!c.notUsername) return callback(new Error(t('password.sameAsUsername')))
    callback()
  }
}

/** A random password meeting the policy (for admins creating or resetting accounts). */
export function randomPassword(len = 12) {
  const sets = ['abcdefghijkmnpqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZ', '23456789', '#$%&*+-=?@']
  const all = sets.join('')
  const buf = new Uint32Array(len)
  crypto.getRandomValues(buf)
  const chars = sets.map((s, i) => s[buf[i] % s.length])
  for (let i = sets.length; i < len; i++) chars.push(all[buf[i] % all.length])
  // shuffle
  for (let i = chars.length - 1; i > 0; i--) {
    const j = buf[i] % (i + 1)
    ;[chars[i], chars[j]] = [chars[j], chars[i]]
  }
  return chars.join('')
}
