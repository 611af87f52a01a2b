import { createI18n } from 'vue-i18n'

// The message catalogues are data: one JSON file a capability and language, `<part>.<lang>.json`,
// merged into one object a language in this order (a later part's top-level key wins):
//   registry   一户一档 (views/registry)
//   cases      接诉即办 (views/cases, components/cases)
//   service    党员下沉、志愿服务、积分 (views/service; docs/party-volunteers.md)
//   home       首页待办、手机端首页、导入区域 (HomeView, components/home, components/areas)
//   messages   消息中心、消息模板 (MessagesView, the header bell, MessageTemplatesView)
//   notices    通知公告 (views/notices)
//   signup     居民注册、认领住户信息、住户认领审核 (SignupView, ClaimView, registry/ClaimsView)
//   questions  回应关切 (views/questions)
//   console    the rest of the console: sign-in, layout, users, areas, roles, tokens, sharing, audit…
const PARTS = ['registry', 'cases', 'service', 'home', 'messages', 'notices', 'signup', 'questions', 'console']
const FILES = import.meta.glob('./*.json', { eager: true, import: 'default' })
const catalogue = (lang) => Object.assign({}, ...PARTS.map((part) => FILES[`./${part}.${lang}.json`]))

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
  messages: { 'zh-CN': catalogue('zh-CN'), en: catalogue('en') },
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
