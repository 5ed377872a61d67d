import { describe, expect, it } from 'vitest';
import { ALIVE, DECAYING, REMOVED, applyCriteria, criteriaLayout, criteriaView, decayInputs, emptyStates, releaseCloseness, srCriteria, srJudges, type ChannelStates, type DecayCriteria, type FamilyCriteria } from './decay-state';

/** Two families of 3 and 2 channels; family 0's channel 1 and family 1's channel 0 decaying since step 10 from L_init 2 and 4. */
function states(): ChannelStates {
  const st = emptyStates([3, 2]);
  st.status[0].set([ALIVE, DECAYING, REMOVED]);
  st.selStep[0][1] = 10;
  st.linit[0][1] = 2;
  st.status[1].set([DECAYING, ALIVE]);
  st.selStep[1][0] = 10;
  st.linit[1][0] = 4;
  return st;
}

const crit = (C: number, over: Partial<Record<keyof FamilyCriteria, number[]>> = {}): FamilyCriteria => ({
  cRate: Float32Array.from(over.cRate ?? new Array<number>(C).fill(0)),
  cLen: Float32Array.from(over.cLen ?? new Array<number>(C).fill(0)),
  release: Float32Array.from(over.release ?? new Array<number>(C).fill(0)),
  cross: Float32Array.from(over.cross ?? new Array<number>(C).fill(0)),
});

const opts = { N: 4, sr: true, tRate: 0.5, tLen: 1.5 };

describe('decayInputs', () => {
  it('targets (N - n) * L_s; measures the update against the last norm read back, else (N - n + 1) * L_s', () => {
    const st = states();
    const [a, b] = decayInputs(st, 11, 4, true);
    expect(a.mode).toBe('decay');
    expect(Array.from(a.alive)).toEqual([1, 0, 0]);
    expect(Array.from(a.dec)).toEqual([0, 1, 0]);
    expect(a.target[1]).toBeCloseTo(3 * 0.5);
    expect(a.prev[1]).toBeCloseTo(4 * 0.5);
    expect(a.linit[1]).toBe(2);
    expect(a.linit[0]).toBe(0);
    expect(a.prev[0]).toBe(0);
    // Where a shared tensor left the group off its target, the norm read back is what counts.
    st.lastNorm[0][1] = 1.97;
    expect(decayInputs(st, 11, 4, true)[0].prev[1]).toBeCloseTo(1.97);
    expect(b.target[0]).toBeCloseTo(3 * 1);
    expect(a.criteria && b.criteria).toBe(true);
    st.status[1][0] = REMOVED;
    st.status[0][1] = ALIVE;
    st.status[0][2] = ALIVE;
    const [c, d] = decayInputs(st, 11, 4, true);
    expect(c.mode).toBe('keep');
    expect(d.mode).toBe('mask');
    expect(c.criteria || d.criteria).toBe(false);
  });
});

describe('criteriaLayout / criteriaView', () => {
  it('names every block of the read-back vector: [C_rate | C_len | release | cross] per family, then the norms', () => {
    const st = states();
    st.status[0].fill(ALIVE);
    const inputs = decayInputs(st, 11, 4, true);
    const layout = criteriaLayout(inputs, true);
    // Family 0 is all alive: no block. Family 1: 4 * 2 values at 0, then 5 norms.
    expect(layout).toEqual({ blocks: [{ family: 1, offset: 0, channels: 2 }], normsOffset: 8, length: 13 });
    const data = Float32Array.from({ length: 13 }, (_v, i) => i);
    const view = criteriaView(layout, data, 2);
    expect(view.families[0]).toBeNull();
    expect(Array.from(view.families[1]!.cRate)).toEqual([0, 1]);
    expect(Array.from(view.families[1]!.cLen)).toEqual([2, 3]);
    expect(Array.from(view.families[1]!.release)).toEqual([4, 5]);
    expect(Array.from(view.families[1]!.cross)).toEqual([6, 7]);
    expect(Array.from(view.norms!)).toEqual([8, 9, 10, 11, 12]);
    expect(criteriaLayout(inputs, false).normsOffset).toBeNull();
    expect(criteriaView(layout, null, 2)).toEqual({ families: [null, null], norms: null });
  });
});

