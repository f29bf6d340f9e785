import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('main entry', () => {
  it('bundles for browsers with no Node built-in', async () => {
    // esbuild with platform 'browser' fails to resolve any node: module (or fs, path, crypto...), so a stray Node
    // import anywhere under src/index.ts makes this build throw.
    const result = await build({
      entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).toContain('readOmniglotZip');
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:|import\(["']node:/);
  });

  it('the Node entry, by contrast, needs Node (so the check above can fail)', async () => {
    await expect(
      build({
        entryPoints: [fileURLToPath(new URL('./node.ts', import.meta.url))],
        bundle: true,
        platform: 'browser',
        write: false,
        logLevel: 'silent',
      }),
    ).rejects.toThrow(/node:/);
  });
});
