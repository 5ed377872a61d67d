import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { LESSONS, type Lesson } from '../src/lessons/lessons';
import { collectPageErrors, paintedPixels } from './helpers';
import { serveStatic } from './static-server';

/**
 * The guided lessons: each opens from its URL and shows its shipped recording at once (charts,
 * damage panel, decay map and the lesson's callout, all from public/lessons/), and re-runs live
 * on the real Fashion-MNIST files at tiny sizes. The live part runs every lesson in one page,
 * switching lessons in place, so the data set is dropped once and the GPU kernels compile once.
 */
const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
const SHOTS = 'test-results/screenshots';

/** What each lesson's recording must show in its callout (the recordings test checks the figures). */
const RECORDED: Record<Lesson['id'], RegExp[]> = {
  'abrupt-vs-smooth': [/^Pruning point 1 at step \d+ \(abrupt\): \d+ channels chosen\. Loss \d\.\d{3} before, rose \+/, /^Pruning point 1 at step \d+ \(SP\)/],
  'self-rectifying': [/^Pruning point 1 at step \d+ \(SP\)/, /Self-Rectifying released/],
  'mid-decay-dip': [/^Pruning point 1 at step \d+ \(SP\)/, /^Epoch \d+ ended at step \d+, \d+ of 24 steps into the decay/],
};

async function expectRecordedRun(page: Page, lesson: Lesson) {
  const panel = page.getByTestId('lesson-panel');
  await expect(panel).toHaveAttribute('data-lesson', lesson.id);
  await expect(page.getByTestId('lesson-recording')).toContainText('Recorded with the command-line runner on Fashion-MNIST');
  await expect(panel.locator('[data-testid="lesson-run"][data-recorded="yes"]')).toHaveCount(lesson.schedules.length);
  const texts = await panel.getByTestId('lesson-highlight').allTextContents();
  for (const re of RECORDED[lesson.id]) expect(texts.some((t) => re.test(t)), `a callout line matching ${re} in ${JSON.stringify(texts)}`).toBe(true);
  // The app's own views, drawn from the same recording.
  await expect(page.getByTestId('final-accuracy')).toBeVisible();
  await expect(page.getByTestId('chart-loss').locator('.chart-empty')).toHaveCount(0);
  await expect(page.getByTestId('chart-compare-accuracy').locator('.chart-empty')).toHaveCount(0);
  await expect(page.getByTestId('damage-panel').getByTestId('damage-row')).toHaveCount(1);
  await expect.poll(() => paintedPixels(page.locator('canvas.decay-map-canvas').first())).toBeGreaterThan(100);
}

test('each lesson opens from its URL and shows its recorded run at once', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = collectPageErrors(page);
  mkdirSync(SHOTS, { recursive: true });
  for (const lesson of LESSONS) {
    await page.goto(`/?lesson=${lesson.id}`);
    await expectRecordedRun(page, lesson);
    // The address keeps naming the lesson, and the form holds its preset.
    expect(new URL(page.url()).search).toBe(`?lesson=${lesson.id}&v=1`);
    await expect(page.locator('form [name="data.trainLimit"]')).toHaveValue(String(lesson.config.data.trainLimit));
    await expect(page.getByTestId('lesson-link')).toHaveAttribute('href', `${new URL(page.url()).origin}/?lesson=${lesson.id}`);
    await page.screenshot({ path: join(SHOTS, `${lesson.id}.png`), fullPage: true });
  }
  expect(errors).toEqual([]);
});

test('a lesson opens with its recording when the build is served from a sub-path', async ({ page }) => {
  const prefix = '/teaching/dpm-playground/';
  const site = await serveStatic('dist', prefix);
  try {
    const errors = collectPageErrors(page);
    const lesson = LESSONS[2];
    await page.goto(`${site.origin}${prefix}?lesson=${lesson.id}`);
    await expectRecordedRun(page, lesson);
    await expect(page.getByTestId('lesson-link')).toHaveAttribute('href', `${site.origin}${prefix}?lesson=${lesson.id}`);
    expect(site.requests).toContain(`${prefix}lessons/${lesson.id}.sp.json`);
    expect(site.requests.filter((p) => !p.startsWith(prefix))).toEqual([]);
    expect(errors).toEqual([]);
  } finally {
    await new Promise<void>((resolve) => site.server.close(() => resolve()));
  }
});

test('an unknown lesson is named in the URL notice and the page still works', async ({ page }) => {
  await page.goto('/?lesson=no-such-lesson');
  await expect(page.getByTestId('url-notice')).toContainText('no-such-lesson');
  await expect(page.getByTestId('lesson-open-abrupt-vs-smooth')).toBeVisible();
});

test('each lesson re-runs live on the dropped Fashion-MNIST files, its callout following the live run to its pruning point', async ({ page }) => {
  test.skip(!existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz')), 'dataset-fashion-mnist is not installed');
  test.setTimeout(240_000);
  const errors = collectPageErrors(page);
  // A lesson link's own keys shorten the live run: 24 images (3 steps), batch 8, one epoch, a 16-image test split.
  const tiny = { 'data.trainLimit': '24', 'data.testLimit': '16', 'train.epochs': '1', 'train.batchSize': '8' };
  await page.goto(`/?lesson=${LESSONS[0].id}&v=1&trl=24&tel=16&ep=1&bs=8`);
  const rerun = page.getByTestId('lesson-rerun');
  await expect(rerun).toBeDisabled();
  await expect(page.getByTestId('lesson-panel')).toContainText('drop the four Fashion-MNIST files here');
  await page.getByTestId('lesson-data-input').setInputFiles(readdirSync(FASHION_DIR).filter((f) => f.endsWith('.gz')).map((f) => join(FASHION_DIR, f)));
  await expect(page.getByTestId('data-status')).toContainText('fashion-mnist: 60.0 k training', { timeout: 60_000 });

  for (const [i, lesson] of LESSONS.entries()) {
    if (i > 0) {
      // In place: the preset replaces the form, which is shortened again as a user would.
      await page.getByTestId(`lesson-open-${lesson.id}`).click();
      await expect(page.getByTestId('lesson-panel')).toHaveAttribute('data-lesson', lesson.id);
      for (const [name, value] of Object.entries(tiny)) {
        await page.locator(`form [name="${name}"]`).fill(value);
        await page.locator(`form [name="${name}"]`).blur();
      }
    }
    await expect(rerun).toBeEnabled();
    await rerun.click();
    const live = page.locator('[data-testid="lesson-run"][data-recorded="no"]');
    await expect(live).toHaveCount(lesson.schedules.length);
    // The first live run reaches its pruning point, announced in the callout as the event
    // arrives; then Stop, which also drops the lesson's queued runs (SwiftShader is slow).
    await expect(live.first()).toHaveAttribute('data-schedule', lesson.schedules[0]);
    await expect(live.first().getByTestId('lesson-highlight').first()).toContainText(/^Pruning point 1 at step \d+ \(/, { timeout: 120_000 });
    const stop = page.getByTestId('stop-button');
    if (await stop.isEnabled()) await stop.click();
    await expect(page.getByTestId('start-button')).toBeEnabled({ timeout: 60_000 });
  }
  expect(errors).toEqual([]);
});
