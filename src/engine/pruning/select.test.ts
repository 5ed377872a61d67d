import { describe, expect, it } from 'vitest';
import { buildModelDef } from '../models';
import { costOf, pointPlan, selectToTarget } from './select';

describe('pointPlan', () => {
  it('spaces points from startAt and ends on the target', () => {
    const p = pointPlan(1000, 0.2, 4, 50, 0.4);
    expect(p.steps).toEqual([200, 250, 300, 350]);
    expect(p.targets.map((t) => +t.toFixed(6))).toEqual([0.85, 0.7, 0.55, 0.4]);
  });
});

describe('selectToTarget', () => {
  const def = buildModelDef('resnet56');
  const full = def.families.map((f) => f.channels);
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  it.each([
    ['global', 'flops', 0.5],
    ['global', 'params', 0.3],
    ['layer', 'flops', 0.47],
    ['layer', 'params', 0.8],
  ] as const)('%s scope, %s target %s: minimal greedy set that meets the target', (scope, kind, target) => {
    const scores = def.families.map((f) => Float32Array.from({ length: f.channels }, rand));
    const chosen = selectToTarget({
      def,
      available: def.families.map((f) => new Array<boolean>(f.channels).fill(true)),
      staying: full,
      scores,
      minKeep: def.families.map(() => 1),
      scope,
      targetKind: kind,
      target,
    });
    const staying = full.slice();
    for (const c of chosen) staying[c.family]--;
    const dense = costOf(def, full, kind);
    expect(costOf(def, staying, kind)).toBeLessThanOrEqual(target * dense);
    // Minimal: without the last pick the target is not met.
    staying[chosen.at(-1)!.family]++;
    expect(costOf(def, staying, kind)).toBeGreaterThan(target * dense);
    expect(new Set(chosen.map((c) => `${c.family}:${c.channel}`)).size).toBe(chosen.length);
    if (scope === 'global') {
      const maxChosen = Math.max(...chosen.map((c) => c.score));
      const skippedBelow = scores.flatMap((s, f) => Array.from(s).filter((v, c) => v < maxChosen && !chosen.some((x) => x.family === f && x.channel === c)));
      expect(skippedBelow).toEqual([]);
    } else {
      const shares = def.families.map((f, i) => (f.channels - staying[i]) / f.channels);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThan(0.2);
    }
  });

  it('never takes a family under its minimum and skips unavailable channels', () => {
    const small = buildModelDef('tiny');
    const chosen = selectToTarget({
      def: small,
      available: small.families.map((f, i) => Array.from({ length: f.channels }, (_v, c) => !(i === 0 && c < 4))),
      staying: small.families.map((f) => f.channels),
      scores: small.families.map((f) => new Float32Array(f.channels)),
      minKeep: small.families.map((f) => Math.ceil(f.channels / 2)),
      scope: 'global',
      targetKind: 'flops',
      target: 0.01,
    });
    small.families.forEach((f, i) => expect(chosen.filter((c) => c.family === i).length).toBeLessThanOrEqual(f.channels - Math.ceil(f.channels / 2)));
    expect(chosen.some((c) => c.family === 0 && c.channel < 4)).toBe(false);
  });
});

describe('selectToTarget with align', () => {
  it('leaves every touched family at a multiple of 4, still meets the target, and prunes the least important extras', () => {
    const def = buildModelDef('resnet56');
    const full = def.families.map((f) => f.channels);
    const scores = def.families.map((f, i) => Float32Array.from({ length: f.channels }, (_v, c) => ((c * 7919 + i * 104729) % 1000) / 1000));
    const args = {
      def,
      available: def.families.map((f) => new Array<boolean>(f.channels).fill(true)),
      staying: full,
      scores,
      minKeep: def.families.map(() => 1),
      scope: 'global' as const,
      targetKind: 'flops' as const,
      target: 0.5,
    };
    const plain = selectToTarget(args);
    const aligned = selectToTarget({ ...args, align: 4 });
    const stayingAfter = (chosen: typeof plain) => {
      const s = full.slice();
      for (const c of chosen) s[c.family]--;
      return s;
    };
    const plainStaying = stayingAfter(plain);
    const alignedStaying = stayingAfter(aligned);
    // Without alignment some family ends off the multiple (otherwise this test proves nothing).
    expect(plainStaying.some((n) => n % 4 !== 0)).toBe(true);
    alignedStaying.forEach((n, f) => {
      if (n !== full[f]) expect(n % 4).toBe(0);
    });
    expect(costOf(def, alignedStaying, 'flops')).toBeLessThanOrEqual(0.5 * costOf(def, full, 'flops'));
    // The extras are the next least important channels of their family.
    for (const c of aligned.slice(plain.length)) {
      const left = Array.from(scores[c.family]).filter((_v, ch) => !aligned.some((x) => x.family === c.family && x.channel === ch));
      expect(Math.min(...left)).toBeGreaterThanOrEqual(c.score);
    }
  });
});
