import { ref } from 'vue'

// One shared flag: true on phones / narrow windows.
const query = window.matchMedia('(max-width: 768px)')
export const isMobile = ref(query.matches)
query.addEventListener('change', (e) => {
  isMobile.value = e.matches
})
