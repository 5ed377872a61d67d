import { wrap, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { EngineEvent } from '../engine/events';
import {
  applyPatch,
  byNewest,
  checkEvents,
  checkId,
  checkModel,
  checkpointBytes,
  checkRunRecord,
  eventBytes,
  interrupt,
  makeCheckpoint,
  makeRunRecord,
  modelBytes,
  readCheckpoint,
  readRunRecord,
} from './records';
import {
  QUOTA_MESSAGE,
  RunStoreError,
  type CheckpointInput,
  type CheckpointRecord,
  type ModelFiles,
  type NewRun,
  type RunPatch,
  type RunRecord,
  type RunStore,
  type StorageUsage,
  type StoredModel,
} from './types';

/**
 * The RunStore on IndexedDB (through idb). Works the same in the page and in the engine
 * worker; every write is one transaction, so a killed page leaves each record either fully
 * written or absent. Schema and guarantees: docs/persistence.md.
 */

export const DB_NAME = 'dpm-playground';
/** Bump with a new step in upgrade() whenever stores or record shapes change. */
export const DB_VERSION = 1;

export interface EventChunk {
  runId: string;
  seq: number;
  events: EngineEvent[];
}

type StoredCheckpoint = CheckpointRecord & { runId: string };
type StoredModelRecord = StoredModel & { runId: string };

interface DpmDB extends DBSchema {
  runs: { key: string; value: RunRecord };
  events: { key: [string, number]; value: EventChunk };
  checkpoints: { key: string; value: StoredCheckpoint };
  models: { key: string; value: StoredModelRecord };
}

type Name = StoreNames<DpmDB>;
type Tx<M extends IDBTransactionMode = IDBTransactionMode> = IDBPTransaction<DpmDB, Name[], M>;

const KEY_PATHS: Record<Name, string | string[]> = {
  runs: 'id',
  events: ['runId', 'seq'],
  checkpoints: 'runId',
  models: 'runId',
};
const STORE_NAMES = Object.keys(KEY_PATHS) as Name[];

export interface OpenRunStoreOptions {
  /** Defaults to the global indexedDB (page or worker). */
  factory?: IDBFactory;
  name?: string;
  /** Give up opening after this long (another tab can block an upgrade indefinitely). */
  timeoutMs?: number;
  now?: () => number;
}

export type Unavailable = { unavailable: string };

const MEMORY_NOTE = 'Runs are kept in memory for now and are lost when the page closes.';

function upgrade(db: IDBDatabase, oldVersion: number): void {
  // One step per version, applied in order, so any older database reaches the current shape.
  if (oldVersion < 1) {
    for (const name of STORE_NAMES) db.createObjectStore(name, { keyPath: KEY_PATHS[name] });
  }
}

class OpenTimeout extends Error {}

function openRaw(factory: IDBFactory, name: string, version: number | undefined, timeoutMs: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new OpenTimeout());
    }, timeoutMs);
    const fail = (e: unknown) => {
      clearTimeout(timer);
      if (!settled) reject(e);
      settled = true;
    };
    let req: IDBOpenDBRequest;
    try {
      req = version === undefined ? factory.open(name) : factory.open(name, version);
    } catch (e) {
      fail(e);
      return;
    }
    req.onupgradeneeded = (ev) => {
      try {
        upgrade(req.result, ev.oldVersion);
      } catch (e) {
        fail(e);
        req.transaction?.abort();
      }
    };
    req.onsuccess = () => {
      clearTimeout(timer);
      if (settled) req.result.close();
      else resolve(req.result);
      settled = true;
    };
    req.onerror = (ev) => {
      ev.preventDefault();
      fail(req.error);
    };
  });
}

