import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TelemetryStore, defaultMaxColumns } from './telemetryStore';
import type { FamilyLayout } from '../../engine/events';

const FAMS: FamilyLayout[] = [
  { id: 'a', label: 'A', channels: 2 },
  { id: 'b', label: 'B', channels: 1 },
];

interface Sample {
  step: number;
  decay: number[];
  norm: number[];
}

/** The documented rule, written independently of the store: groups of `stride` samples. */
function reference(samples: Sample[], maxColumns: number) {
  let stride = 1;
  while (Math.ceil(samples.length / stride) > maxColumns) stride *= 2;
  const cols = [];
  for (let s = 0; s < samples.length; s += stride) {
    const g = samples.slice(s, s + stride);
    const C = g[0].decay.length;
    const decay = Array.from({ length: C }, (_, i) => Math.min(...g.map((x) => Math.fround(x.decay[i]))));
    const norm = Array.from({ length: C }, (_, i) => g.reduce((t, x) => t + x.norm[i], 0) / g.length);
    cols.push({ first: g[0].step, last: g[g.length - 1].step, weight: g.length, decay, norm });
  }
  return { stride, cols };
}

function contents(store: TelemetryStore) {
  const cols = [];
  for (let c = 0; c < store.columns; c++) {
    cols.push({
      first: store.columnFirstStep(c),
      last: store.columnLastStep(c),
      weight: store.columnWeight(c),
      decay: Array.from({ length: store.channels }, (_, r) => store.value('decay', c, r)),
      norm: Array.from({ length: store.channels }, (_, r) => store.value('norm', c, r)),
    });
  }
  return cols;
}

