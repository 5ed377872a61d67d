import type { FamilyLayout } from '../../engine/events';
import { FamilyIndex } from './layout';

export type Metric = 'decay' | 'norm';

export interface TelemetryStoreOptions {
  /**
   * Most columns kept in memory (even, >= 2). When omitted it is derived from byteBudget and
   * clamped to [64, 4096]: more columns than a wide screen has pixels buys nothing.
   */
  maxColumns?: number;
  /** Bytes the two metric arrays may use together (default 48 MiB). */
  byteBudget?: number;
}

const DEFAULT_BYTE_BUDGET = 48 * 1024 * 1024;
const MIN_DEFAULT_COLUMNS = 64;
const MAX_DEFAULT_COLUMNS = 4096;
const INITIAL_CAPACITY = 64;

export function defaultMaxColumns(channels: number, byteBudget = DEFAULT_BYTE_BUDGET): number {
  const perColumn = Math.max(1, channels) * 2 * Float32Array.BYTES_PER_ELEMENT;
  const fit = Math.floor(byteBudget / perColumn);
  const clamped = Math.min(MAX_DEFAULT_COLUMNS, Math.max(MIN_DEFAULT_COLUMNS, fit));
  return clamped - (clamped % 2);
}

/**
 * Append-only column store of per-channel telemetry: one column per telemetry event, each
 * column the Float32 values of every channel (column-major, so an append is one contiguous
 * write and a column scan is cache-friendly).
 *
 * Memory is bounded by a decimation rule: when maxColumns columns are full and another sample
 * arrives, adjacent pairs of columns are merged and the stride (telemetry samples per column)
 * doubles; later samples accumulate into the newest column until it holds `stride` samples.
 * Every column therefore covers the same number of samples (only the newest may be partial),
 * and the result equals reducing the whole history in groups of `stride` (the tests check it),
 * which is what makes replaying a stored log draw the same map as watching it live.
 * Merge rule per metric:
 * - decay keeps the minimum: a channel that reached 0 (pruned) even once in a column stays 0,
 *   so a pruning or a deep dip before rectification never vanishes under averaging;
 * - norm keeps the sample-weighted mean: it is a magnitude that drifts, and the mean is its
 *   least biased single summary.
 */
export class TelemetryStore {
  readonly layout: FamilyIndex;
  readonly channels: number;
  readonly maxColumns: number;

  private capacity = 0;
  private decayData = new Float32Array(0);
  private normData = new Float32Array(0);
  private firstSteps = new Float64Array(0);
  private lastSteps = new Float64Array(0);
  private weights = new Int32Array(0);
  private readonly familyMax: Float32Array;

  /** Columns in use. */
  columns = 0;
  /** Telemetry samples per full column (a power of two). */
  stride = 1;
  /** Telemetry samples appended in total. */
  samples = 0;
  /** Incremented on every accepted append; views compare it to know what to redraw. */
  version = 0;
  /** Incremented on every pair-merge; a view must redraw from scratch after one. */
  compactions = 0;
  /** Largest norm seen in any channel. */
  globalMaxNorm = 0;

  constructor(families: readonly FamilyLayout[], options: TelemetryStoreOptions = {}) {
    this.layout = new FamilyIndex(families);
    this.channels = this.layout.total;
    const max = options.maxColumns ?? defaultMaxColumns(this.channels, options.byteBudget);
    if (!Number.isInteger(max) || max < 2 || max % 2 !== 0) {
      throw new Error(`maxColumns must be an even integer >= 2, got ${max}`);
    }
    this.maxColumns = max;
    this.familyMax = new Float32Array(families.length);
    this.grow(Math.min(INITIAL_CAPACITY, max));
  }

  get families(): readonly FamilyLayout[] {
    return this.layout.families;
  }

  /** Step of the newest sample, or NaN before the first. */
  get lastStep(): number {
    return this.columns === 0 ? NaN : this.lastSteps[this.columns - 1];
  }

  get firstStep(): number {
    return this.columns === 0 ? NaN : this.firstSteps[0];
  }

  /** Bytes held by the typed arrays (for the memory-bound test and the bench). */
  get bytes(): number {
    return (
      this.decayData.byteLength +
      this.normData.byteLength +
      this.firstSteps.byteLength +
      this.lastSteps.byteLength +
      this.weights.byteLength
    );
  }

