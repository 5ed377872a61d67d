import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { z } from '../src/engine/zod';
import { MODEL_NAMES, type ModelName } from '../src/engine/experiment';

/**
 * The contract every benchmark follows. A benchmark module exports
 * `run(opts: BenchOptions): Promise<FigureInput[]>`; the runner (bench/run.ts) has already set
 * up the tfjs backend, and stamps each figure with the benchmark's name, the backend, the
 * device and the date before printing it as one JSON line.
 */

export const NODE_BACKENDS = ['cpu', 'webgpu'] as const;
export type NodeBackend = (typeof NODE_BACKENDS)[number];

export interface BenchOptions {
  backend: NodeBackend;
  /** Restrict to one model (default: the benchmark's own list). */
  model?: ModelName;
  /** Override the batch size. */
  batch?: number;
  /** Tiny sizes and a couple of steps: proves the code path, measures nothing. */
  quick: boolean;
  /** Overrides of the timing plan: warm-up steps, timed windows, steps per window. */
  warmup?: number;
  windows?: number;
  steps?: number;
  /** slim-speedup: kept fraction of the dense FLOPs. */
  target?: number;
  /** ui-responsiveness: seconds of training to watch. */
  seconds?: number;
}

/** What a benchmark returns for one figure. */
export interface FigureInput {
  figure: string;
  value: number;
  unit: string;
  model?: string;
  batch?: number;
  /** How it was measured when that differs from the default, or what limits the figure. */
  note?: string;
  /** Which configuration of the benchmark, when it measures several (e.g. "plain" / "dpm"). */
  variant?: string;
  /** WebGPU only: "fast" (our kernels and fused ops) or "stock" (tfjs 4.22's own), see setFastWebGpu. */
  kernels?: 'fast' | 'stock';
  /** A figure's parts by name (e.g. dispatches per kernel), largest first. */
  breakdown?: Record<string, number>;
}

/** One printed JSON line. */
export interface Figure extends FigureInput {
  bench: string;
  backend: string;
  device: string;
  date: string;
}

export type BenchRun = (opts: BenchOptions) => Promise<FigureInput[]>;

/**
 * Benchmarks are written by several people; the runner checks what comes back rather than
 * trusting it. Fields a benchmark sets itself (backend, device, date) are kept.
 */
export const figureInputSchema = z.object({
  figure: z.string().min(1),
  value: z.number().refine(Number.isFinite, 'value must be a finite number'),
  unit: z.string().min(1),
  model: z.string().optional(),
  batch: z.number().int().positive().optional(),
  note: z.string().optional(),
  variant: z.string().optional(),
  kernels: z.enum(['fast', 'stock']).optional(),
  breakdown: z.record(z.string(), z.number()).optional(),
  bench: z.string().optional(),
  backend: z.string().optional(),
  device: z.string().optional(),
  date: z.string().optional(),
});

export const figureSchema = figureInputSchema.required({ bench: true, backend: true, device: true, date: true });

