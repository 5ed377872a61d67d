import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { append, appendAll, at, emptySeries, last, seriesFrom, toArray, type Series } from './series';

describe('Series', () => {
  it('behaves like an immutable array under any sequence of appends and branches', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(20), fc.array(fc.integer(), { maxLength: 3 })), { maxLength: 40 }), (ops) => {
        const versions: { s: Series<number>; model: number[] }[] = [{ s: emptySeries(), model: [] }];
        for (const [pick, items] of ops) {
          const base = versions[pick % versions.length];
          const s = items.length === 1 ? append(base.s, items[0]) : appendAll(base.s, items);
          versions.push({ s, model: [...base.model, ...items] });
        }
        for (const v of versions) {
          expect(toArray(v.s)).toEqual(v.model);
          expect(v.s.length).toBe(v.model.length);
          expect(last(v.s)).toBe(v.model.at(-1));
        }
      }),
    );
  });

  it('reads by index within bounds only', () => {
    const s = seriesFrom([1, 2, 3]);
    const t = append(s, 4);
    expect(at(s, 2)).toBe(3);
    expect(at(s, 3)).toBeUndefined();
    expect(at(t, 3)).toBe(4);
    expect(at(t, -1)).toBeUndefined();
    expect(toArray(s)).toEqual([1, 2, 3]);
  });
});
