import { createApp } from 'vue'
import App from './App.vue'
import router from './router'
import { i18n, t } from './i18n'
import { setHttpHooks } from './api/http'
import { auth } from './stores/auth'

// Styles of Element Plus services called from plain JS (components get theirs automatically).
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import './styles/main.css'

setHttpHooks({
  onUnauthorized() {
    auth.clear()
    const cur = router.currentRoute.value
    if (cur.name !== 'login') {
      router.replace({ name: 'login', query: cur.fullPath && cur.fullPath !== '/' ? { redirect: cur.fullPath } : {} })
    }
  },
  onPasswordChangeRequired() {
    if (auth.me) auth.me.must_change_password = true
    if (router.currentRoute.value.name !== 'change-password') router.replace({ name: 'change-password' })
  },
})

router.afterEach((to) => {
  const title = to.meta?.title ? t(to.meta.title) + ' · ' : ''
  document.title = title + t('app.name') + ' · ' + t('app.title')
})

createApp(App).use(i18n).use(router).mount('#app')
