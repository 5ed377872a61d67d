import type { Metric, TelemetryStore } from './telemetryStore';

export type Reducer = 'min' | 'mean' | 'max';

/**
 * How each metric is reduced when several steps or channels share one pixel (or one chart
 * point). Decay uses min so a channel that reached 0 even briefly still shows as pruned —
 * averaging would let one zero among live neighbours fade to a barely visible shade. Norm uses
 * the mean: it is a magnitude, and an extreme would exaggerate single noisy samples.
 */
export const METRIC_REDUCER: Record<Metric, Reducer> = { decay: 'min', norm: 'mean' };

/** Half-open source index ranges [start[i], end[i]) for `bins` equal bins over n items. */
export interface BinRanges {
  start: Int32Array;
  end: Int32Array;
}

/**
 * Splits n source items into `bins` contiguous bins. With more bins than items (zooming in)
 * each bin repeats the item under it (nearest), so no bin is ever empty while n > 0.
 */
export function binRanges(n: number, bins: number): BinRanges {
  const start = new Int32Array(bins);
  const end = new Int32Array(bins);
  for (let i = 0; i < bins; i++) {
    const s = Math.floor((i * n) / bins);
    const e = Math.floor(((i + 1) * n) / bins);
    start[i] = Math.min(s, Math.max(0, n - 1));
    end[i] = n === 0 ? 0 : Math.max(start[i] + 1, e);
  }
  return { start, end };
}

/**
 * Store columns under each of `width` pixels spanning steps [s0, s1) with sample-and-hold: a
 * telemetry sample describes the channel until the next one, so a pixel takes the column in
 * force at its left edge plus every column that starts inside it. Pixels before the first
 * sample or after the newest step are empty (start = end = 0).
 */
export function pixelColumnRanges(store: TelemetryStore, s0: number, s1: number, width: number): BinRanges {
  const start = new Int32Array(width);
  const end = new Int32Array(width);
  if (store.columns === 0 || !(s1 > s0)) return { start, end };
  const span = s1 - s0;
  const lastStep = store.lastStep;
  const firstStep = store.firstStep;
  for (let x = 0; x < width; x++) {
    const lo = s0 + (x * span) / width;
    const hi = s0 + ((x + 1) * span) / width;
    if (lo > lastStep || hi <= firstStep) continue;
    const a = Math.max(0, store.columnAtStep(lo));
    const atHi = store.columnAtStep(hi);
    // Last column starting strictly before hi (a column starting at hi belongs to the next pixel).
    const b = store.columnFirstStep(atHi) < hi ? atHi : atHi - 1;
    start[x] = a;
    end[x] = Math.max(a + 1, b + 1);
  }
  return { start, end };
}

/**
 * Reduces a column-major grid (column c, row r at src[c * stride + r]) to an outCols x outRows
 * image: out[y * outCols + x] reduces columns [cols.start[x], cols.end[x]) x rows
 * [rows.start[y], rows.end[y]) with `reducer`. Empty cells (no column or no row) are NaN.
 * Only output columns [xFrom, xTo) are written, which is how the map redraws just new pixels.
 * rowReducer, when it differs from reducer, reduces in two stages: each channel over the
 * pixel's columns with `reducer`, then those per-channel values with `rowReducer` (e.g. a
 * channel's min decay over time, then the mean over the channels sharing the pixel row).
 */
export function reduceGrid(
  src: Float32Array,
  stride: number,
  cols: BinRanges,
  rows: BinRanges,
  reducer: Reducer,
  out: Float32Array,
  xFrom = 0,
  xTo = cols.start.length,
  rowReducer: Reducer = reducer,
): void {
  const outCols = cols.start.length;
  const outRows = rows.start.length;
  if (rowReducer !== reducer) {
    reduceGridTwoStage(src, stride, cols, rows, reducer, rowReducer, out, xFrom, xTo);
    return;
  }
  for (let x = xFrom; x < xTo; x++) {
    const c0 = cols.start[x];
    const c1 = cols.end[x];
    for (let y = 0; y < outRows; y++) {
      const r0 = rows.start[y];
      const r1 = rows.end[y];
      let acc = reducer === 'min' ? Infinity : reducer === 'max' ? -Infinity : 0;
      let n = 0;
      for (let c = c0; c < c1; c++) {
        const base = c * stride;
        for (let r = r0; r < r1; r++) {
          const v = src[base + r];
          if (v !== v) continue; // NaN: a missing value must not poison the cell
          if (reducer === 'min') {
            if (v < acc) acc = v;
          } else if (reducer === 'max') {
            if (v > acc) acc = v;
          } else acc += v;
          n++;
        }
      }
      out[y * outCols + x] = n === 0 ? NaN : reducer === 'mean' ? acc / n : acc;
    }
  }
}

