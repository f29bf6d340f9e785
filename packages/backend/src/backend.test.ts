import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
// The built package, as users get it: the point of this package is what its bundle registers.
import { useBackend, defaultBackend } from '@mann/backend';
import { checkGradients, maxAbsDifference, randomTensor } from '@mann/backend/testing';
// Not exported by the package: the wording of the wasm error in browsers, tested here as a pure function (the
// browser path itself runs in real Chromium in scripts/vite-app-test.mjs).
import { WASM_README_URL, wasmFailureMessage, wasmPathsTooLateMessage } from './backend';

describe('useBackend', () => {
  it('defaults to wasm in Node', () => {
    expect(defaultBackend()).toBe('wasm');
  });

  it.each(['cpu', 'wasm'] as const)('activates %s', async (name) => {
    await expect(useBackend(name)).resolves.toBe(name);
    expect(tf.getBackend()).toBe(name);
  });

  it('explains why webgl cannot start in Node', async () => {
    await expect(useBackend('webgl')).rejects.toThrow(/Backend 'webgl' could not be initialised: Node.js has no WebGL/);
    await useBackend('cpu');
  });

  it('rejects an unknown name, listing the known ones', async () => {
    await expect(useBackend('gpu' as never)).rejects.toThrow("Unknown backend 'gpu': choose one of cpu, wasm, webgl.");
  });
});

describe('the wasm error in a browser', () => {
  const url = 'http://localhost:5173/tfjs-backend-wasm-simd.wasm';

  it('says where tfjs looked, what it found there and what to do, on one line', () => {
    const message = wasmFailureMessage({
      url,
      served: { kind: 'not-wasm', contentType: 'text/html; charset=utf-8', start: '<!doctype' },
      wasmPathsGiven: false,
    });
    expect(message).toBe(
      `Backend 'wasm' could not be initialised: its .wasm file could not be loaded from ${url} (the server answered ` +
        `with an HTML page ("<!doctype"..., text/html), not a .wasm file), usually because the bundler did not copy ` +
        `@tensorflow/tfjs-backend-wasm's .wasm files there. Pass their URLs with useBackend('wasm', { wasmPaths }); ` +
        `see "wasm in a bundled page" in the @mann/backend README (${WASM_README_URL}).`,
    );
    expect(WASM_README_URL).toMatch(/#wasm-in-a-bundled-page-vite-webpack$/);
  });

  it('names the page\'s folder when the URL is unknown', () => {
    const message = wasmFailureMessage({ wasmPathsGiven: false });
    expect(message).toContain("could not be loaded from the page's folder, usually because the bundler did not copy");
    expect(message).not.toContain('\n');
  });

  it('says that the wasmPaths given did not serve .wasm files', () => {
    const message = wasmFailureMessage({ url, served: { kind: 'status', status: 404 }, wasmPathsGiven: true });
    expect(message).toMatch(
      /^Backend 'wasm' could not be initialised: the wasmPaths given to useBackend did not serve a \.wasm file at http:\/\/localhost:5173\/tfjs-backend-wasm-simd\.wasm \(the server answered HTTP 404\)\. Point them at the files tfjs-backend-wasm\.wasm, tfjs-backend-wasm-simd\.wasm, tfjs-backend-wasm-threaded-simd\.wasm/,
    );
    expect(message).toContain(WASM_README_URL);
    expect(wasmFailureMessage({ url, served: { kind: 'unreachable', detail: 'Failed to fetch' }, wasmPathsGiven: true })).toContain(
      '(it could not be fetched: Failed to fetch)',
    );
  });

  it('tells a file that cannot be compiled from one that is missing', () => {
    const message = wasmFailureMessage({ url, served: { kind: 'wasm' }, wasmPathsGiven: true });
    expect(message).toContain(`its .wasm file at ${url} could not be compiled here`);
    expect(message).toContain("'wasm-unsafe-eval'");
    expect(message).not.toContain('did not serve');
  });

  it('shortens a long URL (an inlined data: URL)', () => {
    const dataUrl = `data:application/wasm;base64,${'A'.repeat(100_000)}`;
    const message = wasmFailureMessage({ url: dataUrl, served: { kind: 'wasm' }, wasmPathsGiven: true });
    expect(message).toContain(`at ${dataUrl.slice(0, 120)}... could not be compiled here`);
    expect(message.length).toBeLessThan(600);
  });

  it('says when wasmPaths come after a failed start', () => {
    expect(wasmPathsTooLateMessage()).toMatch(
      /^Backend 'wasm' could not be initialised: it already failed to start in this page .* Pass wasmPaths to the first useBackend\('wasm'\) call and reload the page; see "wasm in a bundled page"/,
    );
  });

  it('leaves the Node message as it was', async () => {
    // In Node the wasm backend finds its files beside the package; this path is never taken there.
    await expect(useBackend('wasm')).resolves.toBe('wasm');
  });
});

describe('registrations', () => {
  it.each(['cpu', 'wasm'] as const)('gradients work on %s', async (name) => {
    await useBackend(name);
    // d/dx sum(tanh(x) * x) = tanh(x) + x (1 - tanh(x)^2)
    const x = tf.tensor1d([-1, 0.5, 2]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tanh(v), v)))(x);
    const expected = [-1, 0.5, 2].map((v) => Math.tanh(v) + v * (1 - Math.tanh(v) ** 2));
    expect(maxAbsDifference(g, expected)).toBeLessThan(1e-5);
  });

  it('chained ops are available on tensors', async () => {
    await useBackend('cpu');
    const x = tf.tensor1d([1, 2]) as tf.Tensor & { add(y: tf.Tensor): tf.Tensor };
    expect(Array.from(x.add(tf.tensor1d([3, 4])).dataSync())).toEqual([4, 6]);
  });
});

describe('checkGradients', () => {
  it('accepts a right gradient and catches a wrong one', async () => {
    await useBackend('cpu');
    const x = randomTensor([3, 2], 1);
    const good = checkGradients((v) => tf.sum(tf.square(tf.sin(v))), [x]);
    expect(good.maxError).toBeLessThan(2e-3);
    // A custom op whose declared gradient is off by a factor of two must be caught.
    // tfjs types customGrad's callback as variadic (inputs..., save), so the two arguments are read from one list.
    const wrong = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [v, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([v]);
      return { value: tf.sum(tf.square(v)), gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.mul(4, s)) };
    });
    const bad = checkGradients((v) => wrong(v) as tf.Scalar, [x]);
    expect(bad.maxError).toBeGreaterThan(0.1);
  });
});

describe('load order', () => {
  it('works when @mann/backend is imported before tfjs-core (the engine is tfjs-core\'s own)', async () => {
    // A fresh Node process, so that this package really is the first thing loaded.
    const { execFileSync } = await import('node:child_process');
    const script = [
      "import { useBackend } from '@mann/backend';",
      "import * as tf from '@tensorflow/tfjs-core';",
      "await useBackend('cpu');",
      'const g = tf.grad((x) => tf.sum(tf.mul(x, x)))(tf.tensor1d([1, 2]));',
      'console.log(JSON.stringify([Array.from(g.dataSync()), g.clone().shape]));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: __dirname, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual([[2, 4], [2]]);
  });
});
