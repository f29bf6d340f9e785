import { defineConfig } from 'vitest/config';

// Unit tests of the build plugin and the page's data code, in Node (no browser, no build needed): `npm test`.
// The end-to-end test (test/*.e2e.test.ts, vitest.config.ts) drives the built page in Chromium instead.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.e2e.test.ts', '**/node_modules/**'],
    testTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
