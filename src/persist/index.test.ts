import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultExperiment } from '../engine/experiment';
import { holdRunLock, liveRunIds, openPageStore, openRunStore, runLockName } from './index';

afterEach(() => vi.unstubAllGlobals());

/** Just enough of the Web Locks API: exclusive locks by name, and a query of held ones. */
function fakeLocks(): LockManager {
  const held = new Set<string>();
  return {
    async request(name: string, _options: LockOptions, callback: () => Promise<unknown>) {
      held.add(name);
      try {
        return await callback();
      } finally {
        held.delete(name);
      }
    },
    async query() {
      return { held: [...held].map((name) => ({ name, mode: 'exclusive' as const, clientId: 'c' })), pending: [] };
    },
  } as unknown as LockManager;
}

describe('openPageStore', () => {
  it('marks dead runs interrupted but not one whose worker holds its lock', async () => {
    vi.stubGlobal('navigator', { locks: fakeLocks() });
    const factory = new IDBFactory();
    const first = await openRunStore({ factory });
    if ('unavailable' in first) throw new Error(first.unavailable);
    await first.createRun({ id: 'dead', name: 'dead', config: defaultExperiment() });
    await first.createRun({ id: 'alive', name: 'alive', config: defaultExperiment() });

    let release!: () => void;
    const training = holdRunLock('alive', () => new Promise<void>((r) => (release = r)));
    expect(await liveRunIds()).toEqual(new Set(['alive']));

    const page = await openPageStore({ factory });
    expect(page.notice).toBeNull();
    expect(page.interrupted).toEqual(['dead']);
    expect((await page.store.getRun('alive'))?.status).toBe('running');
    release();
    await training;
    expect(await liveRunIds()).toEqual(new Set());
    expect(runLockName('x')).toBe('dpm-playground:run:x');
    first.close();
    page.store.close();
  });

  it('falls back to memory with the reason when IndexedDB is unavailable', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const page = await openPageStore();
    expect(page.store.kind).toBe('memory');
    expect(page.notice).toMatch(/no IndexedDB/);
    const run = await page.store.createRun({ name: 'in memory', config: defaultExperiment() });
    expect((await page.store.listRuns()).map((r) => r.id)).toEqual([run.id]);
  });

  it('runs work directly where there is no Web Locks API', async () => {
    vi.stubGlobal('navigator', {});
    expect(await holdRunLock('r', async () => 42)).toBe(42);
    expect(await liveRunIds()).toEqual(new Set());
  });
});
