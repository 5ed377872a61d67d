import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultExperiment } from '../engine/experiment';
import { DB_NAME, DB_VERSION, deleteRunDatabase, openRunStore } from './idb-store';
import { runStoreContract, sampleCheckpoint, stepEvents } from './run-store.contract';
import { QUOTA_MESSAGE, RunStoreError, type RunStore } from './types';

async function mustOpen(factory: IDBFactory): Promise<RunStore> {
  const store = await openRunStore({ factory });
  if ('unavailable' in store) throw new Error(store.unavailable);
  return store;
}

/** Opens the database directly, as another tab or an older/newer build would. */
function rawOpen(factory: IDBFactory, version: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = factory.open(DB_NAME, version);
    req.onupgradeneeded = () => upgrade?.(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

const config = defaultExperiment();

runStoreContract('indexeddb', () => mustOpen(new IDBFactory()));

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('IndexedDB run store', () => {
  it('keeps everything across a reopen', async () => {
    const factory = new IDBFactory();
    const a = await mustOpen(factory);
    await a.createRun({ id: 'p', name: 'persisted', config });
    await a.appendEvents('p', stepEvents(0, 3));
    await a.saveCheckpoint('p', sampleCheckpoint(3));
    a.close();
    const b = await mustOpen(factory);
    expect((await b.listRuns()).map((r) => r.name)).toEqual(['persisted']);
    expect(await b.loadEvents('p')).toHaveLength(3);
    expect((await b.loadCheckpoint('p'))?.weights['bn1/gamma'].data).toBeInstanceOf(Float32Array);
    b.close();
  });

  it('loses no more than the chunk being written when the page dies mid-write', async () => {
    const factory = new IDBFactory();
    const store = await mustOpen(factory);
    await store.createRun({ id: 'k', name: 'killed', config });
    await store.appendEvents('k', stepEvents(0, 4));

    const add = vi.spyOn(IDBObjectStore.prototype, 'add');
    const realPut = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'runs') {
        // The chunk is already written inside the transaction; the page dies before commit.
        this.transaction.abort();
        throw new DOMException('the page was closed', 'AbortError');
      }
      return realPut.call(this, value, key);
    });
    await expect(store.appendEvents('k', stepEvents(4, 4))).rejects.toBeInstanceOf(RunStoreError);
    expect(add).toHaveBeenCalledWith(expect.objectContaining({ runId: 'k', seq: 1 }));
    vi.restoreAllMocks();
    store.close();

    const reopened = await mustOpen(factory);
    expect((await reopened.listRuns()).map((r) => [r.id, r.eventCount, r.chunkCount])).toEqual([['k', 4, 1]]);
    expect((await reopened.loadEvents('k')).map((e) => (e as { step: number }).step)).toEqual([0, 1, 2, 3]);
    await reopened.appendEvents('k', stepEvents(4, 2));
    expect((await reopened.loadEvents('k')).map((e) => (e as { step: number }).step)).toEqual([0, 1, 2, 3, 4, 5]);
    reopened.close();
  });

  it('maps QuotaExceededError to a typed quota error and keeps earlier data', async () => {
    const store = await mustOpen(new IDBFactory());
    await store.createRun({ id: 'q', name: 'q', config });
    await store.appendEvents('q', stepEvents(0, 2));
    await store.saveCheckpoint('q', sampleCheckpoint(2));
    const full = () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    vi.spyOn(IDBObjectStore.prototype, 'add').mockImplementation(full);
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(full);

    const appendError = await store.appendEvents('q', stepEvents(2, 2)).catch((e: unknown) => e);
    expect(appendError).toBeInstanceOf(RunStoreError);
    expect(appendError).toMatchObject({ code: 'quota', message: QUOTA_MESSAGE });
    await expect(store.saveCheckpoint('q', sampleCheckpoint(9))).rejects.toMatchObject({ code: 'quota' });
    vi.restoreAllMocks();

    expect(await store.loadEvents('q')).toHaveLength(2);
    expect((await store.loadCheckpoint('q'))?.step).toBe(2);
    expect((await store.getRun('q'))?.checkpoint?.step).toBe(2);
    await store.appendEvents('q', stepEvents(2, 1));
    expect(await store.loadEvents('q')).toHaveLength(3);
    store.close();
  });

  it('refuses a database written by a newer version, and leaves it untouched', async () => {
    const factory = new IDBFactory();
    const newer = await rawOpen(factory, DB_VERSION + 4, (db) => db.createObjectStore('future', { keyPath: 'id' }));
    newer.close();
    const result = await openRunStore({ factory });
    expect(result).toEqual({ unavailable: expect.stringMatching(new RegExp(`newer version.*storage version ${DB_VERSION + 4}`)) });
    const again = await rawOpen(factory, DB_VERSION + 4);
    expect([...again.objectStoreNames]).toEqual(['future']);
    again.close();
  });

  it('refuses a damaged database', async () => {
    const missing = new IDBFactory();
    (await rawOpen(missing, DB_VERSION, (db) => db.createObjectStore('runs', { keyPath: 'id' }))).close();
    expect(await openRunStore({ factory: missing })).toEqual({ unavailable: expect.stringMatching(/damaged.*'events' is missing/) });

    const wrongKey = new IDBFactory();
    (
      await rawOpen(wrongKey, DB_VERSION, (db) => {
        for (const name of ['runs', 'events', 'checkpoints', 'models']) db.createObjectStore(name, { keyPath: 'nope' });
      })
    ).close();
    expect(await openRunStore({ factory: wrongKey })).toEqual({ unavailable: expect.stringMatching(/'runs' has the wrong key/) });

    await deleteRunDatabase({ factory: wrongKey });
    const fresh = await mustOpen(wrongKey);
    expect(await fresh.listRuns()).toEqual([]);
    fresh.close();
  });

  it('lists a damaged run record so that it can be deleted, and refuses to write to it', async () => {
    const factory = new IDBFactory();
    const store = await mustOpen(factory);
    await store.createRun({ id: 'fine', name: 'fine', config });
    const raw = await rawOpen(factory, DB_VERSION);
    await new Promise<void>((resolve, reject) => {
      const tx = raw.transaction('runs', 'readwrite');
      tx.objectStore('runs').put({ id: 'broken', name: 7, status: 'exploded' });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    raw.close();
    const runs = await store.listRuns();
    const broken = runs.find((r) => r.id === 'broken');
    expect(broken).toMatchObject({ status: 'error', name: 'Damaged run', summary: { message: expect.stringMatching(/damaged/) } });
    await expect(store.appendEvents('broken', stepEvents(0, 1))).rejects.toMatchObject({ code: 'corrupt' });
    await store.deleteRun('broken');
    expect((await store.listRuns()).map((r) => r.id)).toEqual(['fine']);
    store.close();
  });

  it('reports IndexedDB being unavailable instead of throwing', async () => {
    const throwing = { open: () => { throw new DOMException('The operation is insecure.', 'SecurityError'); } } as unknown as IDBFactory;
    expect(await openRunStore({ factory: throwing })).toEqual({ unavailable: expect.stringMatching(/SecurityError.*private browsing.*in memory/) });

    vi.stubGlobal('indexedDB', undefined);
    expect(await openRunStore()).toEqual({ unavailable: expect.stringMatching(/no IndexedDB/) });

    const silent = { open: () => ({}) } as unknown as IDBFactory;
    expect(await openRunStore({ factory: silent, timeoutMs: 20 })).toEqual({ unavailable: expect.stringMatching(/took longer than/) });
  });

  it('steps aside when another tab upgrades the database', async () => {
    const factory = new IDBFactory();
    const store = await mustOpen(factory);
    await store.createRun({ id: 'a', name: 'a', config });
    const upgraded = await rawOpen(factory, DB_VERSION + 1);
    await expect(store.listRuns()).rejects.toMatchObject({ code: 'closed', message: expect.stringMatching(/another tab/) });
    upgraded.close();
  });
});
