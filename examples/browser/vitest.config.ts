import { defineConfig } from 'vitest/config';

// The end-to-end test drives the built page (dist/) in headless Chromium; run it through `.ci/browser-e2e.sh`,
// which installs Chromium if needed and builds the page first.
export default defineConfig({
  test: {
    include: ['test/**/*.e2e.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Its own report file: the unit tests (`npm test`, vitest.unit.config.ts) write test-results.json.
    reporters: ['default', ['json', { outputFile: 'test-results.e2e.json' }]],
  },
});