describe('TelemetryStore', () => {
  it('stores one column per sample, column-major, with exact values', () => {
    const s = new TelemetryStore(FAMS, { maxColumns: 8 });
    expect(s.channels).toBe(3);
    expect(s.append(10, [1, 0.5, 0.25], [3, 2, 1])).toBe(true);
    expect(s.append(20, [0.75, 0, 1], [4, 5, 6])).toBe(true);
    expect(s.columns).toBe(2);
    expect(Array.from(s.data('decay'))).toEqual([1, 0.5, 0.25, 0.75, 0, 1]);
    expect(Array.from(s.data('norm'))).toEqual([3, 2, 1, 4, 5, 6]);
    expect(s.firstStep).toBe(10);
    expect(s.lastStep).toBe(20);
    expect(s.familyMaxNorm(0)).toBe(5);
    expect(s.familyMaxNorm(1)).toBe(6);
    expect(s.globalMaxNorm).toBe(6);
  });

  it('ignores samples that do not advance the step and rejects wrong lengths', () => {
    const s = new TelemetryStore(FAMS, { maxColumns: 4 });
    s.append(5, [1, 1, 1], [1, 1, 1]);
    expect(s.append(5, [0, 0, 0], [0, 0, 0])).toBe(false);
    expect(s.append(3, [0, 0, 0], [0, 0, 0])).toBe(false);
    expect(s.columns).toBe(1);
    expect(s.value('decay', 0, 0)).toBe(1);
    expect(() => s.append(6, [1, 1], [1, 1])).toThrow(/3 channels/);
  });

  it('merges pairs when full: decay by min, norm by mean, stride doubles', () => {
    const s = new TelemetryStore([{ id: 'a', label: 'A', channels: 1 }], { maxColumns: 4 });
    const decays = [1, 0.9, 0, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
    decays.forEach((d, i) => s.append(i + 1, [d], [i + 1]));
    // 9 samples in 4 columns: stride 4 -> [1..4], [5..8], [9]
    expect(s.stride).toBe(4);
    expect(s.compactions).toBe(2);
    expect(s.columns).toBe(3);
    expect(Array.from(s.data('decay'))).toEqual([0, Math.fround(0.3), Math.fround(0.2)]);
    expect(Array.from(s.data('norm'))).toEqual([2.5, 6.5, 9]);
    expect([0, 1, 2].map((c) => [s.columnFirstStep(c), s.columnLastStep(c), s.columnWeight(c)])).toEqual([
      [1, 4, 4],
      [5, 8, 4],
      [9, 9, 1],
    ]);
  });

  it('keeps a single zero visible after heavy decimation', () => {
    const s = new TelemetryStore([{ id: 'a', label: 'A', channels: 2 }], { maxColumns: 8 });
    for (let i = 0; i < 1000; i++) s.append(i, [i === 617 ? 0 : 1, 1], [1, 1]);
    const col = s.columnAtStep(617);
    expect(s.value('decay', col, 0)).toBe(0);
    expect(s.value('decay', col, 1)).toBe(1);
    let zeros = 0;
    for (let c = 0; c < s.columns; c++) if (s.value('decay', c, 0) === 0) zeros++;
    expect(zeros).toBe(1);
  });

  it('streaming appends equal the batch rule for any history and cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(2, 4, 6, 8, 16),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.float({ min: 0, max: 1, noNaN: true }), fc.float({ min: 0, max: 10, noNaN: true })), {
          maxLength: 150,
        }),
        (C, cap, raw) => {
          let step = 0;
          const samples: Sample[] = raw.map(([dt, d, n], k) => {
            step += dt;
            return {
              step,
              decay: Array.from({ length: C }, (_, i) => (d + i * 0.1 + k * 0.01) % 1),
              norm: Array.from({ length: C }, (_, i) => n + i),
            };
          });
          const store = new TelemetryStore([{ id: 'f', label: 'F', channels: C }], { maxColumns: cap });
          for (const x of samples) store.append(x.step, x.decay, x.norm);
          if (samples.length === 0) {
            expect(store.columns).toBe(0);
            return;
          }
          const ref = reference(samples, cap);
          expect(store.stride).toBe(ref.stride);
          const got = contents(store);
          expect(got.length).toBe(ref.cols.length);
          got.forEach((g, j) => {
            const r = ref.cols[j];
            expect([g.first, g.last, g.weight]).toEqual([r.first, r.last, r.weight]);
            expect(g.decay).toEqual(r.decay);
            g.norm.forEach((v, i) => expect(v).toBeCloseTo(r.norm[i], 4));
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('bounds memory: columns never exceed the cap and bytes stop growing', () => {
    const s = new TelemetryStore([{ id: 'a', label: 'A', channels: 100 }], { maxColumns: 32 });
    const d = new Array(100).fill(1);
    let bytesAtCap = 0;
    for (let i = 0; i < 20_000; i++) {
      s.append(i, d, d);
      expect(s.columns).toBeLessThanOrEqual(32);
      if (i === 32) bytesAtCap = s.bytes;
    }
    expect(s.bytes).toBe(bytesAtCap);
    expect(s.bytes).toBeLessThanOrEqual(32 * (100 * 8 + 20));
    expect(s.samples).toBe(20_000);
  });

  it('derives an even default cap from the byte budget', () => {
    expect(defaultMaxColumns(1120)).toBe(4096);
    const vgg = defaultMaxColumns(4224);
    expect(vgg % 2).toBe(0);
    expect(vgg * 4224 * 8).toBeLessThanOrEqual(48 * 1024 * 1024);
    expect(defaultMaxColumns(1_000_000)).toBe(64);
    expect(() => new TelemetryStore(FAMS, { maxColumns: 3 })).toThrow(/even/);
  });

  it('finds the column in force at a step (sample-and-hold)', () => {
    const s = new TelemetryStore(FAMS, { maxColumns: 8 });
    for (const st of [10, 20, 30]) s.append(st, [1, 1, 1], [1, 1, 1]);
    expect(s.columnAtStep(5)).toBe(-1);
    expect(s.columnAtStep(10)).toBe(0);
    expect(s.columnAtStep(19)).toBe(0);
    expect(s.columnAtStep(20)).toBe(1);
    expect(s.columnAtStep(1000)).toBe(2);
  });
});
