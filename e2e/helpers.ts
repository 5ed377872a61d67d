import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';
import { EMPTY_RGB } from '../src/ui/decay/colormap';
import { makeCifarFixtureArchive, type FixtureOptions } from '../src/engine/data/fixture';
import { BASE_URL, CHROMIUM_ARGS } from '../playwright.config';

/**
 * Shared by the specs. SwiftShader emulates the GPU on the CPU, so every run here is the tiny
 * model on a hundred-odd images, and waits are keyed on what the page shows, never on time.
 */

export { BASE_URL };

/** What playwright.config.ts launches, for specs that start a browser themselves. */
export const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: CHROMIUM_ARGS,
};

/** A query string for a tiny, quick run; `extra` overrides or adds URL keys (see src/url/fields.ts). */
export function tinyRunQuery(extra: Record<string, string | number> = {}): string {
  const params: Record<string, string | number> = { v: 1, m: 'tiny', syn: 100, ep: 1, bs: 10, pr: 'none', aug: 0, ...extra };
  return '/?' + Object.entries(params).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dpm-e2e-${prefix}-`));
}

/** An official-layout cifar-10-binary.tar.gz (generated images) on disk; returns its path. */
export function writeCifarArchive(opts: FixtureOptions, dir = tempDir('cifar')): string {
  const path = join(dir, 'cifar-10-binary.tar.gz');
  writeFileSync(path, makeCifarFixtureArchive(opts));
  return path;
}

export function stepCounter(page: Page): Locator {
  return page.getByTestId('step-count');
}

export async function readStep(page: Page): Promise<number> {
  const text = (await stepCounter(page).textContent()) ?? '';
  const n = Number(text.trim());
  if (!Number.isInteger(n)) throw new Error(`step counter shows '${text}'`);
  return n;
}

/** Waits until the step counter reaches at least `n`; returns the step it shows then. */
export async function waitForStep(page: Page, n: number, timeout = 60_000): Promise<number> {
  await expect.poll(() => readStep(page), { timeout, message: `step counter to reach ${n}` }).toBeGreaterThanOrEqual(n);
  return readStep(page);
}

/** The status text of the active run's progress line ("training epoch 1 of 1", "paused at step 7"…). */
export function phase(page: Page): Locator {
  return page.getByTestId('progress-phase');
}

/** Fails the test on anything the page logs as an uncaught error. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/**
 * Opaque pixels of a 2D canvas whose colour is not `background` (the decay map paints cells
 * without telemetry in EMPTY_RGB), i.e. pixels that show data.
 */
export async function paintedPixels(canvas: Locator, background: readonly number[] = EMPTY_RGB): Promise<number> {
  return canvas.evaluate((el, bg) => {
    const c = el as HTMLCanvasElement;
    const ctx = c.getContext('2d');
    if (!ctx) return 0;
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) continue;
      if (data[i] !== bg[0] || data[i + 1] !== bg[1] || data[i + 2] !== bg[2]) n++;
    }
    return n;
  }, [...background]);
}
