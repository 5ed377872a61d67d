import { createStore } from 'zustand/vanilla';
import type { RunsStore } from '../../store/runsStore';
import { toArray } from '../../store/series';
import type { RunRecord, RunStatus, RunStore } from '../../persist/types';
import { errorMessage } from '../../engine/error-message';

/**
 * The runs list's model: what the persistent run store holds, and the page-side actions on
 * it (open = replay the stored log into the runs store, delete, export, import). The engine
 * worker writes live runs to the same IndexedDB database; when IndexedDB is unavailable the
 * page keeps finished runs in an in-memory store itself, so the list works the same way.
 */

export interface ArchivePort {
  /**
   * The run store, and why it is memory-only (null when it persists). Opening also marks runs
   * that died with an earlier page as 'interrupted'.
   */
  open(): Promise<{ store: RunStore; memoryOnly: string | null }>;
  /** The run as a downloadable file. */
  exportRun(store: RunStore, runId: string): Promise<{ fileName: string; blob: Blob }>;
  /** Validates a run file and adds the run; rejects with a message saying what is wrong. */
  importRun(store: RunStore, file: File): Promise<RunRecord>;
}

export interface ArchiveState {
  state: 'opening' | 'ready';
  memoryOnly: string | null;
  runs: RunRecord[];
  /** The last failed action's message (shown in the list), or null. */
  error: string | null;
  /** The last completed import/export, for a short confirmation. */
  message: string | null;
}

export const RESUMABLE: readonly RunStatus[] = ['interrupted', 'paused', 'stopped', 'error'];

export function canResume(run: RunRecord): boolean {
  return RESUMABLE.includes(run.status) && run.checkpoint !== undefined;
}

export interface ArchiveDeps {
  port: ArchivePort;
  runs: RunsStore;
  /** The run the engine is producing now (never marked interrupted, never replaced by a replay). */
  liveRunId(): string | null;
  /** Saves a file (the page: an <a download> click). */
  download(fileName: string, blob: Blob): void;
}

export function createRunArchive(deps: ArchiveDeps) {
  const state = createStore<ArchiveState>()(() => ({ state: 'opening', memoryOnly: null, runs: [], error: null, message: null }));
  let opened: Promise<RunStore> | null = null;

  const store = () => {
    opened ??= deps.port.open().then(({ store: s, memoryOnly }) => {
      state.setState({ memoryOnly });
      return s;
    });
    return opened;
  };

  const attempt = async <T>(what: string, fn: (s: RunStore) => Promise<T>): Promise<T | undefined> => {
    try {
      const result = await fn(await store());
      state.setState({ error: null });
      return result;
    } catch (e) {
      state.setState({ error: `${what}: ${errorMessage(e)}` });
      return undefined;
    }
  };

  const refresh = async () => {
    await attempt('Could not list the stored runs', async (s) => {
      const runs = await s.listRuns();
      state.setState({ runs, state: 'ready' });
    });
    if (state.getState().state !== 'ready') state.setState({ state: 'ready' });
  };

  const loadIntoPage = async (s: RunStore, runId: string) => {
    const record = await s.getRun(runId);
    if (!record) throw new Error('the run no longer exists');
    const events = await s.loadEvents(runId);
    deps.runs.getState().loadRun({ runId, config: record.config, name: record.name, createdAt: record.createdAt, events });
    return record;
  };

  return {
    state,
    refresh,

    loadEvents: async (runId: string) => (await store()).loadEvents(runId),

    getRun: async (runId: string) => (await store()).getRun(runId),

    /** Shows a stored run: its log is replayed into the runs store; no training happens. */
    async open(runId: string) {
      if (runId === deps.liveRunId()) {
        deps.runs.getState().setActiveRun(runId);
        return;
      }
      const ok = await attempt('Could not open the run', (s) => loadIntoPage(s, runId));
      if (ok) deps.runs.getState().setActiveRun(runId);
    },

    /** Ticks or unticks a run for the comparison chart, loading its log first if needed. */
    async setCompared(runId: string, on: boolean) {
      const runs = deps.runs.getState();
      if (!on) {
        runs.setComparison(runs.comparison.filter((id) => id !== runId));
        return;
      }
      if (!runs.runs[runId]) {
        const ok = await attempt('Could not load the run to compare', (s) => loadIntoPage(s, runId));
        if (!ok) return;
      }
      const now = deps.runs.getState();
      if (!now.comparison.includes(runId)) now.setComparison([...now.comparison, runId]);
    },

    async remove(runId: string) {
      if (runId === deps.liveRunId()) {
        state.setState({ error: 'Stop the run before deleting it.' });
        return;
      }
      await attempt('Could not delete the run', (s) => s.deleteRun(runId));
      deps.runs.getState().removeRun(runId);
      await refresh();
    },

    async exportRun(runId: string) {
      const file = await attempt('Could not export the run', (s) => deps.port.exportRun(s, runId));
      if (file) {
        deps.download(file.fileName, file.blob);
        state.setState({ message: `Exported ${file.fileName}` });
      }
    },

    async importFile(file: File) {
      const record = await attempt(`Could not import ${file.name}`, (s) => deps.port.importRun(s, file));
      if (record) {
        state.setState({ message: `Imported “${record.name}”` });
        await refresh();
      }
    },

    /**
     * After a run ends: with a memory-only store the worker saved nothing, so the page records
     * the run from its own log; with IndexedDB it only names the worker's record as the page does.
     */
    async recordEndedRun(runId: string) {
      const entry = deps.runs.getState().runs[runId];
      if (!entry) return;
      await attempt('Could not record the run', async (s) => {
        const existing = await s.getRun(runId);
        const derived = entry.derived;
        const status: RunStatus = derived.status === 'idle' || derived.status === 'running' ? 'stopped' : derived.status;
        const summary = derived.done
          ? {
              testAcc: derived.done.testAcc,
              flopsFraction: derived.done.flopsFraction,
              paramsFraction: derived.done.paramsFraction,
              rectifications: derived.done.rectifications,
              steps: derived.done.steps,
              seconds: derived.done.seconds,
            }
          : undefined;
        if (!existing) {
          await s.createRun({ id: runId, name: entry.name, config: entry.config, status });
          await s.appendEvents(runId, toArray(derived.events));
          if (summary) await s.updateRun(runId, { summary });
        } else if (existing.name !== entry.name) {
          await s.updateRun(runId, { name: entry.name });
        }
      });
      await refresh();
    },
  };
}

export type RunArchive = ReturnType<typeof createRunArchive>;
