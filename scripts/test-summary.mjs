// Adds up the vitest JSON reports that every package writes (test-results.json; the browser example's end-to-end
// test writes test-results.e2e.json beside its unit tests' report) and prints one closing line, 'N passed, N failed',
// for CI. Exits non-zero if any test failed or no test ran.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const group of ['packages', 'examples']) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    for (const reportName of ['test-results.json', 'test-results.e2e.json']) {
      const file = join(group, name, reportName);
      if (!existsSync(file)) continue;
      const report = JSON.parse(readFileSync(file, 'utf8'));
      passed += report.numPassedTests ?? 0;
      failed += report.numFailedTests ?? 0;
      skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
      console.log(`${file}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