function reduceGridTwoStage(
  src: Float32Array,
  stride: number,
  cols: BinRanges,
  rows: BinRanges,
  colReducer: Reducer,
  rowReducer: Reducer,
  out: Float32Array,
  xFrom: number,
  xTo: number,
): void {
  const outCols = cols.start.length;
  const outRows = rows.start.length;
  for (let x = xFrom; x < xTo; x++) {
    const c0 = cols.start[x];
    const c1 = cols.end[x];
    for (let y = 0; y < outRows; y++) {
      let racc = rowReducer === 'min' ? Infinity : rowReducer === 'max' ? -Infinity : 0;
      let rn = 0;
      for (let r = rows.start[y]; r < rows.end[y]; r++) {
        let acc = colReducer === 'min' ? Infinity : colReducer === 'max' ? -Infinity : 0;
        let n = 0;
        for (let c = c0; c < c1; c++) {
          const v = src[c * stride + r];
          if (v !== v) continue;
          if (colReducer === 'min') {
            if (v < acc) acc = v;
          } else if (colReducer === 'max') {
            if (v > acc) acc = v;
          } else acc += v;
          n++;
        }
        if (n === 0) continue;
        const cell = colReducer === 'mean' ? acc / n : acc;
        if (rowReducer === 'min') {
          if (cell < racc) racc = cell;
        } else if (rowReducer === 'max') {
          if (cell > racc) racc = cell;
        } else racc += cell;
        rn++;
      }
      out[y * outCols + x] = rn === 0 ? NaN : rowReducer === 'mean' ? racc / rn : racc;
    }
  }
}

export interface SeriesPoint {
  step: number;
  value: number;
}

/**
 * Reduces a series to at most maxPoints points, one per contiguous bucket. For min and max the
 * point sits at the step of the extreme (so a decay curve's lowest point — where a rectified
 * channel turns back up — keeps its true step); for mean it sits at the bucket's mean step.
 */
export function downsampleSeries(
  steps: ArrayLike<number>,
  values: ArrayLike<number>,
  maxPoints: number,
  reducer: Reducer,
): SeriesPoint[] {
  const n = Math.min(steps.length, values.length);
  const bins = Math.min(n, Math.max(1, Math.floor(maxPoints)));
  const { start, end } = binRanges(n, bins);
  const out: SeriesPoint[] = [];
  for (let b = 0; b < bins; b++) {
    let best = NaN;
    let bestStep = NaN;
    let sum = 0;
    let stepSum = 0;
    let count = 0;
    for (let i = start[b]; i < end[b]; i++) {
      const v = values[i];
      if (v !== v) continue;
      count++;
      sum += v;
      stepSum += steps[i];
      if (
        best !== best ||
        (reducer === 'min' && v < best) ||
        (reducer === 'max' && v > best)
      ) {
        best = v;
        bestStep = steps[i];
      }
    }
    if (count === 0) continue;
    out.push(reducer === 'mean' ? { step: stepSum / count, value: sum / count } : { step: bestStep, value: best });
  }
  return out;
}

/** Channel rows [from, to) split over `pixelRows` output rows (min/mean/max per row). */
export function rowRanges(from: number, to: number, pixelRows: number): BinRanges {
  const r = binRanges(Math.max(0, to - from), pixelRows);
  for (let i = 0; i < pixelRows; i++) {
    r.start[i] += from;
    r.end[i] += from;
  }
  return r;
}

/** One channel's values over all store columns, for trajectories. */
export function channelSeries(store: TelemetryStore, metric: Metric, row: number): { steps: Float64Array; values: Float32Array } {
  const steps = new Float64Array(store.columns);
  const values = new Float32Array(store.columns);
  const data = store.data(metric);
  for (let c = 0; c < store.columns; c++) {
    steps[c] = store.columnFirstStep(c);
    values[c] = data[c * store.channels + row];
  }
  return { steps, values };
}
