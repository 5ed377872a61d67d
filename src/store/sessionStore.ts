import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { defaultExperiment, type ExperimentConfig } from '../engine/experiment';
import type { DatasetSummary } from '../worker/protocol';
import type { BackendEvent } from './runReducer';
import type { WeightsState } from './weights';

/** A URL field that could not be used, as the notice shows it (plain text only). */
export interface IgnoredNotice {
  field: string;
  value: string;
  reason: string;
}

export type DatasetState =
  | { state: 'none' }
  | { state: 'loading'; files: string[] }
  | { state: 'ready'; summary: DatasetSummary }
  | { state: 'error'; files: string[]; message: string; previous: DatasetSummary | null };

/** A comparison batch: runs that start one after another on the one engine. */
export interface RunQueue {
  label: string;
  runIds: string[];
  /** Index of the run now running (or next to start). */
  index: number;
}

export interface SessionState {
  config: ExperimentConfig;
  urlIgnored: IgnoredNotice[];
  /** The backend the engine reported last (any run). */
  backend: BackendEvent | null;
  dataset: DatasetState;
  /** Imported starting weights ("Start from weights"). */
  weights: WeightsState;
  /** The run the engine is working on now, if any. */
  engineRunId: string | null;
  queue: RunQueue | null;
  /** A crashed worker or failed call: shown until dismissed; the app keeps working. */
  engineError: string | null;

  setConfig(config: ExperimentConfig): void;
  setUrlIgnored(ignored: IgnoredNotice[]): void;
  dismissUrlNotice(): void;
  setBackend(backend: BackendEvent): void;
  setDataset(dataset: DatasetState): void;
  setWeights(weights: WeightsState): void;
  setEngineRun(runId: string | null): void;
  setQueue(queue: RunQueue | null): void;
  setEngineError(message: string | null): void;
}

export function createSessionStore(initial: ExperimentConfig = defaultExperiment()) {
  return createStore<SessionState>()((set) => ({
    config: initial,
    urlIgnored: [],
    backend: null,
    dataset: { state: 'none' },
    weights: { state: 'none' },
    engineRunId: null,
    queue: null,
    engineError: null,

    setConfig: (config) => set({ config }),
    setUrlIgnored: (urlIgnored) => set({ urlIgnored }),
    dismissUrlNotice: () => set({ urlIgnored: [] }),
    setBackend: (backend) => set({ backend }),
    setDataset: (dataset) => set({ dataset }),
    setWeights: (weights) => set({ weights }),
    setEngineRun: (engineRunId) => set({ engineRunId }),
    setQueue: (queue) => set({ queue }),
    setEngineError: (engineError) => set({ engineError }),
  }));
}

export const sessionStore = createSessionStore();

export function useSession<T>(selector: (state: SessionState) => T): T {
  return useStore(sessionStore, selector);
}
