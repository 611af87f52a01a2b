import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN.js'
import en from './en.js'

const KEY = 'gongzhi_lang'
export const LANGS = [
  { value: 'zh-CN', label: '中文' },
  { value: 'en', label: 'English' },
]

function initialLang() {
  const saved = localStorage.getItem(KEY)
  if (saved === 'zh-CN' || saved === 'en') return saved
  // Chinese first: English only when the user picked it (the choice is remembered).
  return 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLang(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})

export function currentLang() {
  return i18n.global.locale.value
}

export function setLang(lang) {
  i18n.global.locale.value = lang
  localStorage.setItem(KEY, lang)
  document.documentElement.lang = lang
}

document.documentElement.lang = currentLang()

export const t = (...args) => i18n.global.t(...args)
export const te = (key) => i18n.global.te(key, currentLang()) || i18n.global.te(key, 'zh-CN')
