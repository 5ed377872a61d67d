import type { EngineEvent } from '../../engine/events';
import type { ExperimentConfig } from '../../engine/experiment';
import { scheduleComparison, SCHEDULE_LABELS } from '../../store/compare';
import { createEventBatcher, type Scheduler } from '../../store/eventBatcher';
import type { RunsStore } from '../../store/runsStore';
import type { createSessionStore } from '../../store/sessionStore';
import { configWithoutWeights, configWithWeights, requiredSha256, weightsResult } from '../../store/weights';
import type { EngineClient, EngineClientHandlers } from '../../worker/client';
import type { ExportRequest } from '../../worker/protocol';
import { EngineCrashedError } from '../../worker/client';
import { errorMessage } from '../../engine/error-message';

/**
 * Drives the one engine worker on behalf of the page: runs start one at a time (a GPU trains
 * one model at a time), their events are batched into the runs store, and a crashed worker
 * becomes an error message and a fresh worker on the next action.
 */
export type SessionStore = ReturnType<typeof createSessionStore>;

export type ClientFactory = (
  handlers: EngineClientHandlers,
) => Pick<EngineClient, 'loadFiles' | 'importWeights' | 'importRunWeights' | 'clearWeights' | 'exportModel' | 'start' | 'pause' | 'resume' | 'stop' | 'dispose'>;

/** Where starting weights come from: a dropped file, a URL, or an earlier run in the run store. */
export type WeightsSourceInput = { file: File } | { url: string } | { run: { id: string; name: string } };

export interface ControllerDeps {
  createClient: ClientFactory;
  runs: RunsStore;
  session: SessionStore;
  newRunId(): string;
  /** The stored log of a run (to show its history before a resume continues it). */
  loadStoredEvents?(runId: string): Promise<EngineEvent[]>;
  /** Called when a run's first events arrive (the worker has stored the run by then). */
  onRunStarted?(runId: string): void;
  /** Called after every run ends, however it ends (the runs list refreshes). */
  onRunEnded?(runId: string): void;
  /** Saves a file (the page: an <a download> click). */
  download?(fileName: string, blob: Blob): void;
  scheduler?: Scheduler;
}

export interface PlannedRun {
  runId: string;
  config: ExperimentConfig;
  name?: string;
  resume?: boolean;
}

export interface EngineController {
  startRun(config: ExperimentConfig): Promise<void>;
  /** Three runs, same config, schedules abrupt / SP / SP+SR, one after another. */
  compareSchedules(config: ExperimentConfig): Promise<void>;
  /** Runs made by the caller (ids included), one after another; with a label, they are also ticked for comparison. */
  startRuns(plans: PlannedRun[], label: string | null): Promise<void>;
  resumeRun(run: { runId: string; config: ExperimentConfig; name: string; createdAt: number }): Promise<void>;
  pause(): void;
  resume(): void;
  /** Stops the current run and drops any queued ones. */
  stop(): void;
  loadFiles(files: readonly File[]): Promise<void>;
  /** Imports and evaluates a checkpoint; on success the experiment starts from it, on failure the weights before stay. */
  importWeights(source: WeightsSourceInput): Promise<void>;
  /** Downloads a finished run's network; resolves to the file names, rejects with why nothing could be exported. */
  exportModel(req: ExportRequest): Promise<string[]>;
  clearWeights(): Promise<void>;
  dispose(): void;
}

