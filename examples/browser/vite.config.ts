import { defineConfig } from 'vite';
import { mannAssets } from './build/mann_assets';

export default defineConfig({
  // Relative asset URLs, so the built page works from any folder (a static host, a file server in the e2e test).
  base: './',
  plugins: [mannAssets()],
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
  // The Train mode's worker imports the backends on demand (code splitting), which only module workers can do.
  worker: { format: 'es' },
});
