import type { EventOf } from '../../engine/events';
import type { EventLog } from './types';

export type CriteriaEvent = EventOf<'criteria'>;

export interface RectificationRow {
  /** Position in the log's rectify events, a stable React key. */
  index: number;
  step: number;
  family: string;
  familyLabel: string;
  /** Family position in the model (for the timeline's lanes); -1 if unknown. */
  familyIndex: number;
  channel: number;
  cRate: number;
  cLen: number;
  decay: number;
}

export interface ActivityBins {
  /** Step at the left edge of bin 0 and bin width in steps. */
  s0: number;
  binSteps: number;
  /** Channels named by 'prune' / 'removed' events per bin. */
  pruned: Int32Array;
  removed: Int32Array;
  max: number;
}

export interface TimelineData {
  rows: RectificationRow[];
  families: { id: string; label: string }[];
  /** Step domain: from 0 to the model's planned total steps or the newest event step. */
  maxStep: number;
  /** The Self-Rectifying criteria window whose decaying channel came closest to release. */
  closest: CriteriaEvent | null;
}

export function collectTimeline(events: EventLog): TimelineData {
  let families: { id: string; label: string }[] = [];
  let index = new Map<string, number>();
  let maxStep = 0;
  const rows: RectificationRow[] = [];
  let closest: CriteriaEvent | null = null;
  for (const ev of events) {
    if (ev.type === 'model') {
      families = ev.families.map((f) => ({ id: f.id, label: f.label }));
      index = new Map(families.map((f, i) => [f.id, i]));
      maxStep = Math.max(maxStep, ev.totalSteps);
      rows.length = 0;
      closest = null;
    } else if (ev.type === 'criteria') {
      if (!closest || ev.closeness > closest.closeness) closest = ev;
    } else if (ev.type === 'rectify') {
      const fi = index.get(ev.family) ?? -1;
      rows.push({
        index: rows.length,
        step: ev.step,
        family: ev.family,
        familyLabel: fi >= 0 ? families[fi].label : ev.family,
        familyIndex: fi,
        channel: ev.channel,
        cRate: ev.cRate,
        cLen: ev.cLen,
        decay: ev.decay,
      });
    }
    if ('step' in ev && typeof ev.step === 'number' && ev.step > maxStep) maxStep = ev.step;
  }
  return { rows, families, maxStep, closest };
}

/**
 * One sentence on how close Self-Rectifying came to releasing a channel, with a hint when
 * the thresholds sit above anything the run's gradients reached. Null before any criteria.
 */
export function describeClosest(c: CriteriaEvent | null, familyLabel: (id: string) => string, releases: number): string | null {
  if (!c) return null;
  const first = c.step - c.steps + 1;
  const when = c.steps > 1 ? `steps ${first}–${c.step}` : `step ${c.step}`;
  const where = `${familyLabel(c.family)} · channel ${c.channel}, ${when}`;
  const values = `C_rate ${c.cRate.toPrecision(3)} of T_rate ${c.tRate}, C_len ${c.cLen.toPrecision(3)} of T_len ${c.tLen}`;
  const text = `Closest to release: ${where} (${values}; closeness ${c.closeness.toFixed(2)}, release above 1).`;
  if (releases === 0 && c.closeness < 1) {
    const rate = c.cRate / Math.max(c.tRate, 1e-12);
    const len = c.cLen / Math.max(c.tLen, 1e-12);
    const which = rate < 1 && len < 1 ? 'T_rate and T_len' : rate < 1 ? 'T_rate' : 'T_len';
    return `${text} No channel has passed both thresholds: lower ${which} for Self-Rectifying to act on this run.`;
  }
  return text;
}

/** Counts of channels selected ('prune') and zeroed ('removed') in `bins` equal step bins. */
export function binActivity(events: EventLog, s0: number, s1: number, bins: number): ActivityBins {
  const pruned = new Int32Array(bins);
  const removed = new Int32Array(bins);
  const binSteps = (s1 - s0) / bins;
  let max = 0;
  for (const ev of events) {
    if (ev.type === 'model') {
      pruned.fill(0);
      removed.fill(0);
      max = 0;
      continue;
    }
    if (ev.type !== 'prune' && ev.type !== 'removed') continue;
    if (!(ev.step >= s0 && ev.step <= s1) || !(binSteps > 0)) continue;
    const b = Math.min(bins - 1, Math.floor((ev.step - s0) / binSteps));
    const arr = ev.type === 'prune' ? pruned : removed;
    arr[b] += ev.channels.length;
    if (arr[b] > max) max = arr[b];
  }
  return { s0, binSteps, pruned, removed, max };
}

export type SortKey = 'step' | 'family' | 'channel' | 'cRate' | 'cLen' | 'decay';

export function sortRows(rows: readonly RectificationRow[], key: SortKey, descending: boolean): RectificationRow[] {
  const sign = descending ? -1 : 1;
  const cmp = (a: RectificationRow, b: RectificationRow): number => {
    const primary =
      key === 'family'
        ? a.familyIndex - b.familyIndex || a.familyLabel.localeCompare(b.familyLabel)
        : (a[key] as number) - (b[key] as number);
    return sign * primary || a.index - b.index;
  };
  return [...rows].sort(cmp);
}

/** The rows a virtualised list of fixed-height rows shows at a scroll offset. */
export function visibleWindow(
  total: number,
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  overscan = 6,
): { from: number; to: number } {
  const from = Math.min(total, Math.max(0, Math.floor(scrollTop / rowHeight) - overscan));
  const to = Math.min(total, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { from, to: Math.max(from, to) };
}
