import { openRunStore, type OpenRunStoreOptions } from './idb-store';
import { createMemoryStore, type MemoryStoreOptions } from './memory-store';
import { liveRunIds } from './run-lock';
import type { RunStore } from './types';

export * from './types';
export { openRunStore, deleteRunDatabase, DB_NAME, DB_VERSION, type OpenRunStoreOptions, type Unavailable } from './idb-store';
export { createMemoryStore, DEFAULT_MEMORY_LIMIT, type MemoryStoreOptions } from './memory-store';
export { createEventWriter, type EventWriter, type EventWriterOptions } from './event-writer';
export { engineEventSchema, ENGINE_EVENT_TYPES } from './event-schema';
export {
  importRun,
  MAX_RUN_FILE_BYTES,
  parseRunFile,
  RUN_FILE_FORMAT,
  RUN_FILE_VERSION,
  runFileBlob,
  runFileFromRun,
  runFileName,
  runFileSchema,
  serializeRunFile,
  statusFromEvents,
  summaryFromEvents,
  type RunFile,
  type RunFileResult,
} from './run-file';
export { holdRunLock, liveRunIds, runLockName } from './run-lock';

export interface PageStore {
  store: RunStore;
  /** Set when runs are only kept in memory: why, for a banner. */
  notice: string | null;
  /** Runs that were 'running' when the previous page died, now 'interrupted'. */
  interrupted: string[];
}

/**
 * What the page calls once on load: the IndexedDB store, or the memory store with the reason
 * when IndexedDB cannot be used; runs left 'running' by a dead page become 'interrupted'.
 */
export async function openPageStore(options: OpenRunStoreOptions & { memory?: MemoryStoreOptions } = {}): Promise<PageStore> {
  const opened = await openRunStore(options);
  if ('unavailable' in opened) return { store: createMemoryStore(options.memory), notice: opened.unavailable, interrupted: [] };
  let interrupted: string[] = [];
  try {
    const live = await liveRunIds();
    interrupted = await opened.markInterrupted((id) => live.has(id));
  } catch {
    // Leaving stale 'running' labels is better than refusing to start.
  }
  return { store: opened, notice: null, interrupted };
}