async function describeOpenFailure(e: unknown, factory: IDBFactory, name: string, timeoutMs: number): Promise<string> {
  if (e instanceof OpenTimeout) {
    return `Opening the saved runs took longer than ${Math.round(timeoutMs / 1000)} s (another tab of this app may be holding an older version open; close it and reload). ${MEMORY_NOTE}`;
  }
  const err = e as { name?: string; message?: string } | null;
  if (err?.name === 'VersionError') {
    let found = 'a newer one';
    try {
      const db = await openRaw(factory, name, undefined, timeoutMs);
      found = String(db.version);
      db.close();
    } catch {
      // The version number only improves the message.
    }
    return `Your saved runs were written by a newer version of DPM Playground (storage version ${found}; this page understands version ${DB_VERSION}). This page leaves them untouched: reload to get the newer version. ${MEMORY_NOTE}`;
  }
  return `This browser does not let the page use IndexedDB (${err?.name ?? 'Error'}: ${err?.message ?? String(e)}); this happens in private browsing or when site data is blocked. ${MEMORY_NOTE}`;
}

function structureProblem(db: IDBDatabase): string | null {
  for (const name of STORE_NAMES) {
    if (!db.objectStoreNames.contains(name)) return `the store '${name}' is missing`;
  }
  try {
    const tx = db.transaction(STORE_NAMES, 'readonly');
    for (const name of STORE_NAMES) {
      const keyPath = tx.objectStore(name).keyPath;
      if (JSON.stringify(keyPath) !== JSON.stringify(KEY_PATHS[name])) return `the store '${name}' has the wrong key`;
    }
  } catch (e) {
    return `its stores cannot be read (${(e as Error).message})`;
  }
  return null;
}

/**
 * Opens the saved runs. Never rejects: when IndexedDB cannot be used (missing, blocked,
 * written by a newer version, damaged) it resolves to {unavailable: reason} and the app falls
 * back to createMemoryStore().
 */
export async function openRunStore(options: OpenRunStoreOptions = {}): Promise<RunStore | Unavailable> {
  const name = options.name ?? DB_NAME;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let factory: IDBFactory | undefined;
  try {
    factory = options.factory ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  } catch {
    // Some sandboxed frames throw on the mere access.
  }
  if (!factory) return { unavailable: `This browser gives the page no IndexedDB. ${MEMORY_NOTE}` };
  let raw: IDBDatabase;
  try {
    raw = await openRaw(factory, name, DB_VERSION, timeoutMs);
  } catch (e) {
    return { unavailable: await describeOpenFailure(e, factory, name, timeoutMs) };
  }
  const problem = structureProblem(raw);
  if (problem) {
    raw.close();
    return {
      unavailable: `The saved-runs database is damaged (${problem}); this page will not use it. Clearing this site's data removes it. ${MEMORY_NOTE}`,
    };
  }
  return createIdbStore(raw, options.now ?? Date.now);
}

/** Removes the whole database (a "forget all runs" action, or recovery from a damaged one). */
export function deleteRunDatabase(options: { factory?: IDBFactory; name?: string } = {}): Promise<void> {
  const factory = options.factory ?? indexedDB;
  return new Promise((resolve, reject) => {
    const req = factory.deleteDatabase(options.name ?? DB_NAME);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(new RunStoreError('failed', `the saved runs could not be deleted: ${req.error?.message}`));
  });
}

function isQuota(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { name, code } = e as { name?: unknown; code?: unknown };
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22;
}

function eventRange(runId: string): IDBKeyRange {
  return IDBKeyRange.bound([runId, 0], [runId, Infinity]);
}

