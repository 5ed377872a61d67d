import type { CostFigures, EngineEvent } from '../../engine/events';
import type { EventLog } from './types';

interface FamilyState {
  id: string;
  label: string;
  channels: number;
  decaying: Set<number>;
  removed: Set<number>;
  rectified: Set<number>;
  rectifications: number;
  slimBefore: number | null;
  slimAfter: number | null;
}

/** Mutable accumulator; feed it events in log order with applyLayerEvent. */
export interface LayerSummaryState {
  model: string | null;
  families: FamilyState[];
  byId: Map<string, FamilyState>;
  dense: CostFigures | null;
  slim: { before: CostFigures; after: CostFigures; maxAbsDiff: number } | null;
  latency: { batch: number; denseMsPerImage: number; slimMsPerImage: number } | null;
  lastCost: { step: number; params: number; flops: number; paramsFraction: number; flopsFraction: number } | null;
}

/**
 * Per-family channel counts. A channel is in exactly one of kept / decaying / pruned:
 * decaying = selected by a 'prune' and neither removed nor released since; pruned = named by a
 * 'removed' event (exactly zero); kept = the rest. rectified counts distinct channels released
 * at least once (they are also in kept, or in pruned/decaying if re-selected later).
 */
export interface FamilySummary {
  id: string;
  label: string;
  channels: number;
  kept: number;
  decaying: number;
  pruned: number;
  rectified: number;
  /** rectify events, counting repeats of the same channel. */
  rectifications: number;
  /** Channels in the masked model and in the slimmed one (from the 'slim' event), or null. */
  slimBefore: number | null;
  slimAfter: number | null;
}

export interface LayerSummaryData {
  model: string | null;
  families: FamilySummary[];
  totals: Omit<FamilySummary, 'id' | 'label'>;
  dense: CostFigures | null;
  slim: LayerSummaryState['slim'];
  latency: LayerSummaryState['latency'];
  lastCost: LayerSummaryState['lastCost'];
}

export function createLayerSummaryState(): LayerSummaryState {
  return { model: null, families: [], byId: new Map(), dense: null, slim: null, latency: null, lastCost: null };
}

/** Folds one event into the state (mutating it) and returns it. Unknown families are ignored. */
export function applyLayerEvent(state: LayerSummaryState, ev: EngineEvent): LayerSummaryState {
  switch (ev.type) {
    case 'model': {
      state.model = ev.model;
      state.dense = ev.dense;
      state.slim = null;
      state.latency = null;
      state.lastCost = null;
      state.families = ev.families.map((f) => ({
        id: f.id,
        label: f.label,
        channels: f.channels,
        decaying: new Set<number>(),
        removed: new Set<number>(),
        rectified: new Set<number>(),
        rectifications: 0,
        slimBefore: null,
        slimAfter: null,
      }));
      state.byId = new Map(state.families.map((f) => [f.id, f]));
      break;
    }
    case 'prune': {
      const f = state.byId.get(ev.family);
      if (!f) break;
      for (const ch of ev.channels) if (inRange(f, ch) && !f.removed.has(ch)) f.decaying.add(ch);
      break;
    }
    case 'rectify': {
      const f = state.byId.get(ev.family);
      if (!f || !inRange(f, ev.channel)) break;
      f.decaying.delete(ev.channel);
      f.rectified.add(ev.channel);
      f.rectifications++;
      break;
    }
    case 'removed': {
      const f = state.byId.get(ev.family);
      if (!f) break;
      for (const ch of ev.channels) {
        if (!inRange(f, ch)) continue;
        f.decaying.delete(ch);
        f.removed.add(ch);
      }
      break;
    }
    case 'slim': {
      state.slim = { before: ev.before, after: ev.after, maxAbsDiff: ev.maxAbsDiff };
      for (const k of ev.kept) {
        const f = state.byId.get(k.family);
        if (!f) continue;
        f.slimBefore = k.before;
        f.slimAfter = k.after;
      }
      break;
    }
    case 'latency':
      state.latency = { batch: ev.batch, denseMsPerImage: ev.denseMsPerImage, slimMsPerImage: ev.slimMsPerImage };
      break;
    case 'cost':
      state.lastCost = {
        step: ev.step,
        params: ev.params,
        flops: ev.flops,
        paramsFraction: ev.paramsFraction,
        flopsFraction: ev.flopsFraction,
      };
      break;
    default:
      break;
  }
  return state;
}

function inRange(f: FamilyState, ch: number): boolean {
  return Number.isInteger(ch) && ch >= 0 && ch < f.channels;
}

export function snapshotLayerSummary(state: LayerSummaryState): LayerSummaryData {
  const families = state.families.map((f): FamilySummary => {
    const pruned = f.removed.size;
    const decaying = f.decaying.size;
    return {
      id: f.id,
      label: f.label,
      channels: f.channels,
      kept: f.channels - pruned - decaying,
      decaying,
      pruned,
      rectified: f.rectified.size,
      rectifications: f.rectifications,
      slimBefore: f.slimBefore,
      slimAfter: f.slimAfter,
    };
  });
  const sumOrNull = (pick: (f: FamilySummary) => number | null): number | null =>
    families.some((f) => pick(f) !== null) ? families.reduce((s, f) => s + (pick(f) ?? 0), 0) : null;
  const totals = {
    channels: families.reduce((s, f) => s + f.channels, 0),
    kept: families.reduce((s, f) => s + f.kept, 0),
    decaying: families.reduce((s, f) => s + f.decaying, 0),
    pruned: families.reduce((s, f) => s + f.pruned, 0),
    rectified: families.reduce((s, f) => s + f.rectified, 0),
    rectifications: families.reduce((s, f) => s + f.rectifications, 0),
    slimBefore: sumOrNull((f) => f.slimBefore),
    slimAfter: sumOrNull((f) => f.slimAfter),
  };
  return {
    model: state.model,
    families,
    totals,
    dense: state.dense,
    slim: state.slim,
    latency: state.latency,
    lastCost: state.lastCost,
  };
}

export function summarizeLayers(events: EventLog): LayerSummaryData {
  const state = createLayerSummaryState();
  for (const ev of events) applyLayerEvent(state, ev);
  return snapshotLayerSummary(state);
}
