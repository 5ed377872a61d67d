import type { EngineEvent } from '../engine/events';
import {
  applyPatch,
  byNewest,
  checkEvents,
  checkId,
  checkModel,
  checkpointBytes,
  eventBytes,
  interrupt,
  makeCheckpoint,
  makeRunRecord,
  modelBytes,
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
  type StoredModel,
} from './types';

/**
 * The RunStore kept in memory: what the app uses when IndexedDB is unavailable (private
 * browsing, blocked storage). Same behaviour as the IndexedDB store, including copies on the
 * way in and out, so the app cannot tell them apart except that nothing survives a reload.
 */

export interface MemoryStoreOptions {
  /** Refuse writes beyond this many bytes (counted as docs/persistence.md describes), like a quota. */
  maxBytes?: number;
  now?: () => number;
}

interface Entry {
  run: RunRecord;
  chunks: { events: EngineEvent[]; bytes: number }[];
  checkpoint: { record: CheckpointRecord; bytes: number } | null;
  model: { record: StoredModel; bytes: number } | null;
}

/** Half a gigabyte: enough for long runs, short of what makes a tab crash. */
export const DEFAULT_MEMORY_LIMIT = 512 * 1024 * 1024;

export function createMemoryStore(options: MemoryStoreOptions = {}): RunStore {
  const maxBytes = options.maxBytes ?? DEFAULT_MEMORY_LIMIT;
  const now = options.now ?? Date.now;
  const runs = new Map<string, Entry>();
  let closed = false;

  const open = () => {
    if (closed) throw new RunStoreError('closed', 'this run store was closed');
  };
  const entry = (id: string): Entry => {
    const e = runs.get(id);
    if (!e) throw new RunStoreError('not-found', `no saved run with id ${id}`);
    return e;
  };
  const used = (): number => {
    let n = 0;
    for (const e of runs.values()) {
      for (const c of e.chunks) n += c.bytes;
      n += (e.checkpoint?.bytes ?? 0) + (e.model?.bytes ?? 0);
    }
    return n;
  };
  const reserve = (adding: number, freeing: number) => {
    if (used() - freeing + adding > maxBytes) throw new RunStoreError('quota', QUOTA_MESSAGE);
  };
  const copyRun = (r: RunRecord): RunRecord => structuredClone(r);

  // Every method is async so that errors arrive as rejections, exactly as from IndexedDB.
  return {
    kind: 'memory',

    async createRun(input: NewRun) {
      open();
      const run = makeRunRecord(input, now());
      if (runs.has(run.id)) throw new RunStoreError('invalid', `a run with id ${run.id} already exists`);
      runs.set(run.id, { run, chunks: [], checkpoint: null, model: null });
      return copyRun(run);
    },

    async updateRun(id: string, patch: RunPatch) {
      open();
      const e = entry(id);
      e.run = applyPatch(e.run, structuredClone(patch), now());
      return copyRun(e.run);
    },

    async getRun(id: string) {
      open();
      const e = runs.get(id);
      return e ? copyRun(e.run) : null;
    },

    async listRuns() {
      open();
      return [...runs.values()].map((e) => copyRun(e.run)).sort(byNewest);
    },

    async deleteRun(id: string) {
      open();
      runs.delete(id);
    },

    async appendEvents(runId: string, events: readonly EngineEvent[]) {
      open();
      const e = entry(checkId(runId));
      const chunk = structuredClone(checkEvents(events));
      if (chunk.length === 0) return;
      const bytes = eventBytes(chunk);
      reserve(bytes, 0);
      e.chunks.push({ events: chunk, bytes });
      e.run = { ...e.run, eventCount: e.run.eventCount + chunk.length, chunkCount: e.run.chunkCount + 1, updatedAt: Math.max(now(), e.run.updatedAt) };
    },

    async loadEvents(runId: string) {
      open();
      const e = runs.get(runId);
      return e ? structuredClone(e.chunks.flatMap((c) => c.events)) : [];
    },

    async saveCheckpoint(runId: string, cp: CheckpointInput) {
      open();
      const e = entry(checkId(runId));
      const record = structuredClone(makeCheckpoint(cp, now()));
      const bytes = checkpointBytes(record);
      reserve(bytes, e.checkpoint?.bytes ?? 0);
      e.checkpoint = { record, bytes };
      e.run = { ...e.run, checkpoint: { step: record.step, epoch: record.epoch, savedAt: record.savedAt }, updatedAt: Math.max(now(), e.run.updatedAt) };
    },

    async loadCheckpoint(runId: string) {
      open();
      const cp = runs.get(runId)?.checkpoint;
      return cp ? structuredClone(cp.record) : null;
    },

    async saveModel(runId: string, model: ModelFiles) {
      open();
      const e = entry(checkId(runId));
      const files = checkModel(model);
      const bytes = modelBytes(files);
      reserve(bytes, e.model?.bytes ?? 0);
      e.model = { record: { ...files, savedAt: now() }, bytes };
      e.run = { ...e.run, hasModel: true, updatedAt: Math.max(now(), e.run.updatedAt) };
    },

    async loadModel(runId: string) {
      open();
      const m = runs.get(runId)?.model;
      return m ? { modelJson: m.record.modelJson, weights: m.record.weights.slice(0), savedAt: m.record.savedAt } : null;
    },

    async markInterrupted(isLive?: (runId: string) => boolean) {
      open();
      const changed: string[] = [];
      for (const e of runs.values()) {
        if (e.run.status !== 'running' || isLive?.(e.run.id)) continue;
        e.run = interrupt(e.run, now());
        changed.push(e.run.id);
      }
      return changed;
    },

    async estimateUsage() {
      open();
      return { usage: used(), quota: Number.isFinite(maxBytes) ? maxBytes : null, source: 'counted' as const };
    },

    close() {
      closed = true;
    },
  };
}
