import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { collectPageErrors, phase, readStep, stepCounter, tempDir, tinyRunQuery, waitForStep, writeCifarArchive } from './helpers';

const RECORDS = 24; // per batch: 5 x 24 = 120 training images, 24 test images
const BATCH = 8;
const EPOCHS = 2;
const STEPS = ((5 * RECORDS) / BATCH) * EPOCHS;

test('loads an official-format CIFAR-10 archive, refuses a corrupt batch, trains, pauses and resumes', async ({ page }) => {
  const errors = collectPageErrors(page);
  const dir = tempDir('train');
  const archive = writeCifarArchive({ recordsPerBatch: RECORDS, testRecords: RECORDS, seed: 7 }, dir);
  // Two whole records and 5 stray bytes: no valid batch file has that length.
  const corrupt = join(dir, 'data_batch_1.bin');
  writeFileSync(corrupt, new Uint8Array(3073 * 2 + 5).fill(3));

  await page.goto(tinyRunQuery({ ds: 'cifar10', ep: EPOCHS, bs: BATCH }));
  const status = page.getByTestId('data-status');
  await expect(status).toContainText('No CIFAR-10 files loaded yet');

  await test.step('the archive loads and its record counts are reported', async () => {
    await page.getByTestId('data-file-input').setInputFiles(archive);
    await expect(status).toContainText(`${5 * RECORDS} training and ${RECORDS} test images`);
    for (let b = 1; b <= 5; b++) await expect(status).toContainText(`data_batch_${b}.bin (${RECORDS})`);
    await expect(status).toContainText(`test_batch.bin (${RECORDS})`);
  });

  await test.step('a corrupt batch file is refused with a message naming it', async () => {
    await page.getByTestId('data-file-input').setInputFiles(corrupt);
    await expect(status).toContainText('data_batch_1.bin');
    await expect(status).toHaveAttribute('role', 'alert');
    await expect(status).toContainText('not a multiple of the 3073-byte CIFAR-10 record');
    await expect(status).toContainText(new RegExp(`still using the cifar-?10 set loaded before \\(${5 * RECORDS} training images\\)`, 'i'));
  });

  await test.step('a run on the previously loaded data trains on WebGPU', async () => {
    await page.getByTestId('start-button').click();
    await expect(page.getByTestId('backend-badge')).toHaveText('webgpu');
    // The total proves the run uses the archive's 120 images, not the corrupt file or the synthetic set.
    await expect(page.getByTestId('progress')).toContainText(`/ ${STEPS}`);
    await waitForStep(page, 2);
    await expect(page.getByTestId('chart-loss').locator('path.recharts-curve').first()).toHaveAttribute('d', /^M[\d.]+,[\d.]+L/);
  });

  await test.step('pause holds the step counter, resume moves it on', async () => {
    const t0 = Date.now();
    const s0 = await readStep(page);
    await waitForStep(page, s0 + 1);
    const stepMs = Date.now() - t0;
    await page.getByTestId('pause-button').click();
    await expect(phase(page)).toContainText('paused at step');
    await expect(page.getByTestId('resume-button')).toBeEnabled();
    const paused = await readStep(page);
    // Two step-lengths with no movement: a running loop would have advanced by then.
    await page.waitForTimeout(Math.min(15_000, 2 * stepMs + 500));
    await expect(stepCounter(page)).toHaveText(String(paused));
    await page.getByTestId('resume-button').click();
    await waitForStep(page, paused + 2);
  });

  await page.getByTestId('stop-button').click();
  await expect(phase(page)).toContainText('stopped at step');
  expect(errors).toEqual([]);
});
