import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import precompress from './build/precompress.js'

// The gongzhi server (run separately) listens here during development.
const server = process.env.GONGZHI_DEV_SERVER || 'http://127.0.0.1:18080'

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    // Element Plus on demand: components, directives (v-loading) and their CSS.
    AutoImport({ resolvers: [ElementPlusResolver()], dts: false }),
    Components({ resolvers: [ElementPlusResolver()], dts: false }),
    // dist/**/*.br and *.gz, served by the binary to clients that accept them.
    precompress(),
  ],
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: server, changeOrigin: false },
      '/healthz': server,
      '/readyz': server,
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 900,
    rolldownOptions: {
      output: {
        // Stable, readable vendor chunks (better caching across releases).
        codeSplitting: {
          groups: [
            { name: 'vendor-vue', test: /node_modules[\\/](@vue|vue|vue-router|vue-i18n|@intlify)[\\/]/, priority: 20 },
            // ECharts: only the pages that draw charts fetch it (components/cases/EChart.vue).
            { name: 'vendor-echarts', test: /node_modules[\\/](echarts|zrender|tslib)[\\/]/, priority: 15 },
            { name: 'vendor-element', test: /node_modules[\\/](element-plus|@element-plus|@floating-ui|@vueuse|lodash|lodash-es|dayjs|async-validator|@ctrl|memoize-one|normalize-wheel-es)[\\/]/, priority: 10 },
          ],
        },
      },
    },
  },
})
