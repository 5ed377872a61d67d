import { describe, expect, it } from 'vitest';
import { binRanges, downsampleSeries, pixelColumnRanges, reduceGrid, rowRanges } from './downsample';
import { MapRaster, type MapView } from './mapRaster';
import { TelemetryStore } from './telemetryStore';

describe('binRanges', () => {
  it('splits evenly when shrinking and repeats items when stretching', () => {
    const a = binRanges(10, 4);
    expect(Array.from(a.start)).toEqual([0, 2, 5, 7]);
    expect(Array.from(a.end)).toEqual([2, 5, 7, 10]);
    const b = binRanges(2, 4);
    expect(Array.from(b.start)).toEqual([0, 0, 1, 1]);
    expect(Array.from(b.end)).toEqual([1, 1, 2, 2]);
    const r = rowRanges(4, 8, 2);
    expect(Array.from(r.start)).toEqual([4, 6]);
    expect(Array.from(r.end)).toEqual([6, 8]);
  });
});

describe('reduceGrid', () => {
  // 4 columns x 3 rows, column-major: column c row r = src[c*3 + r]
  const src = Float32Array.from([
    1, 2, 3, // c0
    4, 0, 6, // c1
    7, 8, 9, // c2
    NaN, 11, 12, // c3
  ]);
  const cols = binRanges(4, 2); // [0,2) [2,4)
  const rows = binRanges(3, 1); // all rows

  it('computes exact min / mean / max per cell and skips NaN', () => {
    const out = new Float32Array(2);
    reduceGrid(src, 3, cols, rows, 'min', out);
    expect(Array.from(out)).toEqual([0, 7]);
    reduceGrid(src, 3, cols, rows, 'max', out);
    expect(Array.from(out)).toEqual([6, 12]);
    reduceGrid(src, 3, cols, rows, 'mean', out);
    expect(Array.from(out)).toEqual([16 / 6, 47 / 5].map(Math.fround));
  });

  it('keeps a lone zero under min while the mean hides it', () => {
    const C = 64;
    const big = new Float32Array(16 * C).fill(1);
    big[9 * C + 40] = 0;
    const one = { start: Int32Array.of(0), end: Int32Array.of(16) };
    const allRows = binRanges(C, 1);
    const out = new Float32Array(1);
    reduceGrid(big, C, one, allRows, 'min', out);
    expect(out[0]).toBe(0);
    reduceGrid(big, C, one, allRows, 'mean', out);
    expect(out[0]).toBeGreaterThan(0.99);
  });

  it('writes only the requested output columns', () => {
    const out = new Float32Array(2).fill(-1);
    reduceGrid(src, 3, cols, rows, 'min', out, 1, 2);
    expect(Array.from(out)).toEqual([-1, 7]);
  });
});

describe('pixelColumnRanges', () => {
  it('maps steps to columns with sample-and-hold and leaves the future empty', () => {
    const s = new TelemetryStore([{ id: 'a', label: 'A', channels: 1 }], { maxColumns: 8 });
    for (const st of [0, 10, 20]) s.append(st, [1], [1]);
    // 8 pixels over steps [0, 40): 5 steps per pixel
    const r = pixelColumnRanges(s, 0, 40, 8);
    expect(Array.from(r.start)).toEqual([0, 0, 1, 1, 2, 0, 0, 0]);
    expect(Array.from(r.end)).toEqual([1, 1, 2, 2, 3, 0, 0, 0]);
    // 2 pixels over [0, 40): the first holds columns 0 and 1
    const wide = pixelColumnRanges(s, 0, 40, 2);
    expect(Array.from(wide.start)).toEqual([0, 2]);
    expect(Array.from(wide.end)).toEqual([2, 3]);
  });
});

