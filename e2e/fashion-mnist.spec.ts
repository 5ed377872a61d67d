import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { collectPageErrors, tinyRunQuery, waitForStep } from './helpers';

/**
 * Real data: Debian's Fashion-MNIST files (.ci/run installs dataset-fashion-mnist), dropped on
 * the page as downloaded, trained on a few dozen images with one abrupt pruning point, whose
 * damage figures appear in the "What pruning did" panel.
 */
const DIR = '/usr/share/datasets/fashion-mnist';
const TRAIN = 40;
const BATCH = 8;

test.skip(!existsSync(join(DIR, 'train-images-idx3-ubyte.gz')), 'dataset-fashion-mnist is not installed');

test('loads the real Fashion-MNIST files, trains, and measures what the pruning point did', async ({ page }) => {
  // The point's probe evaluations compile inference shaders on SwiftShader: minutes, not seconds.
  test.setTimeout(480_000);
  const errors = collectPageErrors(page);
  await page.goto(tinyRunQuery({ ds: 'fashion-mnist', trl: TRAIN, tel: 16, ep: 2, bs: BATCH, pr: 'depgraph', sch: 'abrupt', t: 0.6, st: 0.3, pts: 1, te: 5 }));
  const status = page.getByTestId('data-status');
  await expect(status).toContainText('No Fashion-MNIST files loaded yet');

  await page.getByTestId('data-file-input').setInputFiles(readdirSync(DIR).filter((f) => f.endsWith('.gz')).map((f) => join(DIR, f)));
  await expect(status).toContainText('fashion-mnist: 60.0 k training and 10.0 k test images', { timeout: 60_000 });

  await page.getByTestId('start-button').click();
  await expect(page.getByTestId('progress')).toContainText(`/ ${(TRAIN / BATCH) * 2}`);
  await waitForStep(page, 4, 240_000);
  const panel = page.getByTestId('damage-panel');
  await expect(panel).toContainText('What pruning did');
  await expect(panel.getByTestId('damage-row').first()).toContainText(/^3\s*abrupt\s*\d\.\d{3}/, { timeout: 240_000 });
  await expect(panel).toContainText('point(s) measured');
  expect(errors).toEqual([]);
});
