import { readdirSync, readFileSync } from 'node:fs';
import { expect, test, chromium, type Page } from '@playwright/test';
import { RUN_STATUSES } from '../src/persist/types';
import { BASE_URL, LAUNCH, collectPageErrors, readStep, tempDir, tinyRunQuery, waitForStep } from './helpers';

const QUERY = tinyRunQuery({ syn: 100, bs: 8, ep: 3 });

interface StoredRunView {
  id: string;
  name: string;
  status: string;
  eventCount: number;
  chunkCount: number;
  checkpointStep: number | null;
  /** Events actually found in the run's chunks, and whether their seq numbers run 0..n-1. */
  chunkEvents: number;
  chunkSeqs: number[];
}

/** Reads the app's IndexedDB directly (database 'dpm-playground', see src/persist/idb-store.ts). */
async function readDatabase(page: Page): Promise<StoredRunView[]> {
  return page.evaluate(async () => {
    const req = indexedDB.open('dpm-playground');
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const all = <T,>(store: string) =>
      new Promise<T[]>((resolve, reject) => {
        const r = db.transaction(store, 'readonly').objectStore(store).getAll();
        r.onsuccess = () => resolve(r.result as T[]);
        r.onerror = () => reject(r.error);
      });
    type Run = { id: string; name: string; status: string; eventCount: number; chunkCount: number; checkpoint?: { step: number } };
    type Chunk = { runId: string; seq: number; events: unknown[] };
    const runs = await all<Run>('runs');
    const chunks = await all<Chunk>('events');
    db.close();
    return runs.map((r) => {
      const mine = chunks.filter((c) => c.runId === r.id);
      return {
        id: r.id,
        name: r.name,
        status: r.status,
        eventCount: r.eventCount,
        chunkCount: r.chunkCount,
        checkpointStep: r.checkpoint?.step ?? null,
        chunkEvents: mine.reduce((n, c) => n + (Array.isArray(c.events) ? c.events.length : Number.NaN), 0),
        chunkSeqs: mine.map((c) => c.seq).sort((a, b) => a - b),
      };
    });
  });
}

/** Records every value the step counter shows from now on (a restart from step 0 cannot slip by). */
async function recordSteps(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __steps: number[] };
    w.__steps = [];
    const el = document.querySelector('[data-testid="step-count"]');
    if (!el) throw new Error('no step counter');
    new MutationObserver(() => w.__steps.push(Number(el.textContent))).observe(el, { childList: true, characterData: true, subtree: true });
  });
}

test('a run survives a reload: listed as interrupted, replayed from its log, resumed from its checkpoint', async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto(QUERY);
  await page.getByTestId('start-button').click();
  const runRow = page.getByTestId('run-row');
  await expect(runRow).toHaveCount(1);
  await expect(runRow.getByTestId('run-status')).toHaveText('running');
  // Pausing writes a checkpoint (the 'paused' status comes after it is stored); training then
  // goes on, and the page is reloaded while a step is running.
  await waitForStep(page, 2, 90_000);
  await page.getByTestId('pause-button').click();
  await expect(page.getByTestId('progress-phase')).toContainText('paused at step');
  const pausedAt = Number(/paused at step (\d+)/.exec((await page.getByTestId('progress-phase').textContent()) ?? '')?.[1]);
  await page.getByTestId('resume-button').click();
  await waitForStep(page, pausedAt + 1, 90_000);
  const before = await readStep(page);

  await page.reload();
  await expect(runRow).toHaveCount(1);
  await expect(runRow.getByTestId('run-status')).toHaveText('interrupted');
  const [stored] = await readDatabase(page);
  expect(stored.checkpointStep).not.toBeNull();
  const checkpoint = stored.checkpointStep!;
  expect(checkpoint).toBeGreaterThanOrEqual(pausedAt);
  expect(checkpoint).toBeLessThanOrEqual(before);

  await test.step('opening the run redraws its charts from the stored log', async () => {
    await runRow.getByRole('button', { name: 'Open' }).click();
    await expect(page.locator('h2, h3').filter({ hasText: `Run: ${stored.name}` })).toBeVisible();
    // The log was flushed with the checkpoint, so it holds at least the steps up to it.
    expect(await readStep(page)).toBeGreaterThanOrEqual(checkpoint);
    for (const chart of ['chart-loss', 'chart-lr', 'chart-throughput']) {
      await expect(page.getByTestId(chart).locator('path.recharts-line-curve').first(), chart).toHaveAttribute('d', /^M[\d.]+,[\d.]+L/);
    }
  });

  await test.step('resume continues from the checkpoint, not from step 0', async () => {
    const shown = await readStep(page);
    await recordSteps(page);
    await runRow.getByRole('button', { name: 'Resume' }).click();
    await expect(runRow.getByTestId('run-status')).toHaveText('running');
    await waitForStep(page, Math.max(shown, checkpoint) + 2, 90_000);
    const seen = await page.evaluate(() => (window as unknown as { __steps: number[] }).__steps);
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.min(...seen)).toBeGreaterThan(checkpoint);
    await expect(runRow).toHaveCount(1);
  });

  await page.getByTestId('stop-button').click();
  await expect(runRow.getByTestId('run-status')).toHaveText('stopped');
  expect(errors).toEqual([]);
});

/** Chromium processes started with this profile folder (the ones this test launched). */
function browserPids(userDataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.includes(`--user-data-dir=${userDataDir}`) && !cmd.some((a) => a.startsWith('--type='))) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

test('killing the browser mid-write leaves a readable, consistent runs list', async () => {
  const userDataDir = tempDir('profile');
  const first = await chromium.launchPersistentContext(userDataDir, { ...LAUNCH, baseURL: BASE_URL });
  const page = first.pages()[0] ?? (await first.newPage());
  await page.goto(QUERY);
  await page.getByTestId('start-button').click();
  await waitForStep(page, 3, 90_000);
  const killedRunId = await page.getByTestId('run-row').getAttribute('data-run-id');
  // SIGKILL the browser process itself: no unload handlers, no orderly IndexedDB shutdown.
  const pids = browserPids(userDataDir);
  expect(pids).toHaveLength(1);
  process.kill(pids[0], 'SIGKILL');
  await first.close().catch(() => undefined);

  const second = await chromium.launchPersistentContext(userDataDir, { ...LAUNCH, baseURL: BASE_URL });
  try {
    const again = second.pages()[0] ?? (await second.newPage());
    const errors = collectPageErrors(again);
    await again.goto(QUERY);
    const list = again.getByTestId('runs-list');
    const rows = list.getByTestId('run-row');
    await expect(rows).toHaveCount(1);
    await expect(list.getByTestId('storage-notice')).toHaveCount(0);
    await expect(list.locator('.notice-error')).toHaveCount(0);
    expect(await rows.getAttribute('data-run-id')).toBe(killedRunId);
    await expect(rows.getByTestId('run-status')).toHaveText('interrupted');

    for (const run of await readDatabase(again)) {
      expect(RUN_STATUSES as readonly string[]).toContain(run.status);
      expect(run.name.length).toBeGreaterThan(0);
      // A chunk and the run's counters commit in one transaction: they must agree after a crash.
      expect(run.chunkEvents).toBe(run.eventCount);
      expect(run.chunkSeqs).toEqual(Array.from({ length: run.chunkCount }, (_, i) => i));
    }

    await rows.getByRole('button', { name: 'Open' }).click();
    await expect(again.getByTestId('run-summary')).toBeVisible();
    await expect(list.locator('.notice-error')).toHaveCount(0);
    expect(errors).toEqual([]);
  } finally {
    await second.close();
  }
});