describe('applyCriteria', () => {
  it('releases a channel whose criteria passed: alive, excluded until the next point, with the decay it had reached', () => {
    const st = states();
    const view: DecayCriteria = { families: [crit(3, { cRate: [0, 0.9, 0], cLen: [0, 2, 0], release: [0, 1, 0] }), crit(2)], norms: null };
    const t = applyCriteria(st, view, { ...opts, step: 11 });
    expect(t.rectified).toEqual([{ family: 0, channel: 1, cRate: expect.closeTo(0.9, 6), cLen: 2, decay: 1 }]);
    expect(st.status[0][1]).toBe(ALIVE);
    expect(st.excluded[0][1]).toBe(1);
    expect(st.selStep[0][1]).toBe(-1);
    expect(t.removed).toEqual([]);
    // The other decaying channel is untouched.
    expect(st.status[1][0]).toBe(DECAYING);
  });

  it('removes decaying channels at n = N, and not before', () => {
    const st = states();
    const none: DecayCriteria = { families: [null, null], norms: null };
    expect(applyCriteria(st, none, { ...opts, step: 13 }).removed).toEqual([]);
    const t = applyCriteria(st, none, { ...opts, step: 14 });
    expect(t.removed).toEqual([
      { family: 0, channels: [1] },
      { family: 1, channels: [0] },
    ]);
    expect(st.status[0][1]).toBe(REMOVED);
    expect(st.status[1][0]).toBe(REMOVED);
  });

  it("removes a channel early when its step crossed OTOv2's half-space", () => {
    const st = states();
    const view: DecayCriteria = { families: [null, crit(2, { cross: [1, 0] })], norms: null };
    const t = applyCriteria(st, view, { ...opts, sr: false, step: 11 });
    expect(t.removed).toEqual([{ family: 1, channels: [0] }]);
    expect(st.status[0][1]).toBe(DECAYING);
    expect(t.closest).toBeNull();
  });

  it('a release wins over a crossing (the device never sets both; the CPU keeps the order)', () => {
    const st = states();
    const view: DecayCriteria = { families: [crit(3, { release: [0, 1, 0], cross: [0, 1, 0] }), null], norms: null };
    const t = applyCriteria(st, view, { ...opts, step: 11 });
    expect(t.rectified.map((r) => r.channel)).toEqual([1]);
    expect(t.removed).toEqual([]);
  });

  it('tracks the decaying channel closest to release, first of equals, only with SR', () => {
    const st = states();
    // closeness = min(cRate / 0.5, cLen / 1.5): family 0 ch 1 -> min(0.4, 0.5) = 0.4; family 1 ch 0 -> min(1.2, 0.6) = 0.6.
    const view: DecayCriteria = { families: [crit(3, { cRate: [9, 0.2, 9], cLen: [9, 0.75, 9] }), crit(2, { cRate: [0.6, 9], cLen: [0.9, 9] })], norms: null };
    const t = applyCriteria(st, view, { ...opts, step: 11 });
    expect(t.closest).toEqual({ family: 1, channel: 0, cRate: expect.closeTo(0.6, 6), cLen: expect.closeTo(0.9, 6), closeness: expect.closeTo(0.6, 6) });
    // Alive and removed channels' criteria (9s above) are never considered.
    const tie: DecayCriteria = { families: [crit(3, { cRate: [0, 0.5, 0], cLen: [0, 1.5, 0] }), crit(2, { cRate: [0.5, 0], cLen: [1.5, 0] })], norms: null };
    expect(applyCriteria(states(), tie, { ...opts, step: 11 }).closest).toMatchObject({ family: 0, channel: 1, closeness: 1 });
    expect(applyCriteria(states(), tie, { ...opts, sr: false, step: 11 }).closest).toBeNull();
  });
});

