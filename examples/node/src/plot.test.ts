import { describe, expect, it } from 'vitest';
import { averageRuns, learningCurveSvg, niceTicks, parseMetrics } from './plot';
import { learningRateAt, parseLearningRateSchedule, runOptionsFromArgs } from './train';
import { imageAsText } from './episode_view';

describe('plot', () => {
  const lines = [
    { kind: 'train', step: 50, episodes: 800, loss: 1.6, accuracy: { 1: 0.2, 2: 0.2, 5: 0.2, 10: 0.2 } },
    { kind: 'train', step: 100, episodes: 1600, loss: 1.2, accuracy: { 1: 0.3, 2: 0.5, 5: 0.6, 10: 0.7 } },
    { kind: 'eval', step: 100, episodes: 1600, loss: 1.3, accuracy: { 1: 0.3, 2: 0.45, 5: 0.55, 10: 0.65 } },
  ];

  it('draws one curve per instance, evaluation dots, and the loss', () => {
    const svg = learningCurveSvg(parseMetrics(lines.map((l) => JSON.stringify(l)).join('\n')), 'test run');
    expect(svg.match(/<polyline/g)).toHaveLength(5); // 1st, 2nd, 5th, 10th and the loss
    expect(svg.match(/<circle[^>]*stroke-width="0.7"/g)).toHaveLength(4); // one evaluation, four instances
    expect(svg).toContain('>test run</text>');
    expect(svg).toContain('>2nd instance</text>');
  });

  it('says which characters the evaluation dots scored: validation, held-out, or both', () => {
    const legend = (records: object[]) => /lines: training batches[^<]*/.exec(learningCurveSvg(parseMetrics(records.map((l) => JSON.stringify(l)).join('\n'))))![0];
    expect(legend(lines)).toBe('lines: training batches; dots: held-out classes'); // runs from before the validation split
    const onValidation = [lines[0], lines[1], { ...lines[2], set: 'validation' }];
    expect(legend(onValidation)).toBe('lines: training batches; dots: validation classes');
    expect(legend([...onValidation, { ...lines[2], step: 200, set: 'test' }])).toBe('lines: training batches; dots: validation and held-out classes');
    expect(legend(lines.slice(0, 2))).toBe('lines: training batches');
  });

  it('ends its axes at or above the largest value', () => {
    expect(niceTicks(1_600_000)).toEqual([0, 500_000, 1_000_000, 1_500_000, 2_000_000]);
    expect(niceTicks(1.6)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(niceTicks(1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it('averages a long log into runs of consecutive records', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({ kind: 'train' as const, step: i + 1, episodes: 16 * (i + 1), loss: i, accuracy: { 1: i / 10 } }));
    const averaged = averageRuns(many, 4); // runs of 3: steps 1-3, 4-6, 7-9, 10
    expect(averaged.map((r) => r.step)).toEqual([3, 6, 9, 10]);
    expect(averaged.map((r) => r.loss)).toEqual([1, 4, 7, 9]);
    expect(averaged[1].accuracy[1]).toBeCloseTo(0.4, 12);
    expect(averageRuns(many, 10)).toBe(many);
  });

  it('names a broken line of the metrics file', () => {
    expect(() => parseMetrics(`${JSON.stringify(lines[0])}\n{"kind": "tr\n${JSON.stringify(lines[1])}\n`, 'run/metrics.jsonl')).toThrow(
      'run/metrics.jsonl:2 is not a JSON record; was the file cut short? Remove that line and plot again.',
    );
  });

  it('skips a last line cut short (no newline: a run killed while writing it), saying so', () => {
    const said: string[] = [];
    const records = parseMetrics(`${JSON.stringify(lines[0])}\n${JSON.stringify(lines[1])}\n{"kind": "tr`, 'run/metrics.jsonl', (m) => said.push(m));
    expect(records.map((r) => r.step)).toEqual([50, 100]);
    expect(said).toEqual(['run/metrics.jsonl:3 is a record cut short (no newline, not JSON); skipped it.']);
  });

  it('refuses to plot a run with no training records yet', () => {
    expect(() => learningCurveSvg([])).toThrow('No training records to plot');
  });
});

describe('train options', () => {
  it("defaults to the paper's task and this project's recipe", () => {
    const options = runOptionsFromArgs({});
    expect(options).toMatchObject({ shots: 10, batch: 16, optimizer: 'adam', learningRate: 1e-3, clipNorm: 10, backend: 'wasm', path: 'fast', split: 'paper', augment: true, affine: true });
    expect(options.model).toEqual({});
    expect(runOptionsFromArgs({ optimizer: 'rmsprop' }).learningRate).toBe(1e-4);
  });

  it('sets 100 training characters aside for validation in a new run; a resumed run keeps what it had', () => {
    const fresh = runOptionsFromArgs({});
    expect([fresh.validation, fresh.validationSeed]).toEqual([100, 0]);
    expect(runOptionsFromArgs({ validation: '0' }).validation).toBe(0);
    expect(runOptionsFromArgs({ validation: '250' }).validation).toBe(250);
    expect(() => runOptionsFromArgs({ validation: '-1' })).toThrow(/--validation must be an integer >= 0, got '-1'/);
    expect(runOptionsFromArgs({}, fresh).validation).toBe(100);
    // A run saved before the option existed trained on every training character: resumed, it still does.
    const { validation: _, validationSeed: __, ...older } = fresh;
    expect(runOptionsFromArgs({}, older).validation).toBe(0);
  });

  it('--lr-schedule lowers the learning rate from given batches on; --lr alone on --resume takes over', () => {
    const options = runOptionsFromArgs({ lr: '3e-3', 'lr-schedule': '20000:1e-3, 22500:3e-4' });
    expect(options.learningRateSchedule).toEqual([
      { step: 20000, learningRate: 1e-3 },
      { step: 22500, learningRate: 3e-4 },
    ]);
    expect([0, 19999, 20000, 22499, 22500, 90000].map((step) => learningRateAt(options, step))).toEqual([3e-3, 3e-3, 1e-3, 1e-3, 3e-4, 3e-4]);
    // Resumed: the schedule sticks; --lr alone replaces it; --lr-schedule none drops it.
    expect(runOptionsFromArgs({ steps: '50000' }, options).learningRateSchedule).toHaveLength(2);
    const manual = runOptionsFromArgs({ lr: '1e-4' }, options);
    expect(manual.learningRateSchedule).toEqual([]);
    expect(learningRateAt(manual, 30000)).toBe(1e-4);
    expect(runOptionsFromArgs({ 'lr-schedule': 'none' }, options).learningRateSchedule).toEqual([]);
    // Runs saved before the option existed have no schedule.
    const { learningRateSchedule: _, ...older } = options;
    expect(learningRateAt(runOptionsFromArgs({}, older), 30000)).toBe(3e-3);
    expect(() => parseLearningRateSchedule('20000=1e-3')).toThrow(/"20000=1e-3" is not STEP:LR/);
    expect(() => parseLearningRateSchedule('20000:0')).toThrow(/positive LR/);
    expect(() => parseLearningRateSchedule('20000:1e-3,10000:3e-4')).toThrow(/steps must increase, but 10000 follows 20000/);
  });

  it('--write-vector chooses what the LRUA heads write, and names the choices when wrong', () => {
    expect(runOptionsFromArgs({ 'write-vector': 'add' }).model).toEqual({ writeVector: 'add' });
    expect(runOptionsFromArgs({ 'write-vector': 'key' }).model).toEqual({ writeVector: 'key' });
    expect(() => runOptionsFromArgs({ 'write-vector': 'value' })).toThrow(/write-vector.*key.*add/);
  });

  it('--clearing chooses which least-used slots LRUA zeroes, also on a resumed run', () => {
    expect(runOptionsFromArgs({ clearing: 'all-least-used' }).model).toEqual({ clearing: 'all-least-used' });
    const saved = runOptionsFromArgs({ 'write-vector': 'add' });
    expect(runOptionsFromArgs({ clearing: 'least-used' }, saved).model).toEqual({ writeVector: 'add', clearing: 'least-used' });
    expect(() => runOptionsFromArgs({ clearing: 'one' })).toThrow(/clearing.*least-used.*all-least-used/);
  });

  it('keeps a resumed run\'s options unless told otherwise', () => {
    const base = runOptionsFromArgs({ units: '64', lr: '0.003', steps: '100' });
    const resumed = runOptionsFromArgs({ steps: '200' }, base);
    expect(resumed).toMatchObject({ steps: 200, learningRate: 0.003, model: { controllerUnits: 64 } });
    // --no-affine can be given to a resumed run, and sticks to it; --no-augment turns the affine off too.
    const clean = runOptionsFromArgs({ 'no-affine': true }, base);
    expect(clean).toMatchObject({ augment: true, affine: false });
    expect(runOptionsFromArgs({}, clean)).toMatchObject({ augment: true, affine: false });
    expect(runOptionsFromArgs({ 'no-augment': true })).toMatchObject({ augment: false, affine: false });
    // Runs saved before the option existed had the affine on.
    const { affine: _, ...older } = base;
    expect(runOptionsFromArgs({}, older).affine).toBe(true);
  });
});

describe('imageAsText', () => {
  it('draws ink as full blocks, two characters per pixel', () => {
    expect(imageAsText([0, 1, 0.5, 0], 2)).toEqual(['  ██', '▒▒  ']);
  });
});
