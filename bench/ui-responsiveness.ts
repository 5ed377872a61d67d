import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config';
import { defaultExperiment, type ExperimentConfig } from '../src/engine/experiment';
import { encode } from '../src/url/codec';
import type { BenchOptions, FigureInput } from './common';

/**
 * Does training keep the page responsive? Builds the app, serves it with `vite preview`,
 * opens it in Chromium (WebGPU on, SwiftShader where there is no GPU), starts a tiny-model run
 * through the UI's own Start button and, while it trains, records every main-thread task over
 * 50 ms (PerformanceObserver 'longtask', registered before any page script runs), long
 * animation frames where the browser has them, the largest gap between animation frames, and
 * how long a trivial script takes to get onto the main thread. The engine runs in a Web Worker,
 * so none of these should grow with the model; the target is no task over 50 ms.
 */

export const PORT = 4174;
const ROOT = resolve(import.meta.dirname, '..');
const VITE = resolve(ROOT, 'node_modules/vite/bin/vite.js');
const LONG_TASK_MS = 50;

/** Small enough to train at a few images/s on SwiftShader; pruning points fall inside the window. */
export function benchConfig(opts: BenchOptions): ExperimentConfig {
  const c = defaultExperiment();
  c.train.model = opts.model ?? 'tiny';
  c.train.batchSize = opts.batch ?? 16;
  c.train.epochs = 2;
  c.data.syntheticSize = 160;
  c.prune = { ...c.prune, startAt: 0.2, points: 2, every: 4, decaySteps: 4 };
  return c;
}

interface PageStats {
  tasks: { start: number; duration: number }[];
  frames: { start: number; duration: number; blocking: number; script: string }[];
  maxFrameGap: number;
}

declare global {
  interface Window {
    __bench?: { tasks: PageStats['tasks']; frames: PageStats['frames']; lastFrame: number; gaps: { at: number; gap: number }[] };
  }
}

/**
 * Runs in the page before its own scripts, so every long task from load on is seen. A string,
 * not a function: tsx compiles functions with name-keeping helpers the page does not have.
 */
const OBSERVERS = `(() => {
  const b = { tasks: [], frames: [], lastFrame: performance.now(), gaps: [] };
  window.__bench = b;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) b.tasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame')) {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const top = [...(e.scripts || [])].sort((x, y) => y.duration - x.duration)[0];
        const script = top ? (top.invoker || '?') + ' in ' + (top.sourceFunctionName || '?') + ' (' + (top.sourceURL || '').split('/').pop() + ') ' + Math.round(top.duration) + ' ms' : '';
        b.frames.push({ start: e.startTime, duration: e.duration, blocking: e.blockingDuration || 0, script });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  }
  const tick = (t) => {
    b.gaps.push({ at: t, gap: t - b.lastFrame });
    if (b.gaps.length > 4096) b.gaps.splice(0, 2048);
    b.lastFrame = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

export async function run(opts: BenchOptions): Promise<FigureInput[]> {
  const seconds = opts.seconds ?? (opts.quick ? 15 : 60);
  if (process.env.UI_BENCH_NO_BUILD !== '1') build();
  const server = await startPreview();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.addInitScript({ content: OBSERVERS });
    const config = benchConfig(opts);
    await page.goto(`http://127.0.0.1:${PORT}/?${encode(config)}`);
    const start = await findStart(page);
    await start.waitFor({ state: 'visible', timeout: 30_000 });
    // The same watch on the idle page first: on a shared or emulated machine its figures are the floor.
    const idle = await watch(page, opts.quick ? 5 : 15);
    const stepsBefore = await readSteps(page);
    await start.click();
    const busy = await watch(page, seconds);
    const stepsAfter = await readSteps(page);
    const stats = busy.stats;
    const device = await browserDevice(page);
    const backendBadge = (await page.getByTestId('backend-badge').textContent().catch(() => null))?.trim() || 'unknown';
    const stamp = { backend: `browser ${backendBadge}`, device, model: config.train.model, batch: config.train.batchSize };
    const trained = stepsAfter - stepsBefore;
    const longest = [...stats.frames].sort((a, b) => b.duration - a.duration)[0];
    const notes = [
      `${seconds} s of training observed after clicking Start; ${trained} training steps completed in that time`,
      ...(trained <= 0 ? ['no training step completed: the figures describe an idle or failed page'] : []),
      ...(longest?.script ? [`longest animation frame's main script: ${longest.script}`] : []),
      ...(pageErrors.length > 0 ? [`page errors: ${pageErrors.slice(0, 3).join(' | ')}`] : []),
    ];
    const figures: FigureInput[] = [
      { ...stamp, figure: 'longest main-thread task', value: Math.max(0, ...stats.tasks.map((t) => t.duration)), unit: 'ms', note: notes.join('; ') },
      { ...stamp, figure: `tasks > ${LONG_TASK_MS} ms`, value: stats.tasks.filter((t) => t.duration > LONG_TASK_MS).length, unit: 'count' },
      { ...stamp, figure: 'longest gap between animation frames', value: stats.maxFrameGap, unit: 'ms' },
      { ...stamp, figure: 'slowest main-thread probe round trip', value: busy.maxProbe, unit: 'ms' },
      { ...stamp, figure: 'training steps observed', value: trained, unit: 'steps' },
      { ...stamp, figure: 'idle page: longest main-thread task', value: Math.max(0, ...idle.stats.tasks.map((t) => t.duration)), unit: 'ms' },
      { ...stamp, figure: 'idle page: slowest main-thread probe round trip', value: idle.maxProbe, unit: 'ms' },
    ];
    if (stats.frames.length > 0 || (await supportsLoaf(page))) {
      figures.push({ ...stamp, figure: 'longest animation frame', value: Math.max(0, ...stats.frames.map((f) => f.duration)), unit: 'ms' });
    }
    return figures;
  } finally {
    await browser.close();
    server.kill('SIGTERM');
  }
}

