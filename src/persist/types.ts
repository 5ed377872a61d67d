import type { EngineEvent } from '../engine/events';
import type { ExperimentConfig } from '../engine/experiment';
import type { TensorRecord } from '../engine/train/checkpoint';

/**
 * The run store's public types. Two implementations share them: IndexedDB (idb-store.ts, used
 * from both the page and the engine worker) and memory (memory-store.ts, the fallback when
 * IndexedDB is unavailable). See docs/persistence.md.
 */

export const RUN_STATUSES = ['running', 'paused', 'done', 'stopped', 'error', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What the run list shows without loading the event log. */
export interface RunSummary {
  testAcc?: number;
  flopsFraction?: number;
  paramsFraction?: number;
  rectifications?: number;
  steps?: number;
  seconds?: number;
  /** Why the run ended early ('error', 'interrupted'). */
  message?: string;
}

export interface CheckpointInfo {
  step: number;
  epoch: number;
  savedAt: number;
}

export interface RunRecord {
  id: string;
  name: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
  config: ExperimentConfig;
  status: RunStatus;
  summary?: RunSummary;
  /** Events stored so far, and the number of chunks they were appended in. */
  eventCount: number;
  chunkCount: number;
  /** The latest checkpoint's position, if the run has one (its tensors are loaded separately). */
  checkpoint?: CheckpointInfo;
  hasModel: boolean;
}

export interface NewRun {
  /** Defaults to a fresh random id; the worker passes its StartRequest.runId. */
  id?: string;
  name: string;
  config: ExperimentConfig;
  status?: RunStatus;
}

export type RunPatch = Partial<Pick<RunRecord, 'name' | 'status' | 'summary' | 'config'>>;

/** A tensor as plain data, the engine's own checkpoint format. */
export type { TensorRecord } from '../engine/train/checkpoint';

/** Everything needed to resume a run where it stopped. Only the latest per run is kept. */
export interface CheckpointRecord {
  step: number;
  epoch: number;
  savedAt: number;
  weights: Record<string, TensorRecord>;
  optimizer: Record<string, TensorRecord>;
  /** The pruning schedule's state (JSON). */
  pruning: unknown;
  /** The random generators' state (JSON). */
  rng: unknown;
  /** Anything else the engine needs to resume with consistent events (JSON), e.g. elapsed time. */
  extra?: unknown;
}

export type CheckpointInput = Omit<CheckpointRecord, 'savedAt'> & { savedAt?: number };

/** The slimmed model in TensorFlow.js's format: model.json text and the weights file. */
export interface ModelFiles {
  modelJson: string;
  weights: ArrayBuffer;
}

export interface StoredModel extends ModelFiles {
  savedAt: number;
}

export interface StorageUsage {
  /** Bytes in use: the browser's figure for the whole site, or this store's own count. */
  usage: number;
  /** Bytes available in all, when known. */
  quota: number | null;
  source: 'browser' | 'counted';
}

export interface RunStore {
  readonly kind: 'indexeddb' | 'memory';
  createRun(run: NewRun): Promise<RunRecord>;
  /** Rejects with RunStoreError 'not-found' for an unknown id. */
  updateRun(id: string, patch: RunPatch): Promise<RunRecord>;
  getRun(id: string): Promise<RunRecord | null>;
  /** Newest first. A damaged record is listed as an 'error' run named so, so that it can be deleted. */
  listRuns(): Promise<RunRecord[]>;
  /** Removes the run with its events, checkpoint and model; an unknown id is not an error. */
  deleteRun(id: string): Promise<void>;
  /** Stores the events as one chunk, atomically: after a crash it is either all there or absent. */
  appendEvents(runId: string, events: readonly EngineEvent[]): Promise<void>;
  loadEvents(runId: string): Promise<EngineEvent[]>;
  /** Replaces the run's checkpoint. */
  saveCheckpoint(runId: string, checkpoint: CheckpointInput): Promise<void>;
  loadCheckpoint(runId: string): Promise<CheckpointRecord | null>;
  saveModel(runId: string, model: ModelFiles): Promise<void>;
  loadModel(runId: string): Promise<StoredModel | null>;
  /**
   * Marks every 'running' run as 'interrupted' (the page calls it once on load: whatever was
   * running then died with its page). Runs for which isLive returns true are left alone.
   * Resolves to the ids it changed.
   */
  markInterrupted(isLive?: (runId: string) => boolean): Promise<string[]>;
  estimateUsage(): Promise<StorageUsage>;
  close(): void;
}

export type RunStoreErrorCode = 'quota' | 'not-found' | 'invalid' | 'corrupt' | 'closed' | 'failed';

export class RunStoreError extends Error {
  override readonly name = 'RunStoreError';
  constructor(
    readonly code: RunStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const QUOTA_MESSAGE =
  "The browser's storage for this site is full, so the run's latest data could not be saved. " +
  'Delete or export old runs to free space, then continue.';

export function isQuotaError(e: unknown): e is RunStoreError {
  return e instanceof RunStoreError && e.code === 'quota';
}
