import { expect, test, type Locator } from '@playwright/test';
import { defaultExperiment } from '../src/engine/experiment';
import { runFileFromRun, serializeRunFile } from '../src/persist/run-file';
import { sampleLogWithDamage } from '../src/store/testLog';
import { collectPageErrors } from './helpers';

// A 40-step run (pruning point at step 10, a rectification at 14, a removal at 20) whose
// pruning point settles its damage at step 25, imported as a file: no training needed.
function runFile(): Buffer {
  const events = sampleLogWithDamage();
  // The config the log was made with: one SP+SR point at round(0.25 * 40) = 10, N = 10.
  const base = defaultExperiment();
  const config = { ...base, prune: { ...base.prune, schedule: 'sr' as const, startAt: 0.25, points: 1, decaySteps: 10 } };
  return Buffer.from(serializeRunFile(runFileFromRun({ name: 'replay fixture', createdAt: Date.now(), config }, events)));
}

/** The Total row of the layer summary: [channels, kept, decaying, pruned, rectified]. */
async function totals(summary: Locator): Promise<number[]> {
  const cells = await summary.locator('.decay-summary-table tfoot td').allTextContents();
  return cells.slice(0, 5).map((c) => Number(c.trim() || '0'));
}

test('the replay scrubber moves every view of an imported run to one step, and plays', async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto('/');
  await page.getByTestId('run-import-input').setInputFiles({ name: 'replay.json', mimeType: 'application/json', buffer: runFile() });
  const row = page.getByTestId('run-row').filter({ hasText: 'replay fixture' });
  await row.getByRole('button', { name: 'Open' }).click();

  const scrubber = page.getByTestId('replay-scrubber');
  const slider = scrubber.getByTestId('replay-step');
  const label = scrubber.getByTestId('replay-label');
  const damage = page.getByTestId('damage-panel');
  const summary = page.getByTestId('decay-area').locator('.decay-summary');
  const runSummary = page.getByTestId('run-summary');
  const lossMarkers = page.getByTestId('chart-loss').locator('g.chart-marker');
  const lossBands = page.getByTestId('chart-loss').locator('g.chart-marker-band');
  await expect(label).toHaveText('step 40 of 40');
  await expect(lossMarkers).toHaveCount(1);
  await expect(lossMarkers).toHaveAttribute('aria-label', 'pruning point 1 at step 10 (SP+SR, 2 channels decaying until step 20)');
  await expect(page.getByTestId('chart-accuracy').locator('g.chart-marker')).toHaveCount(1);
  await expect(lossBands).toHaveAttribute('data-to', '20');
  await expect(damage.getByTestId('damage-row')).toHaveCount(1);
  await expect(runSummary.getByTestId('final-accuracy')).toBeVisible();

  await test.step('before the pruning point: nothing pruned, no damage row, no final accuracy', async () => {
    await slider.fill('5');
    await expect(label).toHaveText('step 5 of 40');
    await expect(damage.getByTestId('damage-row')).toHaveCount(0);
    await expect(damage).toContainText('No pruning point yet');
    await expect(runSummary.getByTestId('final-accuracy')).toHaveCount(0);
    await expect(lossMarkers).toHaveCount(0);
    const [channels, , decaying, pruned] = await totals(summary);
    expect(channels).toBe(7);
    expect(decaying + pruned).toBe(0);
  });

  await test.step('after it: its damage row, decaying channels and the rectification are back', async () => {
    await slider.fill('15');
    await expect(label).toHaveText('step 15 of 40');
    await expect(damage.getByTestId('damage-row')).toHaveCount(1);
    await expect(runSummary).toContainText(/Rectifications\s*1/);
    // The point's marker is back, its decay window drawn as far as the viewed step.
    await expect(lossMarkers).toHaveCount(1);
    await expect(lossBands).toHaveAttribute('data-to', '15');
    await expect.poll(async () => (await totals(summary))[2] + (await totals(summary))[3]).toBeGreaterThan(0);
  });

  await test.step('play runs to the end and stops; pause holds the step; "Whole run" returns', async () => {
    const play = scrubber.getByTestId('replay-play');
    await slider.fill('0');
    await play.click();
    await expect.poll(async () => Number((await label.textContent())?.match(/step (\d+)/)?.[1])).toBeGreaterThan(0);
    await expect(label).toHaveText('step 40 of 40');
    await expect(play).toHaveText('Play');
    await expect(runSummary.getByTestId('final-accuracy')).toBeVisible();

    await slider.fill('0');
    await play.click();
    await play.click();
    await expect(play).toHaveText('Play');
    const held = await label.textContent();
    await page.waitForTimeout(400);
    await expect(label).toHaveText(held ?? '');
    expect(held).not.toBe('step 40 of 40');

    await scrubber.getByRole('button', { name: 'Whole run' }).click();
    await expect(label).toHaveText('step 40 of 40');
  });

  expect(errors).toEqual([]);
});
