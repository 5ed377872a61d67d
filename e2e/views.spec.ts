import { mkdirSync } from 'node:fs';
import { expect, test, type Locator } from '@playwright/test';
import { collectPageErrors, paintedPixels, phase, tinyRunQuery, waitForStep } from './helpers';

const SHOTS = 'test-results/screenshots';

// DepGraph with DPM SP+SR on the built-in synthetic set: 10 steps an epoch, two pruning
// points (steps 3 and 7), each group decaying to zero over N = 4 steps.
const QUERY = tinyRunQuery({ syn: 100, bs: 10, ep: 3, pr: 'depgraph', sch: 'sr', st: 0.1, pts: 2, ev: 4, N: 4, t: 0.5, te: 1 });

/** The Total row of the layer summary: [channels, kept, decaying, pruned, rectified]. */
async function totals(summary: Locator): Promise<number[]> {
  const cells = await summary.locator('.decay-summary-table tfoot td').allTextContents();
  return cells.slice(0, 5).map((c) => Number(c.trim() || '0'));
}

test('an SP+SR run draws the decay map, trajectories and layer summary', async ({ page }) => {
  const errors = collectPageErrors(page);
  mkdirSync(SHOTS, { recursive: true });
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(QUERY);
  await expect(page.locator('select[name="prune.schedule"]')).toHaveValue('sr');
  await page.getByTestId('start-button').click();

  const area = page.getByTestId('decay-area');
  const summary = area.locator('.decay-summary');
  const heat = area.locator('canvas[aria-label="Channel decay map"]');

  await test.step('the layer summary counts decaying, then pruned channels', async () => {
    await expect.poll(async () => (await totals(summary))[2], { timeout: 90_000, message: 'decaying channels' }).toBeGreaterThan(0);
    await expect.poll(async () => (await totals(summary))[3], { timeout: 90_000, message: 'pruned channels' }).toBeGreaterThan(0);
    const [channels, kept, decaying, pruned] = await totals(summary);
    expect(channels).toBe(16 + 16 + 32);
    expect(kept + decaying + pruned).toBe(channels);
  });

  await test.step('the decay map canvas shows telemetry', async () => {
    await expect.poll(() => paintedPixels(heat), { message: 'painted pixels of the decay map' }).toBeGreaterThan(1000);
  });

  await test.step('clicking a row of the map plots that channel’s trajectory', async () => {
    const traj = area.locator('.decay-traj');
    await expect(traj).toContainText('click a row of the decay map');
    await area.locator('.decay-map-stack').click({ position: { x: 40, y: 100 } });
    await expect(traj.locator('.decay-traj-legend li')).toHaveCount(1);
    await expect(traj.locator('path.recharts-line-curve').first()).toHaveAttribute('d', /^M[\d.]+,[\d.]+L/);
  });

  await test.step('the rectification timeline says how close Self-Rectifying came', async () => {
    await expect(area.getByTestId('sr-closest')).toContainText(/Closest to release: .+ · channel \d+, (steps \d+–\d+|step \d+) \(C_rate/, { timeout: 90_000 });
  });

  await waitForStep(page, 12, 90_000);
  await heat.screenshot({ path: `${SHOTS}/decay-map.png` });
  await area.locator('.decay-traj').screenshot({ path: `${SHOTS}/trajectories.png` });
  await summary.screenshot({ path: `${SHOTS}/layer-summary.png` });
  await page.locator('.chart-grid').screenshot({ path: `${SHOTS}/training-charts.png` });
  await area.locator('.decay-timeline').screenshot({ path: `${SHOTS}/rectification-timeline.png` });
  await page.screenshot({ path: `${SHOTS}/page.png`, fullPage: true });

  await page.getByTestId('stop-button').click();
  await expect(phase(page)).toContainText(/stopped at step|done|finished/i);
  expect(errors).toEqual([]);
});