describe('downsampleSeries', () => {
  const steps = [0, 10, 20, 30, 40, 50];
  const values = [1, 0.8, 0.2, 0.5, 0.9, 1];

  it('puts min and max points at the step of the extreme', () => {
    expect(downsampleSeries(steps, values, 2, 'min')).toEqual([
      { step: 20, value: 0.2 },
      { step: 30, value: 0.5 },
    ]);
    expect(downsampleSeries(steps, values, 2, 'max')).toEqual([
      { step: 0, value: 1 },
      { step: 50, value: 1 },
    ]);
  });

  it('averages value and step for mean and returns short series unchanged', () => {
    const m = downsampleSeries(steps, values, 3, 'mean');
    expect(m.map((p) => p.step)).toEqual([5, 25, 45]);
    expect(m[0].value).toBeCloseTo(0.9);
    expect(m[1].value).toBeCloseTo(0.35);
    expect(downsampleSeries(steps, values, 500, 'min')).toEqual(steps.map((step, i) => ({ step, value: values[i] })));
  });
});

describe('MapRaster', () => {
  const fams = [
    { id: 'a', label: 'A', channels: 5 },
    { id: 'b', label: 'B', channels: 7 },
  ];
  const sample = (k: number) => ({
    decay: Array.from({ length: 12 }, (_, r) => ((r * 7 + k * 3) % 11) / 10),
    norm: Array.from({ length: 12 }, (_, r) => 1 + ((r + k) % 5) + (r < 5 ? 10 : 0)),
  });

  for (const mode of ['decay', 'norm-family', 'norm-global'] as const) {
    it(`incremental redraws equal a full redraw (${mode})`, () => {
      const view: MapView = { s0: 0, s1: 400, rowFrom: 0, rowTo: 12, width: 37, height: 5, mode };
      const live = new TelemetryStore(fams, { maxColumns: 8 });
      const liveRaster = new MapRaster();
      let partial = 0;
      for (let k = 0; k < 60; k++) {
        const x = sample(k);
        live.append(k * 5, x.decay, x.norm);
        const span = liveRaster.update(live, view);
        expect(span).not.toBeNull();
        if (span && !span.full) {
          partial++;
          expect(span.x1 - span.x0).toBeLessThan(view.width);
        }
        const fresh = new MapRaster();
        fresh.update(live, view);
        expect(liveRaster.rgba).toEqual(fresh.rgba);
      }
      expect(partial).toBeGreaterThan(10);
      expect(liveRaster.update(live, view)).toBeNull();
    });
  }

  it('paints pruned channels with the darkest colour and the future as empty', () => {
    const s = new TelemetryStore([{ id: 'a', label: 'A', channels: 2 }], { maxColumns: 4 });
    s.append(0, [1, 0], [1, 1]);
    const r = new MapRaster();
    r.update(s, { s0: 0, s1: 10, rowFrom: 0, rowTo: 2, width: 2, height: 2, mode: 'decay' });
    // last sample at step 0 -> pixel 0 (steps 0..5) has data, pixel 1 (5..10) is empty
    expect(Array.from(r.rgba.slice(0, 4))).toEqual([252, 255, 164, 255]);
    expect(Array.from(r.rgba.slice(8, 12))).toEqual([0, 0, 4, 255]);
    expect(Array.from(r.rgba.slice(4, 8))).toEqual([238, 240, 243, 255]);
  });
});

describe('reduceGrid two-stage', () => {
  it('reduces each channel over steps first, then across channels', () => {
    // 2 columns x 4 rows; channel 0 hits zero once, others stay at 1
    const src = Float32Array.from([1, 1, 1, 1, 0, 1, 1, 1]);
    const cols = { start: Int32Array.of(0), end: Int32Array.of(2) };
    const rows = binRanges(4, 1);
    const out = new Float32Array(1);
    reduceGrid(src, 4, cols, rows, 'min', out, 0, 1, 'mean');
    expect(out[0]).toBe(0.75);
    reduceGrid(src, 4, cols, rows, 'min', out, 0, 1, 'min');
    expect(out[0]).toBe(0);
    reduceGrid(src, 4, cols, rows, 'mean', out, 0, 1, 'min');
    expect(out[0]).toBe(0.5);
  });
});
