import { stampFigures, type BenchOptions, type Figure } from './common';

/**
 * Every benchmark the runner knows. Adding one is one line: a name, what it measures, and a
 * lazy import of a module exporting `run(opts: BenchOptions): Promise<FigureInput[]>`
 * (bench/common.ts). Lazy, so that `npm run bench -- slim-speedup` never loads Playwright.
 * `browser: true` marks benchmarks that drive a real browser instead of a Node tfjs backend:
 * the runner sets up no backend for them and the smoke test leaves them out.
 */
export interface BenchEntry {
  about: string;
  load: () => Promise<{ run: (opts: BenchOptions) => unknown }>;
  browser?: boolean;
  /** Leave out of the smoke test: even its quick mode takes minutes on the CPU backend. */
  slowQuick?: boolean;
}

export const BENCHES: Record<string, BenchEntry> = {
  'train-throughput': { about: 'images/s of a full training step (forward, backward, SGD update)', load: () => import('./train-throughput') },
  'slim-speedup': { about: 'inference speed-up of a slimmed model against its FLOPs reduction', load: () => import('./slim-speedup') },
  'data-load': { about: 'CIFAR-10 parsing speed from .bin files, .tar and .tar.gz', load: () => import('./data-load') },
  'dpm-overhead': { about: 'cost per step of DPM bookkeeping (decay, criteria, telemetry)', load: () => import('./dpm-overhead') },
  dispatches: { about: 'GPU dispatches per training step by kernel, plain and with DPM (webgpu); conv-gradient serial work', load: () => import('./dispatches') },
  'dpm-compare': { about: 'abrupt vs DPM smooth vs self-rectifying pruning: accuracy, FLOPs kept', load: () => import('./dpm-compare'), slowQuick: true },
  'sr-criteria': { about: 'Self-Rectifying: channels passing the default thresholds at several lr and N (old C_rate for comparison)', load: () => import('./sr-criteria'), slowQuick: true },
  'ui-responsiveness': { about: 'longest main-thread task while the app trains (Playwright, Chromium)', load: () => import('./ui-responsiveness'), browser: true },
};

export const BENCH_NAMES = Object.keys(BENCHES);

/** Runs one registered benchmark and checks and stamps what it returns. */
export async function runRegistered(name: string, opts: BenchOptions, stamp: { backend: string; device: string; date: string }): Promise<Figure[]> {
  const entry = BENCHES[name];
  if (!entry) throw new Error(`unknown benchmark "${name}"; known: ${BENCH_NAMES.join(', ')}`);
  const mod = await entry.load();
  return stampFigures(name, await mod.run(opts), stamp);
}
