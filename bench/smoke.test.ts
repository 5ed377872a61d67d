import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWebGpuBackend } from '../src/engine/kernels/webgpu/test-util';
import { buildModelDef } from '../src/engine/models';
import { convCases, worstInvocation } from './dispatches';
import { stockConvGradGeometry } from '../src/engine/kernels/webgpu/conv-geometry';
import { figureSchema, formatTable, median, stampFigures, type BenchOptions, type Figure } from './common';
import { BENCHES, runRegistered } from './registry';
import { parseBenchArgs } from './run';

/**
 * Keeps the harness from rotting: every Node benchmark in the registry runs in quick mode on
 * the CPU backend at the smallest sizes and must return well-formed figures. Nothing here is
 * a speed target.
 */

const STAMP = { backend: 'cpu', device: 'cpu; smoke test', date: '2026-11-25T00:00:00.000Z' };
/** The smallest run every benchmark accepts: one timed step, batch 1. */
const SMALLEST: BenchOptions = { backend: 'cpu', quick: true, batch: 1, warmup: 0, windows: 1, steps: 1 };
/** Units whose figures cannot be zero or negative whatever the timing noise. */
const POSITIVE_UNITS = new Set(['images/s', 'ms', 's', 'bytes', 'MB', 'MACs/image', 'params', 'x', 'MACs', 'dispatches']);

function checkFigures(bench: string, figures: Figure[]): void {
  expect(figures.length).toBeGreaterThan(0);
  for (const f of figures) {
    expect(figureSchema.safeParse(f).success, JSON.stringify(f)).toBe(true);
    expect(f.bench).toBe(bench);
    expect(Number.isFinite(f.value), `${f.figure} = ${f.value}`).toBe(true);
    if (POSITIVE_UNITS.has(f.unit)) expect(f.value, `${bench}: ${f.figure}`).toBeGreaterThan(0);
  }
}