function createIdbStore(raw: IDBDatabase, now: () => number): RunStore {
  const db = wrap(raw) as IDBPDatabase<DpmDB>;
  let closedReason: string | null = null;
  raw.onversionchange = () => {
    // Another tab wants to upgrade: step aside rather than block it.
    raw.close();
    closedReason = 'A newer version of DPM Playground was opened in another tab; reload this page to keep saving runs.';
  };
  raw.onclose = () => {
    closedReason = 'The browser closed the saved-runs database (site data cleared, or a storage failure); reload the page.';
  };

  const toStoreError = (e: unknown, tx: Tx | null): RunStoreError => {
    if (e instanceof RunStoreError) return e;
    let txError: unknown = null;
    try {
      txError = tx?.error ?? null;
    } catch {
      // Reading error of a live transaction throws in some engines.
    }
    if (isQuota(e) || isQuota(txError)) return new RunStoreError('quota', QUOTA_MESSAGE, { cause: isQuota(e) ? e : txError });
    if (closedReason) return new RunStoreError('closed', closedReason, { cause: e });
    const err = e as { name?: string; message?: string };
    if (err?.name === 'ConstraintError') return new RunStoreError('invalid', `the record already exists (${err.message})`, { cause: e });
    if (err?.name === 'DataCloneError') return new RunStoreError('invalid', `the value cannot be stored (${err.message})`, { cause: e });
    return new RunStoreError('failed', `Saved runs could not be read or written (${err?.name ?? 'Error'}: ${err?.message ?? String(e)})`, { cause: e });
  };

  async function inTx<T, M extends IDBTransactionMode>(names: Name[], mode: M, fn: (tx: Tx<M>) => Promise<T>): Promise<T> {
    if (closedReason) throw new RunStoreError('closed', closedReason);
    let tx: Tx<M> | null = null;
    try {
      tx = db.transaction(names, mode) as Tx<M>;
      // Attached at once: an aborted transaction must not surface as an unhandled rejection.
      tx.done.catch(() => undefined);
      const result = await fn(tx);
      await tx.done;
      return result;
    } catch (e) {
      try {
        tx?.abort();
      } catch {
        // Already finished or aborted.
      }
      throw toStoreError(e, tx as Tx | null);
    }
  }

  const notFound = (id: string) => new RunStoreError('not-found', `no saved run with id ${id}`);

  async function runForWrite(tx: Tx<'readwrite'>, id: string): Promise<RunRecord> {
    const stored = await tx.objectStore('runs').get(id);
    if (stored === undefined) throw notFound(id);
    const checked = checkRunRecord(stored);
    if (!checked.ok) throw new RunStoreError('corrupt', `the saved run ${id} is damaged (${checked.problem})`);
    return checked.run;
  }

  async function updateWith(id: string, change: (run: RunRecord) => RunRecord): Promise<RunRecord> {
    return inTx(['runs'], 'readwrite', async (tx) => {
      const next = change(await runForWrite(tx, id));
      await tx.objectStore('runs').put(next);
      return next;
    });
  }

  async function countedUsage(): Promise<number> {
    return inTx(STORE_NAMES, 'readonly', async (tx) => {
      let n = 0;
      for (const r of await tx.objectStore('runs').getAll()) n += JSON.stringify(r).length;
      for (const c of await tx.objectStore('events').getAll()) n += eventBytes(c.events);
      for (const c of await tx.objectStore('checkpoints').getAll()) n += checkpointBytes(c);
      for (const m of await tx.objectStore('models').getAll()) n += modelBytes(m);
      return n;
    });
  }

  return {
    kind: 'indexeddb',

    async createRun(input: NewRun) {
      const run = makeRunRecord(input, now());
      return inTx(['runs'], 'readwrite', async (tx) => {
        if ((await tx.objectStore('runs').getKey(run.id)) !== undefined) {
          throw new RunStoreError('invalid', `a run with id ${run.id} already exists`);
        }
        await tx.objectStore('runs').add(run);
        return run;
      });
    },

    updateRun(id: string, patch: RunPatch) {
      return updateWith(id, (run) => applyPatch(run, patch, now()));
    },

    async getRun(id: string) {
      const stored = await inTx(['runs'], 'readonly', (tx) => tx.objectStore('runs').get(id));
      return stored === undefined ? null : readRunRecord(stored, id);
    },

    async listRuns() {
      return inTx(['runs'], 'readonly', async (tx) => {
        const store = tx.objectStore('runs');
        const [keys, values] = await Promise.all([store.getAllKeys(), store.getAll()]);
        return values.map((v, i) => readRunRecord(v, String(keys[i]))).sort(byNewest);
      });
    },

    async deleteRun(id: string) {
      await inTx(STORE_NAMES, 'readwrite', async (tx) => {
        await Promise.all([
          tx.objectStore('runs').delete(id),
          tx.objectStore('events').delete(eventRange(id)),
          tx.objectStore('checkpoints').delete(id),
          tx.objectStore('models').delete(id),
        ]);
      });
    },

    async appendEvents(runId: string, events: readonly EngineEvent[]) {
      checkId(runId);
      const chunk = checkEvents(events);
      if (chunk.length === 0) return;
      await inTx(['runs', 'events'], 'readwrite', async (tx) => {
        const run = await runForWrite(tx, runId);
        // The chunk and the run's counters commit together or not at all.
        await tx.objectStore('events').add({ runId, seq: run.chunkCount, events: chunk });
        await tx.objectStore('runs').put({
          ...run,
          eventCount: run.eventCount + chunk.length,
          chunkCount: run.chunkCount + 1,
          updatedAt: Math.max(now(), run.updatedAt),
        });
      });
    },

    async loadEvents(runId: string) {
      const chunks = await inTx(['events'], 'readonly', (tx) => tx.objectStore('events').getAll(eventRange(runId)));
      const out: EngineEvent[] = [];
      for (const c of chunks) {
        if (!Array.isArray(c?.events)) throw new RunStoreError('corrupt', `event chunk ${c?.seq} of run ${runId} is damaged`);
        for (const e of c.events) out.push(e);
      }
      return out;
    },

    async saveCheckpoint(runId: string, cp: CheckpointInput) {
      checkId(runId);
      const record = makeCheckpoint(cp, now());
      await inTx(['runs', 'checkpoints'], 'readwrite', async (tx) => {
        const run = await runForWrite(tx, runId);
        await tx.objectStore('checkpoints').put({ ...record, runId });
        await tx.objectStore('runs').put({
          ...run,
          checkpoint: { step: record.step, epoch: record.epoch, savedAt: record.savedAt },
          updatedAt: Math.max(now(), run.updatedAt),
        });
      });
    },

    async loadCheckpoint(runId: string) {
      const stored = await inTx(['checkpoints'], 'readonly', (tx) => tx.objectStore('checkpoints').get(runId));
      if (stored === undefined) return null;
      const { runId: _key, ...rest } = stored;
      return readCheckpoint(rest, runId);
    },

    async saveModel(runId: string, model: ModelFiles) {
      checkId(runId);
      const files = checkModel(model);
      await inTx(['runs', 'models'], 'readwrite', async (tx) => {
        const run = await runForWrite(tx, runId);
        await tx.objectStore('models').put({ ...files, savedAt: now(), runId });
        await tx.objectStore('runs').put({ ...run, hasModel: true, updatedAt: Math.max(now(), run.updatedAt) });
      });
    },

    async loadModel(runId: string) {
      const stored = await inTx(['models'], 'readonly', (tx) => tx.objectStore('models').get(runId));
      if (stored === undefined) return null;
      if (typeof stored.modelJson !== 'string' || !(stored.weights instanceof ArrayBuffer)) {
        throw new RunStoreError('corrupt', `the saved model of run ${runId} is damaged`);
      }
      return { modelJson: stored.modelJson, weights: stored.weights, savedAt: stored.savedAt };
    },

    async markInterrupted(isLive?: (runId: string) => boolean) {
      return inTx(['runs'], 'readwrite', async (tx) => {
        const store = tx.objectStore('runs');
        const changed: string[] = [];
        for (const stored of await store.getAll()) {
          const checked = checkRunRecord(stored);
          if (!checked.ok || checked.run.status !== 'running' || isLive?.(checked.run.id)) continue;
          await store.put(interrupt(checked.run, now()));
          changed.push(checked.run.id);
        }
        return changed;
      });
    },

    async estimateUsage(): Promise<StorageUsage> {
      const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
      if (storage?.estimate) {
        try {
          const e = await storage.estimate();
          if (typeof e.usage === 'number') return { usage: e.usage, quota: e.quota ?? null, source: 'browser' };
        } catch {
          // Fall through to counting our own records.
        }
      }
      return { usage: await countedUsage(), quota: null, source: 'counted' };
    },

    close() {
      closedReason ??= 'This run store was closed.';
      raw.close();
    },
  };
}