/**
 * Watches the page for `seconds`: the long tasks and frames that start meanwhile, the largest
 * gap between animation frames, and the slowest round trip of a trivial evaluate (which has to
 * wait for the main thread: input latency's floor).
 */
async function watch(page: Page, seconds: number): Promise<{ stats: PageStats; maxProbe: number }> {
  const since = await page.evaluate(() => performance.now());
  let maxProbe = 0;
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const p0 = performance.now();
    await page.evaluate(() => 0);
    maxProbe = Math.max(maxProbe, performance.now() - p0);
    await page.waitForTimeout(200);
  }
  const stats = await page.evaluate((since): PageStats => {
    const b = window.__bench!;
    return {
      tasks: b.tasks.filter((t) => t.start >= since),
      frames: b.frames.filter((f) => f.start >= since),
      maxFrameGap: Math.max(0, ...b.gaps.filter((g) => g.at >= since).map((g) => g.gap)),
    };
  }, since);
  return { stats, maxProbe };
}

function build(): void {
  const r = spawnSync(process.execPath, [VITE, 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status}):\n${(r.stderr || r.stdout).slice(-3000)}`);
}

async function startPreview(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [VITE, 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`vite preview exited (${child.exitCode}): ${stderr.slice(-2000)}`);
    try {
      const r = await fetch(`http://127.0.0.1:${PORT}/`);
      if (r.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  child.kill('SIGTERM');
  throw new Error(`vite preview did not answer on port ${PORT} within 30 s: ${stderr.slice(-2000)}`);
}

/** The UI's Start button: its test id, or failing that any button named Start. */
async function findStart(page: Page) {
  const byId = page.getByTestId('start-button');
  const byName = page.getByRole('button', { name: /^\s*start/i });
  try {
    await byId.or(byName).first().waitFor({ state: 'visible', timeout: 30_000 });
  } catch {
    throw new Error('the app shows no Start button (data-testid="start-button" or a button named Start) within 30 s');
  }
  return byId.or(byName).first();
}

/** The run's step counter (data-testid="step-count"); 0 where the UI has none. */
async function readSteps(page: Page): Promise<number> {
  const el = page.getByTestId('step-count');
  if ((await el.count()) === 0) return 0;
  const n = Number((await el.first().textContent())?.replace(/[^0-9]/g, ''));
  return Number.isFinite(n) ? n : 0;
}

async function supportsLoaf(page: Page): Promise<boolean> {
  return page.evaluate(() => PerformanceObserver.supportedEntryTypes.includes('long-animation-frame'));
}

async function browserDevice(page: Page): Promise<string> {
  const gpu = await page.evaluate(async () => {
    const nav = navigator as Navigator & { gpu?: GPU };
    const a = await nav.gpu?.requestAdapter();
    if (!a) return 'no WebGPU adapter';
    const i = a.info;
    return [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(' / ');
  });
  const version = page.context().browser()?.version() ?? 'unknown';
  return `Chromium ${version}, WebGPU: ${gpu}; CPU: ${(cpus()[0]?.model ?? 'unknown').trim()} x${cpus().length}`;
}