export function createEngineController(deps: ControllerDeps): EngineController {
  const { runs, session } = deps;
  let client: ReturnType<ClientFactory> | null = null;
  let currentRunId: string | null = null;
  let cancelQueue = false;
  let announced: string | null = null;

  const batcher = createEventBatcher((runId, events) => runs.getState().appendEvents(runId, events), deps.scheduler);

  const onEvents = (runId: string | null, events: EngineEvent[]) => {
    for (const e of events) if (e.type === 'backend') session.getState().setBackend(e);
    if (!runId) return;
    batcher.push(runId, events);
    if (announced !== runId) {
      announced = runId;
      deps.onRunStarted?.(runId);
    }
  };

  const onCrash = (message: string) => {
    client = null;
    session.getState().setEngineError(`The engine stopped unexpectedly (${message}). Your settings are kept; starting again uses a new engine.`);
    if (currentRunId) {
      batcher.push(currentRunId, [
        { type: 'error', message: `engine crashed: ${message}`, recoverable: false },
        { type: 'status', phase: 'error', message: 'engine crashed' },
      ]);
      batcher.flush();
    }
  };

  const engine = () => {
    client ??= deps.createClient({ onEvents, onCrash });
    return client;
  };

  const runOne = async (plan: PlannedRun) => {
    const { runId, config } = plan;
    if (plan.resume) runs.getState().setLive(runId, true);
    else runs.getState().addRun({ runId, config, name: plan.name, live: true });
    runs.getState().setActiveRun(runId);
    currentRunId = runId;
    session.getState().setEngineRun(runId);
    try {
      await engine().start({ runId, config, resume: plan.resume });
      return true;
    } catch (e) {
      // A failed run has already told its story in its own events; only say more when it did not.
      batcher.flush();
      const logged = (runs.getState().runs[runId]?.derived.errors.length ?? 0) > 0;
      if (!(e instanceof EngineCrashedError) && !logged) session.getState().setEngineError(errorMessage(e));
      return !(e instanceof EngineCrashedError);
    } finally {
      batcher.flush();
      currentRunId = null;
      runs.getState().setLive(runId, false);
      session.getState().setEngineRun(null);
      deps.onRunEnded?.(runId);
    }
  };

  const runSequence = async (plans: PlannedRun[], label: string | null) => {
    if (currentRunId) {
      session.getState().setEngineError('A run is already in progress: stop it first.');
      return;
    }
    session.getState().setEngineError(null);
    cancelQueue = false;
    const runIds = plans.map((p) => p.runId);
    if (label && plans.length > 1) runs.getState().setComparison(runIds);
    try {
      for (let i = 0; i < plans.length && !cancelQueue; i++) {
        session.getState().setQueue(label ? { label, runIds, index: i } : null);
        const goOn = await runOne(plans[i]);
        if (!goOn) break;
      }
    } finally {
      session.getState().setQueue(null);
    }
  };

  const signal = (fn: (c: ReturnType<ClientFactory>) => Promise<void>) => {
    if (!client) return;
    fn(client).catch((e: unknown) => session.getState().setEngineError(errorMessage(e)));
  };

  return {
    startRun: (config) => runSequence([{ runId: deps.newRunId(), config }], null),

    startRuns: (plans, label) => runSequence(plans.map(({ runId, config, name }) => ({ runId, config, name })), label),

    compareSchedules(config) {
      const stamp = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      const plans = scheduleComparison(config).map(({ schedule, config: c }) => ({
        runId: deps.newRunId(),
        config: c,
        name: `${c.train.model} · ${SCHEDULE_LABELS[schedule]} · compare ${stamp}`,
      }));
      return runSequence(plans, 'abrupt vs SP vs SP+SR');
    },

    async resumeRun({ runId, config, name, createdAt }) {
      if (currentRunId) {
        session.getState().setEngineError('A run is already in progress: stop it first.');
        return;
      }
      if (deps.loadStoredEvents) {
        try {
          const events = await deps.loadStoredEvents(runId);
          runs.getState().loadRun({ runId, config, name, createdAt, events });
        } catch (e) {
          session.getState().setEngineError(`Could not read the run's stored events: ${errorMessage(e)}`);
          return;
        }
      } else if (!runs.getState().runs[runId]) {
        runs.getState().addRun({ runId, config, name, createdAt, live: false });
      }
      await runSequence([{ runId, config, resume: true }], null);
    },

    pause: () => signal((c) => c.pause()),
    resume: () => signal((c) => c.resume()),
    stop() {
      cancelQueue = true;
      signal((c) => c.stop());
    },

    async loadFiles(files) {
      const names = files.map((f) => f.name);
      const before = session.getState().dataset;
      const previous = before.state === 'ready' ? before.summary : before.state === 'error' ? before.previous : null;
      session.getState().setDataset({ state: 'loading', files: names });
      try {
        const summary = await engine().loadFiles(files);
        session.getState().setDataset({ state: 'ready', summary });
        const config = session.getState().config;
        const dataset = summary.name === 'fashion-mnist' ? 'fashion-mnist' : 'cifar10';
        session.getState().setConfig({ ...config, data: { ...config.data, dataset, url: '' } });
      } catch (e) {
        session.getState().setDataset({ state: 'error', files: names, message: errorMessage(e), previous });
      }
    },

    async importWeights(source) {
      const label = 'file' in source ? source.file.name : 'url' in source ? source.url : `run “${source.run.name}”`;
      const previous = weightsResult(session.getState().weights);
      if (currentRunId) {
        session.getState().setWeights({ state: 'error', source: label, message: 'A run is in progress: stop it before loading other weights.', previous });
        return;
      }
      // Read before 'loading' replaces the weights state: loaded weights free the linked hash.
      const expectSha256 = requiredSha256(session.getState().config, session.getState().weights);
      session.getState().setWeights({ state: 'loading', source: label });
      try {
        const config = session.getState().config;
        const result = 'run' in source ? await engine().importRunWeights(source.run.id, config, expectSha256) : await engine().importWeights(source, config, expectSha256);
        session.getState().setWeights({ state: 'ready', result });
        session.getState().setConfig(configWithWeights(session.getState().config, result));
      } catch (e) {
        session.getState().setWeights({ state: 'error', source: label, message: errorMessage(e), previous });
      }
    },

    async exportModel(req) {
      const files = await engine().exportModel(req);
      for (const f of files) deps.download?.(f.name, new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.type }));
      return files.map((f) => f.name);
    },

    async clearWeights() {
      session.getState().setWeights({ state: 'none' });
      session.getState().setConfig(configWithoutWeights(session.getState().config));
      await client?.clearWeights().catch(() => undefined);
    },

    dispose() {
      batcher.dispose();
      client?.dispose();
      client = null;
    },
  };
}
