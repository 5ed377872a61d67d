import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { downsample, sharedStepDomain, stepSeries, trailingMean } from './chartData';

describe('chart data', () => {
  it('downsample keeps order, ends and the size bound', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 2000 }), fc.integer({ min: 2, max: 500 }), (items, max) => {
        const out = downsample(items, max);
        expect(out.length).toBe(Math.min(items.length, max));
        if (items.length > 0) {
          expect(out[0]).toBe(items[0]);
          expect(out.at(-1)).toBe(items.at(-1));
        }
        const idx = out.map((v, i) => items.indexOf(v, i === 0 ? 0 : undefined));
        expect(idx.every((x) => x >= 0)).toBe(true);
      }),
    );
    const sorted = Array.from({ length: 1000 }, (_, i) => i);
    const out = downsample(sorted, 100);
    expect(out.every((v, i) => i === 0 || v > out[i - 1])).toBe(true);
  });

  it('trailingMean averages over the window', () => {
    expect(trailingMean([2, 4, 6, 8], 2)).toEqual([2, 3, 5, 7]);
    expect(trailingMean([1, 2, 3], 10)).toEqual([1, 1.5, 2]);
  });

  it('stepSeries and the shared domain', () => {
    const s = stepSeries([{ step: 1, a: 3 }, { step: 5, a: 4 }], (x) => x.a);
    expect(s).toEqual([
      { step: 1, value: 3 },
      { step: 5, value: 4 },
    ]);
    expect(sharedStepDomain([s, [{ step: 9, value: 0 }], []])).toEqual([0, 9]);
    expect(sharedStepDomain([])).toEqual([0, 1]);
  });
});