async function runChecked(name: string, opts: BenchOptions): Promise<Figure[]> {
  const before = tf.memory().numTensors;
  const figures = await runRegistered(name, opts, STAMP);
  checkFigures(name, figures);
  // A benchmark that leaks tensors would distort every benchmark run after it.
  expect(tf.memory().numTensors).toBe(before);
  return figures;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('benchmark registry in quick mode (cpu)', () => {
  const names = Object.entries(BENCHES)
    .filter(([, e]) => !e.browser && !e.slowQuick)
    .map(([n]) => n);

  it('covers the core benchmarks', () => {
    expect(names).toEqual(expect.arrayContaining(['train-throughput', 'slim-speedup']));
  });

  // The two below get their own, closer tests.
  const others = names.filter((n) => n !== 'train-throughput' && n !== 'slim-speedup');
  it.each(others)('%s returns well-formed figures', async (name) => {
    await runChecked(name, SMALLEST);
  });

  it('train-throughput reports a training rate and its memory per model', async () => {
    const figures = await runChecked('train-throughput', { ...SMALLEST, model: 'tiny', batch: 2 });
    const names = figures.map((f) => f.figure);
    expect(names).toEqual(expect.arrayContaining(['train images/s', 'step time', 'tensor memory peak', 'JS heap peak']));
    const rate = figures.find((f) => f.figure === 'train images/s')!;
    const step = figures.find((f) => f.figure === 'step time')!;
    expect(rate.model).toBe('tiny');
    expect(rate.batch).toBe(2);
    // One window of one step: images/s and ms/step are two views of the same clock.
    expect(rate.value * (step.value / 1000)).toBeCloseTo(2, 6);
  });

  it('slim-speedup slims to about the FLOPs target it was given', async () => {
    const figures = await runChecked('slim-speedup', { ...SMALLEST, target: 0.5 });
    const get = (n: string) => figures.find((f) => f.figure === n)!.value;
    expect(get('slim MACs')).toBeLessThanOrEqual(0.5 * get('dense MACs'));
    expect(get('FLOPs reduction')).toBeCloseTo(get('dense MACs') / get('slim MACs'), 9);
    expect(get('speed-up / FLOPs reduction')).toBeCloseTo(get('measured speed-up') / get('FLOPs reduction'), 9);
    // Rounding channel counts up to a multiple of 4 gives channels back: less reduction, never more.
    expect(get('slim x4 FLOPs reduction')).toBeGreaterThan(1);
    expect(get('slim x4 FLOPs reduction')).toBeLessThanOrEqual(get('FLOPs reduction'));
  });
});

describe('figure contract', () => {
  it('keeps what a benchmark stamped itself and rejects malformed figures', () => {
    const [f] = stampFigures('x', [{ figure: 'a', value: 1, unit: 's', backend: 'none' }], STAMP);
    expect(f).toMatchObject({ bench: 'x', backend: 'none', device: STAMP.device, date: STAMP.date });
    expect(() => stampFigures('x', [{ figure: 'a', value: Number.NaN, unit: 's' }], STAMP)).toThrow(/malformed/);
    expect(() => stampFigures('x', [{ figure: 'a', unit: 's' }], STAMP)).toThrow(/malformed/);
    expect(() => stampFigures('x', undefined, STAMP)).toThrow(/must resolve to an array/);
  });

  it('prints a table with every figure', () => {
    const figures = stampFigures('b', [{ figure: 'rate', value: 1234.5, unit: 'images/s', model: 'tiny', batch: 4, note: 'n1' }], STAMP);
    const t = formatTable(figures);
    expect(t).toMatch(/rate\s+1235\s+images\/s/);
    expect(t).toContain('note: n1');
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});

describe('command line', () => {
  it('parses options and refuses bad ones', () => {
    const a = parseBenchArgs(['train-throughput', '--backend', 'webgpu', '--model', 'resnet56', '--batch', '64', '--quick']);
    expect(a.names).toEqual(['train-throughput']);
    expect(a.opts).toMatchObject({ backend: 'webgpu', model: 'resnet56', batch: 64, quick: true });
    expect(parseBenchArgs(['all']).names).toEqual(Object.keys(BENCHES));
    expect(() => parseBenchArgs(['nope'])).toThrow(/unknown benchmark/);
    expect(() => parseBenchArgs(['slim-speedup', '--backend', 'webgl'])).toThrow(/--backend/);
    expect(() => parseBenchArgs(['slim-speedup', '--model', 'resnet18'])).toThrow(/unknown model/);
    expect(() => parseBenchArgs(['slim-speedup', '--batch', '0'])).toThrow(/--batch/);
    expect(() => parseBenchArgs(['slim-speedup', '--target', '1.5'])).toThrow(/--target/);
    expect(() => parseBenchArgs([])).toThrow(/usage/);
    expect(parseBenchArgs(['train-throughput', '--backend', 'webgpu', '--kernels', 'both']).kernels).toEqual(['fast', 'stock']);
    expect(parseBenchArgs(['train-throughput', '--backend', 'webgpu']).kernels).toBeUndefined();
    expect(() => parseBenchArgs(['train-throughput', '--kernels', 'stock'])).toThrow(/needs --backend webgpu/);
    expect(() => parseBenchArgs(['train-throughput', '--backend', 'webgpu', '--kernels', 'mine'])).toThrow(/--kernels/);
  });

  it('prints one JSON line per figure, then the table', async () => {
    const root = resolve(import.meta.dirname, '..');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [resolve(root, 'node_modules/tsx/dist/cli.mjs'), 'bench/run.ts', 'slim-speedup', '--quick', '--batch', '1', '--warmup', '0', '--windows', '1'],
      { cwd: root, timeout: 30_000 },
    );
    const lines = stdout.split('\n');
    const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Figure);
    checkFigures('slim-speedup', json);
    for (const f of json) expect(f.device).toMatch(/^cpu; CPU: /);
    expect(stdout).toMatch(/bench\s+model\s+batch\s+variant\s+figure\s+value\s+unit/);
  });
});

describe('dispatches: conv gradient geometry', () => {
  it('walks every conv of the model with its input size', () => {
    const def = buildModelDef('resnet56');
    const cases = convCases('resnet56', 128);
    // 55 3x3 convs and the two strided 1x1 projections of option-B shortcuts.
    expect(cases).toHaveLength(def.ops.filter((o) => o.kind === 'conv').length);
    expect(cases).toHaveLength(57);
    expect(cases[0].c).toEqual({ batch: 128, inH: 32, inW: 32, inC: 3, outC: 16, k: 3, stride: 1, inputGrad: false });
    expect(cases.slice(1).every((x) => (x.c as { inputGrad?: boolean }).inputGrad === true)).toBe(true);
    const down = cases.filter((x) => x.c.k === 1);
    expect(down.map((x) => [x.c.inH, x.c.inC, x.c.outC, x.c.stride])).toEqual([
      [32, 16, 32, 2],
      [16, 32, 64, 2],
    ]);
  });

  it("finds stock tfjs's worst invocation: a filter-gradient weight looping over batch x 32 x 32", () => {
    const w = worstInvocation('resnet56', 128, stockConvGradGeometry);
    expect(w.program.serialMacs).toBe(128 * 32 * 32);
    expect(w.program.program).toMatch(/BackpropFilter/);
    // Of the convs tied at that count, the stem has the fewest weights, so the fewest invocations.
    expect(w.conv).toBe('stem');
    expect(w.program.invocations).toBe(3 * 3 * 3 * 16);
  });
});

describe('dispatches on WebGPU (tiny model, SwiftShader)', () => {
  beforeAll(useWebGpuBackend, 60_000);
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('counts one step, plain and with DPM, fast and stock, by kernel', async () => {
    const figures = await runChecked('dispatches', { backend: 'webgpu', quick: true, model: 'tiny', batch: 2, warmup: 1 });
    const pick = (figure: string, variant: string, kernels: string) => {
      const f = figures.find((x) => x.figure === figure && x.variant === variant && x.kernels === kernels);
      expect(f, `${figure} ${variant}/${kernels}`).toBeDefined();
      return f!;
    };
    const convs = buildModelDef('tiny').ops.filter((o) => o.kind === 'conv').length;
    for (const variant of ['plain', 'dpm']) {
      for (const kernels of ['fast', 'stock']) {
        const total = pick('dispatches_per_step', variant, kernels);
        const breakdown = total.breakdown!;
        expect(Object.values(breakdown).reduce((a, b) => a + b, 0)).toBe(total.value);
        expect(pick('dispatches_with_at_most_4_workgroups', variant, kernels).value).toBeLessThanOrEqual(total.value);
        if (kernels === 'stock') {
          // tfjs's own programs: one filter gradient per conv, one input gradient per conv but the stem (its input is the image).
          expect(breakdown.Conv2DDerFilterProgram).toBe(convs);
          expect(breakdown.Conv2DDerInputProgram).toBe(convs - 1);
        }
      }
    }
    for (const kernels of ['fast', 'stock']) {
      const plain = pick('dispatches_per_step', 'plain', kernels).value;
      const dpm = pick('dispatches_per_step', 'dpm', kernels).value;
      expect(dpm).toBeGreaterThan(plain);
      const extra = figures.find((x) => x.figure === 'dpm_extra_dispatches' && x.kernels === kernels)!;
      expect(extra.value).toBeCloseTo((dpm - plain) / plain, 12);
    }
    expect(figures.filter((x) => x.figure === 'max_serial_macs_per_invocation').map((x) => x.model)).toEqual(expect.arrayContaining(['resnet56', 'vgg16']));
  }, 180_000);
});
