import * as tf from '@tensorflow/tfjs';
import { pathToFileURL } from 'node:url';
import { syntheticDataset } from '../src/engine/data/synthetic';
import type { EngineEvent } from '../src/engine/events';
import { experimentSchema, type ScheduleName } from '../src/engine/experiment';
import { disposeModel } from '../src/engine/models';
import { runExperiment } from '../src/engine/train/run';
import { installFastCpuKernels } from '../src/engine/kernels/install';
import type { BenchOptions, FigureInput } from './common';

/**
 * Abrupt vs DPM Smooth Pruning vs SP + Self-Rectifying on the same model, data, seeds and
 * target. Prints one JSON line per run and a markdown table of the means; returns figures.
 */
export interface CompareSettings {
  seeds: number[];
  trainSize: number;
  /** Test images per seed (enough that one image is a small fraction of a point). */
  testSize?: number;
  epochs: number;
  batchSize: number;
  target: number;
  pruner: 'depgraph' | 'otov2' | 'gate';
  /** Which schedules to run (all three by default). */
  schedules?: ScheduleName[];
  /** Self-Rectifying thresholds (the experiment defaults when absent). */
  tRate?: number;
  tLen?: number;
}

export const QUICK: CompareSettings = { seeds: [1, 2, 3], trainSize: 200, epochs: 2, batchSize: 20, target: 0.5, pruner: 'depgraph' };

interface Row {
  schedule: ScheduleName;
  seed: number;
  testAcc: number;
  testLoss: number;
  /** Lowest end-of-epoch test accuracy from the first pruning point on: the dip. */
  minAcc: number;
  flops: number;
  params: number;
  rectifications: number;
  seconds: number;
}

export async function compare(s: CompareSettings, log: (line: string) => void = console.log): Promise<Row[]> {
  const rows: Row[] = [];
  for (const seed of s.seeds) {
    const dataset = syntheticDataset({ trainSize: s.trainSize, testSize: s.testSize, seed });
    const spe = Math.floor(s.trainSize / s.batchSize);
    const total = spe * s.epochs;
    for (const schedule of s.schedules ?? (['abrupt', 'sp', 'sr'] as const)) {
      const config = experimentSchema.parse({
        data: { dataset: 'synthetic', syntheticSize: Math.max(100, s.trainSize), augment: false },
        train: { model: 'tiny', epochs: s.epochs, batchSize: s.batchSize, lr: 0.05, seed, lrSchedule: 'cosine' },
        prune: {
          pruner: s.pruner,
          schedule,
          target: s.target,
          startAt: 0.25,
          points: 2,
          every: Math.max(1, Math.round(total * 0.15)),
          decaySteps: Math.max(2, Math.round(total * 0.15)),
          ...(s.tRate === undefined ? {} : { tRate: s.tRate }),
          ...(s.tLen === undefined ? {} : { tLen: s.tLen }),
          telemetryEvery: 1000,
        },
        backend: 'cpu',
      });
      let rect = 0;
      let pruning = false;
      let minAcc = 1;
      const emit = (e: EngineEvent): void => {
        if (e.type === 'rectify') rect++;
        if (e.type === 'prune') pruning = true;
        if (e.type === 'epoch' && pruning) minAcc = Math.min(minAcc, e.testAcc);
      };
      const summary = await runExperiment(config, { dataset, emit, backend: 'cpu' });
      if (summary.slimModel) disposeModel(summary.slimModel);
      const row: Row = { schedule, seed, testAcc: summary.testAcc, testLoss: summary.testLoss, minAcc, flops: summary.flopsFraction, params: summary.paramsFraction, rectifications: rect, seconds: summary.seconds };
      rows.push(row);
      log(JSON.stringify({ bench: 'dpm-compare', model: 'tiny', pruner: s.pruner, steps: total, ...row }));
    }
  }
  return rows;
}

export function table(rows: Row[]): string {
  const lines = ['| schedule | test acc % (mean ± sd) | test loss (mean) | lowest epoch acc % after pruning starts (mean) | FLOPs % | params % | rectifications (mean) | runs |', '|---|---|---|---|---|---|---|---|'];
  for (const schedule of ['abrupt', 'sp', 'sr'] as const) {
    const r = rows.filter((x) => x.schedule === schedule);
    if (!r.length) continue;
    const mean = (f: (x: Row) => number): number => r.reduce((a, x) => a + f(x), 0) / r.length;
    const m = mean((x) => x.testAcc);
    const sd = Math.sqrt(r.reduce((a, x) => a + (x.testAcc - m) ** 2, 0) / Math.max(1, r.length - 1));
    lines.push(`| ${schedule} | ${(100 * m).toFixed(1)} ± ${(100 * sd).toFixed(1)} | ${mean((x) => x.testLoss).toFixed(3)} | ${(100 * mean((x) => x.minAcc)).toFixed(1)} | ${(100 * mean((x) => x.flops)).toFixed(1)} | ${(100 * mean((x) => x.params)).toFixed(1)} | ${mean((x) => x.rectifications).toFixed(1)} | ${r.length} |`);
  }
  return lines.join('\n');
}

/** Benchmark-runner entry (bench/common.ts contract). */
export async function run(opts: BenchOptions): Promise<FigureInput[]> {
  const settings = opts.quick ? { ...QUICK, seeds: [1], trainSize: 100, epochs: 1 } : QUICK;
  const rows = await compare(settings, () => undefined);
  const out: FigureInput[] = [];
  for (const schedule of ['abrupt', 'sp', 'sr'] as const) {
    const r = rows.filter((x) => x.schedule === schedule);
    const mean = (f: (x: Row) => number): number => r.reduce((a, x) => a + f(x), 0) / r.length;
    out.push({ figure: `test accuracy, ${schedule}`, value: mean((x) => x.testAcc), unit: 'fraction', model: 'tiny', note: `${r.length} seeds, synthetic data` });
    out.push({ figure: `FLOPs kept, ${schedule}`, value: mean((x) => x.flops), unit: 'fraction', model: 'tiny' });
    out.push({ figure: `rectifications, ${schedule}`, value: mean((x) => x.rectifications), unit: 'count', model: 'tiny' });
  }
  return out;
}

function parseSchedules(list: string | undefined): ScheduleName[] | undefined {
  if (list === undefined) return undefined;
  const names = list.split(',');
  const bad = names.filter((n) => n !== 'abrupt' && n !== 'sp' && n !== 'sr');
  if (bad.length) throw new Error(`--schedules takes a comma-separated list of abrupt, sp, sr (got ${bad.join(', ')})`);
  return names as ScheduleName[];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  installFastCpuKernels();
  await tf.setBackend('cpu');
  const arg = (name: string, fallback: number): number => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const str = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const pruner = str('pruner') ?? QUICK.pruner;
  if (pruner !== 'depgraph' && pruner !== 'otov2' && pruner !== 'gate') throw new Error('--pruner must be depgraph, otov2 or gate');
  const num = (name: string): number | undefined => (str(name) === undefined ? undefined : Number(str(name)));
  const rows = await compare({
    seeds: (str('seeds') ?? '1,2,3').split(',').map(Number),
    schedules: parseSchedules(str('schedules')),
    tRate: num('t-rate'),
    tLen: num('t-len'),
    trainSize: arg('train', QUICK.trainSize),
    testSize: arg('test', 1000),
    epochs: arg('epochs', QUICK.epochs),
    batchSize: arg('batch', QUICK.batchSize),
    target: arg('target', QUICK.target),
    pruner,
  });
  console.log(table(rows));
}