describe('srCriteria', () => {
  const base = { norm: 1.03, prev: 1, gnorm: 0.4, meanAlive: 0.5, linit: 2, lr: 0.05 };

  it('measures the regrowth in plain gradient steps and the gradient against its peers at full size', () => {
    // The doc's worked example: 0.03 / (0.05 * 0.4) and 0.4 / ((1 / 2) * 0.5).
    const c = srCriteria(base);
    expect(c.cRate).toBeCloseTo(1.5, 6);
    expect(c.cLen).toBeCloseTo(1.6, 6);
    expect(releaseCloseness(c.cRate, c.cLen, 1, 1.5)).toBeGreaterThan(1);
    // A group pushed inwards has a negative rate; one with no gradient has C_len 0.
    expect(srCriteria({ ...base, norm: 0.98 }).cRate).toBeCloseTo(-1, 6);
    expect(srCriteria({ ...base, gnorm: 0 }).cLen).toBe(0);
  });

  it('does not change when lr, N or the group size scale together (the old C_rate / L_s did)', () => {
    const c = srCriteria(base);
    // Twice the lr: an update twice as long, and the same gradient.
    const lr2 = srCriteria({ ...base, lr: 0.1, norm: 1.06 });
    expect(lr2.cRate).toBeCloseTo(c.cRate, 6);
    expect(lr2.cLen).toBeCloseTo(c.cLen, 6);
    // A group 10 times larger with the same relative regrowth (gradients of scale-invariant
    // parts shrink as 1 / size) and the same stage of its decay.
    const big = srCriteria({ ...base, norm: 10.3, prev: 10, gnorm: 4, meanAlive: 5, linit: 20 });
    expect(big.cRate).toBeCloseTo(c.cRate, 6);
    expect(big.cLen).toBeCloseTo(c.cLen, 6);
    // Later in its decay (half the norm, half the gradient, the same pushing fraction): same.
    const later = srCriteria({ ...base, norm: 0.515, prev: 0.5, gnorm: 0.2 });
    expect(later.cRate).toBeCloseTo(c.cRate, 6);
    expect(later.cLen).toBeCloseTo(c.cLen, 6);
    // N: neither criterion reads it. The old rate, (norm - prev) / (L_init / N), doubles with N.
    const oldRate = (n: number) => (base.norm - base.prev) / (base.linit / n);
    expect(oldRate(30) / oldRate(15)).toBeCloseTo(2, 6);
  });
});

describe('applyCriteria keeps the norms read back', () => {
  it("stores each still-decaying group's norm after the step, and forgets released and removed ones", () => {
    const st = states();
    const view: DecayCriteria = { families: [crit(3, { release: [0, 1, 0] }), crit(2)], norms: Float32Array.from([5, 1.9, 0, 3.7, 6]) };
    applyCriteria(st, view, { ...opts, step: 11 });
    // Family 0's channel 1 was released; family 1's channel 0 decays on from 3.7.
    expect(Array.from(st.lastNorm[0])).toEqual([0, 0, 0]);
    expect(Array.from(st.lastNorm[1])).toEqual([expect.closeTo(3.7, 6), 0]);
    expect(decayInputs(st, 12, 4, true)[1].prev[0]).toBeCloseTo(3.7, 6);
  });
});

describe('srJudges', () => {
  it('judges while the decay factor (N - n + 1) / N is at least 1/2 and a replacement has N steps left', () => {
    // N = 10: n = 6 reaches factor 0.5, n = 7 0.4.
    expect([1, 6, 7, 10].map((n) => srJudges(n, 10, 20, 100))).toEqual([true, true, false, false]);
    // N = 5 (odd): n = 3 reaches 0.6, n = 4 0.4.
    expect([3, 4].map((n) => srJudges(n, 5, 20, 100))).toEqual([true, false]);
    // Run of 30 steps (0..29): a replacement chosen at 19 is removed at 29; at 20 it would not be.
    expect([19, 20].map((step) => srJudges(1, 10, step, 30))).toEqual([true, false]);
  });
});
