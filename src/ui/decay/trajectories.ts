import { channelSeries, downsampleSeries, METRIC_REDUCER, type SeriesPoint } from './downsample';
import type { TelemetryStore } from './telemetryStore';
import { channelKey, type ChannelRef, type EventLog, type RectifyEvent } from './types';

export interface RectificationMark {
  step: number;
  /** Decay at release, as the rectify event reported it. */
  decay: number;
  /** Norm in force at that step (sample-and-hold from the telemetry). */
  norm: number;
}

export interface TrajectoryLine {
  key: string;
  family: string;
  familyLabel: string;
  channel: number;
  rectified: boolean;
  decay: SeriesPoint[];
  norm: SeriesPoint[];
  rectifications: RectificationMark[];
}

export interface TrajectorySet {
  lines: TrajectoryLine[];
  /** Valid channels requested (before the cap). */
  requested: number;
  /** True when the cap dropped some of them. */
  truncated: boolean;
}

export interface TrajectoryOptions {
  /** Most lines drawn (default 24): past a few dozen a line chart is unreadable. */
  maxLines?: number;
  /** Points per line after downsampling (default 500). */
  maxPoints?: number;
}

export function rectifyEvents(events: EventLog): RectifyEvent[] {
  const out: RectifyEvent[] = [];
  for (const ev of events) if (ev.type === 'rectify') out.push(ev);
  return out;
}

/**
 * The decay and norm curves of the requested channels, downsampled with the map's reducers
 * (decay by min, so the dip where a rectified channel turns back up keeps its depth and step).
 * Unknown channels are skipped; duplicates collapse. When the cap bites, rectified channels go
 * first (they are what the chart is for), then the requested order.
 */
export function extractTrajectories(
  store: TelemetryStore,
  refs: readonly ChannelRef[],
  rectifies: readonly RectifyEvent[],
  options: TrajectoryOptions = {},
): TrajectorySet {
  const maxLines = options.maxLines ?? 24;
  const maxPoints = options.maxPoints ?? 500;
  const byChannel = new Map<string, RectifyEvent[]>();
  for (const ev of rectifies) {
    const k = channelKey(ev);
    const list = byChannel.get(k);
    if (list) list.push(ev);
    else byChannel.set(k, [ev]);
  }
  const seen = new Set<string>();
  const valid: { ref: ChannelRef; row: number; key: string }[] = [];
  for (const ref of refs) {
    const key = channelKey(ref);
    const row = store.layout.row(ref);
    if (row < 0 || seen.has(key)) continue;
    seen.add(key);
    valid.push({ ref, row, key });
  }
  const ordered = [...valid.filter((v) => byChannel.has(v.key)), ...valid.filter((v) => !byChannel.has(v.key))];
  const chosen = ordered.slice(0, maxLines);
  const lines = chosen.map(({ ref, row, key }): TrajectoryLine => {
    const d = channelSeries(store, 'decay', row);
    const n = channelSeries(store, 'norm', row);
    const marks = (byChannel.get(key) ?? []).map((ev) => {
      const col = store.columnAtStep(ev.step);
      return { step: ev.step, decay: ev.decay, norm: col >= 0 ? store.value('norm', col, row) : NaN };
    });
    const fi = store.layout.familyIndex(ref.family);
    return {
      key,
      family: ref.family,
      familyLabel: store.families[fi].label,
      channel: ref.channel,
      rectified: marks.length > 0,
      decay: downsampleSeries(d.steps, d.values, maxPoints, METRIC_REDUCER.decay),
      norm: downsampleSeries(n.steps, n.values, maxPoints, METRIC_REDUCER.norm),
      rectifications: marks,
    };
  });
  return { lines, requested: valid.length, truncated: valid.length > chosen.length };
}

/** Every channel of a family, for "show the whole family". */
export function familyChannels(store: TelemetryStore, family: string): ChannelRef[] {
  const fi = store.layout.familyIndex(family);
  if (fi < 0) return [];
  return Array.from({ length: store.families[fi].channels }, (_, channel) => ({ family, channel }));
}
