import type { PruneEvent, RemovedEvent, RunDerived } from '../../store/runReducer';
import { toArray } from '../../store/series';

/**
 * Chart series from a run's derived state. Charts draw at most a few hundred points however
 * long the run: the series are thinned by stride, always keeping the first and last point so
 * the live end of a curve is never dropped.
 */

export const MAX_CHART_POINTS = 400;

export function downsample<T>(items: readonly T[], max = MAX_CHART_POINTS): T[] {
  if (items.length <= max) return items.slice();
  if (max < 2) return items.slice(-Math.max(0, max));
  const out: T[] = [];
  const stride = (items.length - 1) / (max - 1);
  for (let i = 0; i < max - 1; i++) out.push(items[Math.round(i * stride)]);
  out.push(items[items.length - 1]);
  return out;
}

/** Mean over a trailing window: per-step loss is noisy, the smoothed line shows the trend. */
export function trailingMean(values: readonly number[], window: number): number[] {
  const out = new Array<number>(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= window) sum -= values[i - window];
    out[i] = sum / Math.min(i + 1, window);
  }
  return out;
}

export interface XY {
  step: number;
  value: number;
}

/** A chart-ready copy of `key` over steps, thinned. */
export function stepSeries<T extends { step: number }>(items: readonly T[], value: (item: T) => number, max = MAX_CHART_POINTS): XY[] {
  return downsample(items, max).map((item) => ({ step: item.step, value: value(item) }));
}

/** Shared x-axis domain for overlaid runs: from 0 to the longest run's last step. */
export function sharedStepDomain(series: readonly (readonly XY[])[]): [number, number] {
  let maxStep = 0;
  for (const s of series) if (s.length > 0) maxStep = Math.max(maxStep, s[s.length - 1].step);
  return [0, Math.max(1, maxStep)];
}

/**
 * Steps at which channels were cut at once: a `removed` event naming channels that a `prune`
 * event of the same family selected at the same step (abrupt pruning, or a channel whose norm
 * was already zero). Decaying channels are removed N steps after their selection, never at it.
 */
export function cutSteps(prunes: readonly PruneEvent[], removals: readonly RemovedEvent[]): Set<number> {
  const selected = new Set<string>();
  for (const p of prunes) for (const c of p.channels) selected.add(`${p.step}/${p.family}/${c}`);
  const cuts = new Set<number>();
  for (const r of removals) if (r.channels.some((c) => selected.has(`${r.step}/${r.family}/${c}`))) cuts.add(r.step);
  return cuts;
}

/**
 * Chart rows of a quantity the engine reports only when it changes (kept FLOPs and params: one
 * cost event per change), drawn as what it is between reports. At a cut the previous row is
 * repeated at the cut's step, so the line holds flat and falls vertically there instead of
 * ramping from the previous report. Elsewhere rows are joined as reported: under SP/SR the
 * rows at a point and at its channels' removal N steps later bound the decay, drawn as a ramp.
 * The last value holds to `until` (the run's latest step), so a run's line spans the run.
 * Example: reports (0, 1), (40, 0.6) with a cut at 40, until 100 →
 * (0, 1), (40, 1), (40, 0.6), (100, 0.6).
 */
export function heldRows<T extends { step: number }>(rows: readonly T[], cuts: ReadonlySet<number>, until: number): T[] {
  const out: T[] = [];
  rows.forEach((row, i) => {
    const prev = rows[i - 1];
    if (prev && cuts.has(row.step) && prev.step < row.step) out.push({ ...prev, step: row.step });
    out.push(row);
  });
  const tail = rows.at(-1);
  if (tail && until > tail.step) out.push({ ...tail, step: until });
  return out;
}

export interface CostRow {
  step: number;
  flops: number;
  params: number;
}

/** A run's kept FLOPs and params over steps as its charts draw them: cliffs at cuts, ramps over decays. */
export function costRows(derived: Pick<RunDerived, 'costs' | 'prunes' | 'removals' | 'latestStep'>): CostRow[] {
  const reports = downsample(toArray(derived.costs)).map((c) => ({ step: c.step, flops: c.flopsFraction, params: c.paramsFraction }));
  return heldRows(reports, cutSteps(toArray(derived.prunes), toArray(derived.removals)), derived.latestStep);
}
