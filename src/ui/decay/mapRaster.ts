import { DECAY_SCALE, EMPTY_RGB, NORM_SCALE, lutIndex } from './colormap';
import { METRIC_REDUCER, pixelColumnRanges, reduceGrid, rowRanges, type BinRanges, type Reducer } from './downsample';
import type { Metric, TelemetryStore } from './telemetryStore';

/**
 * decay: the schedule's multiplier, 0..1 as is.
 * norm-family: each channel's norm over the largest norm its family has shown so far.
 * norm-global: each norm over the largest norm of any channel so far.
 */
export type ColorMode = 'decay' | 'norm-family' | 'norm-global';

export interface MapView {
  /** Step range drawn, [s0, s1). */
  s0: number;
  s1: number;
  /** Flat channel rows drawn, [rowFrom, rowTo). */
  rowFrom: number;
  rowTo: number;
  /** Image size in pixels. */
  width: number;
  height: number;
  mode: ColorMode;
  /**
   * How channels sharing a pixel row combine, after each channel is reduced over the pixel's
   * steps with its metric's reducer (decay: min). Default: the metric's reducer, so a row
   * with any pruned channel shows pruned; 'mean' shows the pruned fraction instead.
   */
  channelReducer?: Reducer;
}

export function metricOf(mode: ColorMode): Metric {
  return mode === 'decay' ? 'decay' : 'norm';
}

/** What update() redrew, in pixel columns [x0, x1); null when nothing changed. */
export interface DirtySpan {
  x0: number;
  x1: number;
  full: boolean;
}

/** A norm scale this much larger than the one drawn with forces a full redraw. */
const SCALE_TOLERANCE = 0.02;

/**
 * Turns the telemetry store into RGBA pixels for a view, redrawing only what changed since the
 * last call: new pixel columns while samples stream in, everything after a view change, a
 * store compaction or a norm-scale change. Pure (no DOM), so it is unit-tested and benched.
 */
export class MapRaster {
  rgba = new Uint8ClampedArray(0);
  values = new Float32Array(0);
  private viewKey = '';
  private drawnVersion = -1;
  private drawnCompactions = -1;
  private drawnColumns = 0;
  private drawnScales: Float32Array = new Float32Array(0);
  private rows: BinRanges = { start: new Int32Array(0), end: new Int32Array(0) };
  /** Family index of each pixel row's first channel, for per-family norm scaling. */
  private rowFamily = new Int32Array(0);

  update(store: TelemetryStore, view: MapView): DirtySpan | null {
    const { width, height } = view;
    const key = `${view.s0}|${view.s1}|${view.rowFrom}|${view.rowTo}|${width}|${height}|${view.mode}|${view.channelReducer ?? ''}|${store.channels}`;
    const scales = this.currentScales(store, view.mode);
    let full = key !== this.viewKey || store.compactions !== this.drawnCompactions || this.scalesMoved(scales);
    if (!full && store.version === this.drawnVersion) return null;
    if (key !== this.viewKey) {
      this.rgba = new Uint8ClampedArray(width * height * 4);
      this.values = new Float32Array(width * height);
      this.rows = rowRanges(view.rowFrom, view.rowTo, height);
      this.rowFamily = new Int32Array(height);
      for (let y = 0; y < height; y++) this.rowFamily[y] = store.layout.familyOfRow(this.rows.start[y]);
      full = true;
    }
    const span = view.s1 - view.s0;
    let x0 = 0;
    let x1 = width;
    if (!full && span > 0) {
      // The newest column drawn last time may have grown (partial column at stride > 1), and
      // pixels past the old newest step were empty: redraw from where that column starts.
      const lastDrawn = Math.max(0, this.drawnColumns - 1);
      const from = store.columnFirstStep(lastDrawn);
      x0 = Math.max(0, Math.min(width, Math.floor(((from - view.s0) * width) / span)));
      x1 = Math.max(x0, Math.min(width, Math.floor(((store.lastStep - view.s0) * width) / span) + 1));
    }
    const cols = pixelColumnRanges(store, view.s0, view.s1, width);
    const metric = metricOf(view.mode);
    const reducer = METRIC_REDUCER[metric];
    reduceGrid(store.data(metric), store.channels, cols, this.rows, reducer, this.values, x0, x1, view.channelReducer ?? reducer);
    this.paint(view.mode, scales, width, height, x0, x1);
    this.viewKey = key;
    this.drawnVersion = store.version;
    this.drawnCompactions = store.compactions;
    this.drawnColumns = store.columns;
    this.drawnScales = scales;
    return { x0, x1, full };
  }

  /** Forces the next update() to redraw everything. */
  invalidate(): void {
    this.viewKey = '';
  }

  private currentScales(store: TelemetryStore, mode: ColorMode): Float32Array {
    if (mode === 'decay') return new Float32Array(0);
    if (mode === 'norm-global') return Float32Array.of(store.globalMaxNorm);
    const s = new Float32Array(store.families.length);
    for (let f = 0; f < s.length; f++) s[f] = store.familyMaxNorm(f);
    return s;
  }

  private scalesMoved(scales: Float32Array): boolean {
    if (scales.length !== this.drawnScales.length) return true;
    for (let i = 0; i < scales.length; i++) {
      const old = this.drawnScales[i];
      if (Math.abs(scales[i] - old) > SCALE_TOLERANCE * Math.max(old, 1e-12)) return true;
    }
    return false;
  }

  private paint(mode: ColorMode, scales: Float32Array, width: number, height: number, x0: number, x1: number): void {
    const lut = mode === 'decay' ? DECAY_SCALE.lut : NORM_SCALE.lut;
    const scaleFor = (y: number): number =>
      mode === 'decay' ? 1 : mode === 'norm-global' ? scales[0] : scales[this.rowFamily[y]] ?? 0;
    for (let y = 0; y < height; y++) {
      const scale = scaleFor(y);
      const inv = scale > 0 ? 1 / scale : 0;
      for (let x = x0; x < x1; x++) {
        const v = this.values[y * width + x];
        const p = (y * width + x) * 4;
        if (v !== v) {
          this.rgba[p] = EMPTY_RGB[0];
          this.rgba[p + 1] = EMPTY_RGB[1];
          this.rgba[p + 2] = EMPTY_RGB[2];
        } else {
          const i = lutIndex(v * inv) * 3;
          this.rgba[p] = lut[i];
          this.rgba[p + 1] = lut[i + 1];
          this.rgba[p + 2] = lut[i + 2];
        }
        this.rgba[p + 3] = 255;
      }
    }
  }
}
