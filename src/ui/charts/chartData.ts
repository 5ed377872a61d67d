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
