import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed } from './rng';

describe('createRng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(sa);
    expect(sa.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('draws integers in range with roughly uniform counts', () => {
    const r = createRng(7);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[r.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200);
    expect(() => r.int(0)).toThrow(RangeError);
  });

  it('shuffles into a permutation, typed arrays included', () => {
    const arr = Int32Array.from({ length: 100 }, (_, i) => i);
    createRng(1).shuffle(arr);
    expect([...arr].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...arr]).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('restores a saved state exactly', () => {
    const r = createRng(9);
    r.next();
    const saved = r.state();
    const after = [r.next(), r.int(1000), r.next()];
    r.next();
    r.restore(saved);
    expect([r.next(), r.int(1000), r.next()]).toEqual(after);
  });

  it('derives distinct child seeds', () => {
    const seeds = new Set([0, 1, 2, 3].flatMap((s) => [0, 1, 2].map((k) => deriveSeed(s, k))));
    expect(seeds.size).toBe(12);
  });
});