export function stampFigures(bench: string, raw: unknown, stamp: { backend: string; device: string; date: string }): Figure[] {
  if (!Array.isArray(raw)) throw new Error(`benchmark ${bench}: run() must resolve to an array of figures (see bench/common.ts), got ${typeof raw}`);
  return raw.map((r, i) => {
    const parsed = figureInputSchema.safeParse(r);
    if (!parsed.success) throw new Error(`benchmark ${bench}: figure ${i} is malformed: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    return { ...stamp, ...parsed.data, bench } as Figure;
  });
}

export function isModelName(s: string): s is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(s);
}

/** "webgpu: google swiftshader (SwiftShader driver 5.0.0); CPU: AMD EPYC x2" — what ran the figures. */
export async function deviceString(backend: NodeBackend): Promise<string> {
  const cpu = cpus();
  const host = `CPU: ${(cpu[0]?.model ?? 'unknown').trim()} x${cpu.length}`;
  if (backend !== 'webgpu') return `${backend}; ${host}`;
  const adapter = await globalThis.navigator?.gpu?.requestAdapter();
  const info = adapter?.info;
  // GPUAdapterInfo's fields are prototype getters: spread/JSON would lose them.
  const parts = info ? [info.vendor, info.architecture, info.device, info.description].filter((s) => s && s.length > 0) : [];
  return `webgpu: ${parts.length > 0 ? [...new Set(parts)].join(' / ') : 'unknown adapter'}; ${host}`;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface TimingPlan {
  warmup: number;
  windows: number;
  stepsPerWindow: number;
}

/** A benchmark's default plan with the command line's --model/--batch/--warmup/--windows/--steps applied. */
export function withOverrides<P extends TimingPlan & { models: ModelName[]; batch: number }>(plan: P, opts: BenchOptions): P {
  return {
    ...plan,
    models: opts.model ? [opts.model] : plan.models,
    batch: opts.batch ?? plan.batch,
    warmup: opts.warmup ?? plan.warmup,
    windows: opts.windows ?? plan.windows,
    stepsPerWindow: opts.steps ?? plan.stepsPerWindow,
  };
}

/**
 * Waits until the device has really finished: the backend queues work and returns at once, so
 * the clock only stops after a value that depends on the last step has been read back.
 */
export async function settle(t: tf.Tensor): Promise<void> {
  const s = tf.tidy(() => tf.sum(t));
  await s.data();
  s.dispose();
}

/**
 * Runs `step` for the warm-up steps, then times `windows` windows of `stepsPerWindow` steps,
 * each closed by `sync()` (an awaited readback). Returns every window's seconds.
 */
export async function timeWindows(plan: TimingPlan, step: () => Promise<void>, sync: () => Promise<void>, afterWindow?: () => void): Promise<number[]> {
  for (let i = 0; i < plan.warmup; i++) await step();
  await sync();
  const seconds: number[] = [];
  for (let w = 0; w < plan.windows; w++) {
    const t0 = performance.now();
    for (let i = 0; i < plan.stepsPerWindow; i++) await step();
    await sync();
    seconds.push((performance.now() - t0) / 1000);
    afterWindow?.();
  }
  return seconds;
}

/** "median of 5 windows x 10 steps (range 1180-1260 images/s)" */
export function windowNote(plan: TimingPlan, rates: readonly number[], unit: string): string {
  const lo = Math.min(...rates);
  const hi = Math.max(...rates);
  return `median of ${plan.windows} windows x ${plan.stepsPerWindow} steps after ${plan.warmup} warm-up (range ${fmt(lo)}-${fmt(hi)} ${unit})`;
}

/** A fixed random batch: the benchmarks time compute, not data loading (bench/data-load does that). */
export function randomBatch(batch: number, shape: readonly [number, number, number], numClasses: number, seed = 1): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => ({
    x: tf.randomNormal([batch, ...shape], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.tensor1d(Array.from({ length: batch }, (_v, i) => (i * 7 + seed) % numClasses), 'int32'),
  }));
}

export function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** The readable table printed after the JSON lines. */
export function formatTable(figures: readonly Figure[]): string {
  const head = ['bench', 'model', 'batch', 'variant', 'figure', 'value', 'unit'];
  const rows = figures.map((f) => [
    f.bench,
    f.model ?? '',
    f.batch === undefined ? '' : String(f.batch),
    [f.variant, f.kernels].filter(Boolean).join('/'),
    f.figure,
    fmt(f.value),
    f.unit,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(line(r));
  const notes = [...new Set(figures.map((f) => f.note).filter((n): n is string => !!n))];
  if (notes.length > 0) out.push('', ...notes.map((n) => `note: ${n}`));
  if (figures.length > 0) out.push('', `device: ${figures[0].device}`, `date: ${figures[0].date}`);
  return out.join('\n');
}
