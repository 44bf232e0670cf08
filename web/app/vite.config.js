import { defineConfig } from 'vite';

// The built files go to web/dist/app, which the Go binary embeds. In development, `npm run dev`
// serves the page and sends API calls to a vungtrong server on :8080.
export default defineConfig({
  base: '/',
  build: {
    outDir: '../dist/app',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { '/api': 'http://localhost:8080', '/tiles': 'http://localhost:8080', '/style.json': 'http://localhost:8080' },
  },
});
