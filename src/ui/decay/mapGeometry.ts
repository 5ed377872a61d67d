import type { MapView } from './mapRaster';

/** A drag shorter than this many steps is a click, not a zoom. */
export const MIN_SPAN_STEPS = 4;

/** Where a pointer lands on the map: clamped pixel, the step under the pixel's centre, the row. */
export interface MapHit {
  x: number;
  y: number;
  step: number;
  row: number;
}

/**
 * The one home of the map's step<->pixel and row<->pixel maths. Pixel x covers steps
 * [stepAt(x), stepAt(x + 1)) and flat row r covers pixels [yOf(r), yOf(r + 1)). xOf and
 * stepAt are exact inverses on continuous coordinates; rowAt and hit() answer "what is under
 * this pixel" for pointer events.
 *
 * Example: 100 px wide over steps [0, 400), 3 rows over 60 px: xOf(200) = 50,
 * stepAt(50) = 200, hit(10, 25) = { step: 42, row: 1 } (step at the pixel's centre, 10.5 px).
 */
export interface MapGeometry {
  /** Pixel x (continuous, left edge) where `step` falls. */
  xOf(step: number): number;
  /** Step (continuous) at pixel coordinate x; inverse of xOf. */
  stepAt(x: number): number;
  /** Pixel y (continuous, top edge) of flat row `row`. */
  yOf(row: number): number;
  /** Flat row drawn at pixel y, clamped into [rowFrom, rowTo - 1]. */
  rowAt(y: number): number;
  /** Pointer at (x, y) relative to the map's top-left, clamped into the image. */
  hit(x: number, y: number): MapHit;
  /** Steps spanned by a drag between pixels xa and xb; null when too short to be a zoom. */
  brushSteps(xa: number, xb: number): [number, number] | null;
  /** Rows shown (at least 1, so an empty family still maps). */
  rowCount: number;
}

export function mapGeometry(view: Pick<MapView, 's0' | 's1' | 'rowFrom' | 'rowTo' | 'width' | 'height'>): MapGeometry {
  const { s0, s1, rowFrom, rowTo, width, height } = view;
  const span = s1 - s0;
  const rowCount = Math.max(1, rowTo - rowFrom);
  const xOf = (step: number) => ((step - s0) / span) * width;
  const stepAt = (x: number) => s0 + (x / width) * span;
  const yOf = (row: number) => ((row - rowFrom) / rowCount) * height;
  const rowAt = (y: number) => rowFrom + Math.max(0, Math.min(rowCount - 1, Math.floor((y / height) * rowCount)));
  return {
    xOf,
    stepAt,
    yOf,
    rowAt,
    rowCount,
    hit(px, py) {
      const x = Math.min(width - 1, Math.max(0, px));
      const y = Math.min(height - 1, Math.max(0, py));
      return { x, y, step: stepAt(x + 0.5), row: rowAt(y) };
    },
    brushSteps(xa, xb) {
      const a = stepAt(Math.min(xa, xb));
      const b = stepAt(Math.max(xa, xb));
      return b - a >= MIN_SPAN_STEPS ? [a, b] : null;
    },
  };
}

/** Scales [s0, s1] by `factor` around the fraction `at` of it, kept inside [0, max]. */
export function zoomRange(s0: number, s1: number, at: number, factor: number, max: number): [number, number] {
  const span = Math.min(max, Math.max(MIN_SPAN_STEPS, (s1 - s0) * factor));
  const pivot = s0 + at * (s1 - s0);
  let a = pivot - at * span;
  let b = a + span;
  if (a < 0) {
    b -= a;
    a = 0;
  }
  if (b > max) {
    a -= b - max;
    b = max;
  }
  return [Math.max(0, a), b];
}
