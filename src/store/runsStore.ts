import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { EngineEvent } from '../engine/events';
import type { ExperimentConfig } from '../engine/experiment';
import { initialRunDerived, reduceEvents, replayLog, type RunDerived } from './runReducer';

/** One run known to the page: started here, or opened from the run store and replayed. */
export interface RunEntry {
  runId: string;
  name: string;
  config: ExperimentConfig;
  createdAt: number;
  /** True while this page's engine is producing its events; false for a replayed log. */
  live: boolean;
  derived: RunDerived;
}

/** One channel of one family, as prune/rectify events name it. */
export interface ChannelSel {
  family: string;
  channel: number;
}

export interface RectificationSel extends ChannelSel {
  step: number;
}

export interface Selection {
  /** The family the views zoom into, if any. */
  familyId: string | null;
  /** Selected channels (any families); trajectories follow them. */
  channels: ChannelSel[];
  /** The rectification picked in the timeline (its channel and step). */
  rectification: RectificationSel | null;
}

export interface RunsState {
  runs: Record<string, RunEntry>;
  /** Run ids in the order they were added. */
  order: string[];
  activeRunId: string | null;
  selection: Selection;
  /** Runs overlaid in the comparison chart, in the order they were ticked. */
  comparison: string[];
  /**
   * Replay cursor over the active (finished or imported) run: the views show the run as it
   * stood at this step (see store/viewStep.ts). null = the whole run.
   */
  viewStep: number | null;

  addRun(run: { runId: string; config: ExperimentConfig; name?: string; createdAt?: number; live?: boolean }): void;
  appendEvents(runId: string, events: readonly EngineEvent[]): void;
  /** Replaces a run's log with a stored one and rebuilds its state by replaying it. */
  loadRun(run: { runId: string; config: ExperimentConfig; name: string; createdAt: number; events: readonly EngineEvent[] }): void;
  setLive(runId: string, live: boolean): void;
  removeRun(runId: string): void;
  setActiveRun(runId: string | null): void;
  selectFamily(familyId: string | null): void;
  toggleChannel(familyId: string, channel: number): void;
  selectChannels(channels: ChannelSel[]): void;
  /** Picks a rectification (and selects its channel, so its trajectory shows), or clears it. */
  highlightRectification(ref: RectificationSel | null): void;
  setComparison(runIds: string[]): void;
  toggleComparison(runId: string): void;
  setViewStep(step: number | null): void;
}

const emptySelection: Selection = { familyId: null, channels: [], rectification: null };

export function defaultRunName(config: ExperimentConfig, createdAt: number): string {
  const time = new Date(createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return `${config.train.model} · ${config.prune.pruner === 'none' ? 'dense' : config.prune.schedule} · ${time}`;
}

export function createRunsStore() {
  return createStore<RunsState>()((set) => ({
    runs: {},
    order: [],
    activeRunId: null,
    selection: emptySelection,
    comparison: [],
    viewStep: null,

    addRun({ runId, config, name, createdAt = Date.now(), live = true }) {
      set((st) => {
        const existing = st.runs[runId];
        const entry: RunEntry = existing
          ? { ...existing, config, live }
          : { runId, config, createdAt, live, name: name ?? defaultRunName(config, createdAt), derived: initialRunDerived() };
        return {
          runs: { ...st.runs, [runId]: entry },
          order: existing ? st.order : [...st.order, runId],
        };
      });
    },

    appendEvents(runId, events) {
      if (events.length === 0) return;
      set((st) => {
        const run = st.runs[runId];
        if (!run) return st;
        return { runs: { ...st.runs, [runId]: { ...run, derived: reduceEvents(run.derived, events) } } };
      });
    },

    loadRun({ runId, config, name, createdAt, events }) {
      const derived = replayLog(events);
      set((st) => ({
        runs: { ...st.runs, [runId]: { runId, config, name, createdAt, live: false, derived } },
        order: st.runs[runId] ? st.order : [...st.order, runId],
      }));
    },

    setLive(runId, live) {
      set((st) => {
        const run = st.runs[runId];
        if (!run) return st;
        // A resumed run grows past any replay cursor set on it: show it live again.
        const viewStep = live && runId === st.activeRunId ? null : st.viewStep;
        return { runs: { ...st.runs, [runId]: { ...run, live } }, viewStep };
      });
    },

    removeRun(runId) {
      set((st) => {
        if (!st.runs[runId]) return st;
        const runs = { ...st.runs };
        delete runs[runId];
        const activeRunId = st.activeRunId === runId ? null : st.activeRunId;
        return {
          runs,
          order: st.order.filter((id) => id !== runId),
          comparison: st.comparison.filter((id) => id !== runId),
          activeRunId,
          selection: activeRunId === st.activeRunId ? st.selection : emptySelection,
          viewStep: activeRunId === st.activeRunId ? st.viewStep : null,
        };
      });
    },

    setActiveRun(runId) {
      set((st) => (st.activeRunId === runId ? st : { activeRunId: runId, selection: emptySelection, viewStep: null }));
    },

    selectFamily(familyId) {
      set((st) => ({ selection: { ...st.selection, familyId } }));
    },

    toggleChannel(family, channel) {
      set((st) => {
        const current = st.selection.channels;
        const has = current.some((c) => c.family === family && c.channel === channel);
        const channels = has ? current.filter((c) => c.family !== family || c.channel !== channel) : [...current, { family, channel }];
        return { selection: { ...st.selection, channels } };
      });
    },

    selectChannels(channels) {
      const seen = new Set<string>();
      const unique = channels.filter((c) => {
        const key = `${c.family}#${c.channel}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      set((st) => ({ selection: { ...st.selection, channels: unique.map((c) => ({ family: c.family, channel: c.channel })) } }));
    },

    highlightRectification(ref) {
      set((st) => {
        if (!ref) return { selection: { ...st.selection, rectification: null } };
        const rectification = { family: ref.family, channel: ref.channel, step: ref.step };
        const has = st.selection.channels.some((c) => c.family === ref.family && c.channel === ref.channel);
        const channels = has ? st.selection.channels : [...st.selection.channels, { family: ref.family, channel: ref.channel }];
        return { selection: { ...st.selection, rectification, channels } };
      });
    },

    setComparison(runIds) {
      set({ comparison: [...new Set(runIds)] });
    },

    setViewStep(step) {
      set({ viewStep: step === null ? null : Math.max(0, step) });
    },

    toggleComparison(runId) {
      set((st) => ({
        comparison: st.comparison.includes(runId) ? st.comparison.filter((id) => id !== runId) : [...st.comparison, runId],
      }));
    },
  }));
}

export type RunsStore = ReturnType<typeof createRunsStore>;

/** The page's one runs store. */
export const runsStore = createRunsStore();

export function useRuns<T>(selector: (state: RunsState) => T): T {
  return useStore(runsStore, selector);
}

/** The active run's entry, or null. */
export function selectActiveRun(state: RunsState): RunEntry | null {
  return state.activeRunId ? (state.runs[state.activeRunId] ?? null) : null;
}
