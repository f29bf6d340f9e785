import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The root README's "bring your own piece" program, run as a new user would: the packages packed with `npm pack`
// (what npm would publish), installed into a fresh app with tfjs from the registry, the program copied out of the
// README and run with plain Node. Slow (a minute, mostly npm), and the one test of what a user installs.
const root = fileURLToPath(new URL('../../..', import.meta.url));
// What the README's install line names (@mann/model, @mann/backend, @mann/episodes) and every @mann package they
// depend on, read from the workspaces' package.json files: a new dependency is packed too, never fetched.
const PACKAGES = withMannDependencies(['@mann/model', '@mann/backend', '@mann/episodes']);
const folder = mkdtempSync(join(tmpdir(), 'mann-readme-'));

afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** `names` and the @mann packages they depend on, directly or not (from packages/<name>/package.json). */
function withMannDependencies(names: string[]): string[] {
  const found = new Set<string>();
  const visit = (name: string) => {
    if (found.has(name)) return;
    found.add(name);
    const manifest = JSON.parse(readFileSync(join(root, 'packages', name.replace('@mann/', ''), 'package.json'), 'utf8'));
    for (const dependency of Object.keys(manifest.dependencies ?? {})) if (dependency.startsWith('@mann/')) visit(dependency);
  };
  names.forEach(visit);
  return [...found].sort();
}

/** Runs a command without blocking the test worker's event loop (vitest's own messages must get through). */
function sh(command: string, args: string[], cwd: string, timeout = 300_000): Promise<string> {
  const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' };
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, encoding: 'utf8', timeout, env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      if (error) reject(new Error(`${command} ${args.join(' ')} failed (${error.message}):\n${output.slice(-3000)}`));
      else resolve(output);
    });
  });
}

describe("the root README's custom-part example", () => {
  it('runs as written from the packed packages', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const program = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.includes('function contentScheme'));
    expect(program, 'the README has the contentScheme example').toBeDefined();
    const tarballs = join(folder, 'tarballs');
    mkdirSync(tarballs);
    await sh('npm', ['pack', '--silent', '--pack-destination', tarballs, ...PACKAGES.flatMap((name) => ['-w', name])], root);
    const packed = readdirSync(tarballs).filter((name) => name.endsWith('.tgz'));
    expect(packed).toHaveLength(PACKAGES.length);
    const app = join(folder, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'readme-app', private: true, type: 'module' }));
    const tfjs = JSON.parse(readFileSync(join(root, 'node_modules/@tensorflow/tfjs-core/package.json'), 'utf8')).version;
    await sh('npm', ['install', '--prefer-offline', '--no-package-lock', ...packed.map((name) => join(tarballs, name)), `@tensorflow/tfjs-core@${tfjs}`, `@tensorflow/tfjs-backend-cpu@${tfjs}`], app);
    writeFileSync(join(app, 'example.mjs'), program!);
    const output = await sh(process.execPath, ['example.mjs'], app, 180_000);
    expect(output).toMatch(/controller 'lstm' fast, addressing 'content' has no fast implementation, its step differentiated by tfjs/);
    const losses = [...output.matchAll(/batch (\d+): loss ([\d.]+)/g)].map((m) => Number(m[2]));
    expect(losses).toHaveLength(4);
    expect(losses.every(Number.isFinite)).toBe(true);
  }, 600_000);
});
