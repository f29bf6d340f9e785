import { defineConfig } from 'vite';

export default defineConfig({
  // Relative URLs: dist works from any folder of any static server.
  base: './',
  build: {
    rollupOptions: { input: { main: 'index.html', noWasmPaths: 'no-wasm-paths.html' } },
  },
});
