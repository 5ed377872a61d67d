import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { expect, test } from '@playwright/test';
import { collectPageErrors, waitForStep } from './helpers';
import { serveStatic } from './static-server';

/**
 * The production build served from a sub-path by a plain static server (as on GitHub Pages,
 * https://user.github.io/<repo>/): assets, the worker and its chunks load through relative
 * URLs, a run trains, and the Share link keeps the sub-path.
 */
const PREFIX = '/teaching/dpm-playground/';
let site: { origin: string; server: Server; requests: string[] };

test.beforeAll(async () => {
  if (!existsSync('dist/index.html')) throw new Error('dist/ is missing: run npm run build first (npm run test:e2e does)');
  site = await serveStatic('dist', PREFIX);
});
test.afterAll(() => new Promise<void>((resolve) => site.server.close(() => resolve())));

test('the build works from a sub-path of a plain static host', async ({ browser }) => {
  test.setTimeout(240_000);
  const context = await browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: site.origin });
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  const failed: string[] = [];
  page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));

  await page.goto(`${site.origin}${PREFIX}?v=1&m=tiny&syn=100&ep=1&bs=10&pr=none&aug=0`);
  await expect(page.locator('form [name="train.batchSize"]')).toHaveValue('10');
  await page.getByTestId('start-button').click();
  await waitForStep(page, 2, 180_000);

  await page.getByTestId('share-button').click();
  await expect(page.getByTestId('share-button')).toHaveText('copied');
  const shared = await page.evaluate(() => navigator.clipboard.readText());
  expect(shared.startsWith(`${site.origin}${PREFIX}?v=1&`)).toBe(true);

  expect(failed).toEqual([]);
  expect(site.requests.filter((p) => !p.startsWith(PREFIX))).toEqual([]);
  expect(site.requests.some((p) => /\/assets\/engine\.worker-[\w-]+\.js$/.test(p))).toBe(true);
  expect(errors).toEqual([]);
  await context.close();
});
