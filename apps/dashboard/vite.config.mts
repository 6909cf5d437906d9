import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * `npm run build` writes the static app to dist/. `npm run dev` serves it with hot reload and
 * proxies /graphql (HTTP and WebSocket) to GATEWAY_URL, like the dashboard server does.
 */
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    port: Number(process.env.DASHBOARD_PORT ?? 5173),
    proxy: { '/graphql': { target: process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000', ws: true, changeOrigin: true } },
  },
});
