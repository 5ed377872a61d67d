import { expect, test } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config';
import { collectPageErrors, LAUNCH, phase, tinyRunQuery, waitForStep } from './helpers';

/**
 * A browser whose WebGPU gives no adapter, as Chromium on Linux does without
 * --enable-unsafe-webgpu (navigator.gpu is there, requestAdapter() resolves to null: what a
 * user with a blocklisted GPU or driver gets). The engine must fall back (src/engine/backend.ts:
 * webgpu -> webgl -> cpu), train anyway, and the header must say which backend runs and why.
 * Headless Chromium here has WebGL 2 in workers (OffscreenCanvas on SwiftShader GL), so the
 * fallback is WebGL.
 */
test.use({ launchOptions: { ...LAUNCH, args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu') } });

test('without WebGPU the app trains on WebGL and says why', async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto(tinyRunQuery());
  expect(await page.evaluate(async () => (navigator.gpu ? await navigator.gpu.requestAdapter() : null))).toBeNull();

  await page.getByTestId('start-button').click();
  const badge = page.getByTestId('backend-badge');
  await expect(badge).toHaveText('webgl');
  await expect(badge).toHaveClass(/badge-fallback/);
  const notice = page.getByTestId('backend-notice');
  await expect(notice).toContainText('webgpu unavailable (no WebGPU adapter: the GPU is blocklisted or the driver is missing)');
  await expect(notice).toContainText('Running on webgl: WebGL has no compute shaders');
  // The badge's tooltip carries the same reason for when the notice is out of view.
  await expect(badge).toHaveAttribute('title', /no WebGPU adapter/);

  await waitForStep(page, 2);
  await page.getByTestId('stop-button').click();
  await expect(phase(page)).toContainText('stopped at step');
  expect(errors).toEqual([]);
});