  /**
   * Adds one telemetry sample. Steps must increase: a sample at or before the newest step is
   * ignored (false), which makes re-feeding an already-seen prefix of a log harmless.
   */
  append(step: number, decay: ArrayLike<number>, norm: ArrayLike<number>): boolean {
    if (decay.length !== this.channels || norm.length !== this.channels) {
      throw new Error(
        `telemetry at step ${step} has ${decay.length} decay / ${norm.length} norm values; the model has ${this.channels} channels`,
      );
    }
    if (this.columns > 0 && !(step > this.lastSteps[this.columns - 1])) return false;
    this.trackMax(norm);
    const C = this.channels;
    const last = this.columns - 1;
    if (last >= 0 && this.weights[last] < this.stride) {
      const w = this.weights[last];
      const base = last * C;
      for (let i = 0; i < C; i++) {
        const d = decay[i];
        if (d < this.decayData[base + i]) this.decayData[base + i] = d;
        this.normData[base + i] = (this.normData[base + i] * w + norm[i]) / (w + 1);
      }
      this.weights[last] = w + 1;
      this.lastSteps[last] = step;
    } else {
      if (this.columns === this.maxColumns) this.compact();
      if (this.columns === this.capacity) this.grow(Math.min(this.maxColumns, this.capacity * 2));
      const c = this.columns;
      const base = c * C;
      for (let i = 0; i < C; i++) {
        this.decayData[base + i] = decay[i];
        this.normData[base + i] = norm[i];
      }
      this.firstSteps[c] = step;
      this.lastSteps[c] = step;
      this.weights[c] = 1;
      this.columns = c + 1;
    }
    this.samples++;
    this.version++;
    return true;
  }

  /** The metric's values, column-major: column c's channel r at [c * channels + r]. */
  data(metric: Metric): Float32Array {
    return (metric === 'decay' ? this.decayData : this.normData).subarray(0, this.columns * this.channels);
  }

  value(metric: Metric, column: number, row: number): number {
    if (column < 0 || column >= this.columns || row < 0 || row >= this.channels) return NaN;
    return (metric === 'decay' ? this.decayData : this.normData)[column * this.channels + row];
  }

  columnFirstStep(column: number): number {
    return this.firstSteps[column];
  }

  columnLastStep(column: number): number {
    return this.lastSteps[column];
  }

  columnWeight(column: number): number {
    return this.weights[column];
  }

  /** Largest norm seen in a family (by index); the map normalises per family with it. */
  familyMaxNorm(familyIndex: number): number {
    return this.familyMax[familyIndex];
  }

  /**
   * The column that describes the state at `step` under sample-and-hold (a telemetry sample
   * stands until the next one): the last column whose first step is <= step; -1 before data.
   */
  columnAtStep(step: number): number {
    let lo = 0;
    let hi = this.columns - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.firstSteps[mid] <= step) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  private trackMax(norm: ArrayLike<number>): void {
    const off = this.layout.offsets;
    for (let f = 0; f < this.familyMax.length; f++) {
      let m = this.familyMax[f];
      for (let i = off[f]; i < off[f + 1]; i++) if (norm[i] > m) m = norm[i];
      this.familyMax[f] = m;
      if (m > this.globalMaxNorm) this.globalMaxNorm = m;
    }
  }

  private compact(): void {
    const C = this.channels;
    const half = this.columns >> 1;
    for (let j = 0; j < half; j++) {
      const a = 2 * j;
      const b = a + 1;
      const wa = this.weights[a];
      const wb = this.weights[b];
      const dst = j * C;
      const sa = a * C;
      const sb = b * C;
      for (let i = 0; i < C; i++) {
        const da = this.decayData[sa + i];
        const db = this.decayData[sb + i];
        this.decayData[dst + i] = db < da ? db : da;
        this.normData[dst + i] = (this.normData[sa + i] * wa + this.normData[sb + i] * wb) / (wa + wb);
      }
      this.firstSteps[j] = this.firstSteps[a];
      this.lastSteps[j] = this.lastSteps[b];
      this.weights[j] = wa + wb;
    }
    this.columns = half;
    this.stride *= 2;
    this.compactions++;
  }

  private grow(capacity: number): void {
    const C = this.channels;
    const decay = new Float32Array(capacity * C);
    const norm = new Float32Array(capacity * C);
    decay.set(this.decayData.subarray(0, this.columns * C));
    norm.set(this.normData.subarray(0, this.columns * C));
    const first = new Float64Array(capacity);
    const last = new Float64Array(capacity);
    const weights = new Int32Array(capacity);
    first.set(this.firstSteps.subarray(0, this.columns));
    last.set(this.lastSteps.subarray(0, this.columns));
    weights.set(this.weights.subarray(0, this.columns));
    this.decayData = decay;
    this.normData = norm;
    this.firstSteps = first;
    this.lastSteps = last;
    this.weights = weights;
    this.capacity = capacity;
  }
}
