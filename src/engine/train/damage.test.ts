import { describe, expect, it } from 'vitest';
import { afterStep, DAMAGE_DEFAULTS, DamageTracker, measureLossDamage, type PointSpec } from './damage';

/** A loss curve as a function of the step, from an array. */
const curve = (xs: number[]) => (t: number) => xs[t];
const flat = (n: number, v = 1) => new Array<number>(n).fill(v);
const alpha = DAMAGE_DEFAULTS.alpha;

describe('measureLossDamage on synthetic loss curves', () => {
  it('a flat curve: no rise, recovered at once, tolerance 5 % of the loss', () => {
    const d = measureLossDamage(curve(flat(60, 2)), { step: 20, schedule: 'abrupt', decaySteps: 0 }, 59)!;
    expect(d.lossBefore).toBe(2);
    expect(d.peakRise).toBe(0);
    expect(d.tolerance).toBeCloseTo(0.1, 12);
    expect(d.recoverySteps).toBe(0);
  });

  it('an abrupt jump of 1.0 that decays back: the EMA peak, and recovery when s is back within tolerance', () => {
    // Loss 1 until step 20 (the point), then 2 for steps 21..25, then 1 again.
    const xs = flat(100, 1);
    for (let t = 21; t <= 25; t++) xs[t] = 2;
    const d = measureLossDamage(curve(xs), { step: 20, schedule: 'abrupt', decaySteps: 0 }, 99)!;
    // s_t − 1 = 1 − (1−α)^(t−20) while the loss is 2: highest at step 25.
    expect(d.peakStep).toBe(25);
    expect(d.peakRise).toBeCloseTo(1 - (1 - alpha) ** 5, 12);
    // After step 25, s − 1 = peak·(1−α)^(t−25); back within 0.05 at the first t where that holds.
    const k = Math.ceil(Math.log(0.05 / d.peakRise) / Math.log(1 - alpha));
    expect(d.recoverySteps).toBe(25 + k - 20);
  });

  it('an abrupt point only looks a few steps ahead; SP looks over its whole decay window', () => {
    // A slow bump that peaks 20 steps after the point.
    const xs = flat(200, 1);
    for (let t = 11; t < 60; t++) xs[t] = 1 + 0.5 * Math.sin((Math.PI * (t - 10)) / 50);
    const abrupt = measureLossDamage(curve(xs), { step: 10, schedule: 'abrupt', decaySteps: 0 }, 199)!;
    const sp = measureLossDamage(curve(xs), { step: 10, schedule: 'sp', decaySteps: 40 }, 199)!;
    expect(abrupt.peakStep).toBeLessThanOrEqual(10 + DAMAGE_DEFAULTS.abruptWindow);
    expect(sp.peakStep).toBeGreaterThan(25);
    expect(sp.peakRise).toBeGreaterThan(abrupt.peakRise);
    expect(sp.recoverySteps).toBeGreaterThan(40);
  });

  it('batch noise alone is not damage: the tolerance grows with the baseline spread', () => {
    // Alternating 0.8 / 1.2 (σ = 0.2): the EMA wobbles by about ±0.06, under 2σ·√(α/(2−α)) = 0.15.
    const xs = Array.from({ length: 80 }, (_, t) => (t % 2 ? 1.2 : 0.8));
    const d = measureLossDamage(curve(xs), { step: 29, schedule: 'sp', decaySteps: 20 }, 79)!;
    expect(d.lossBefore).toBeCloseTo(1, 12);
    expect(d.tolerance).toBeCloseTo(2 * 0.2 * Math.sqrt(alpha / (2 - alpha)), 12);
    expect(d.peakRise).toBeLessThan(d.tolerance);
    expect(d.recoverySteps).toBe(0);
  });

  it('never recovered by the run end: null; losses still missing: pending', () => {
    const xs = [...flat(21, 1), ...flat(30, 3)];
    const p: PointSpec = { step: 20, schedule: 'sr', decaySteps: 10 };
    expect(measureLossDamage(curve(xs), p, 50)!.recoverySteps).toBeNull();
    expect(measureLossDamage(curve(xs), p, 80)).toBeNull();
    expect(measureLossDamage(curve(xs.slice(0, 25)), p, 80)).toBeNull();
  });

  it('a point at step 0 uses step 0 alone as its baseline', () => {
    const d = measureLossDamage(curve([2, 2, 2, 2]), { step: 0, schedule: 'abrupt', decaySteps: 0 }, 3)!;
    expect(d.lossBefore).toBe(2);
    expect(d.recoverySteps).toBe(0);
  });
});

describe('DamageTracker', () => {
  it('asks for accuracy at the right steps, settles each point once, in step order, as losses arrive', () => {
    const points: PointSpec[] = [
      { step: 10, schedule: 'sp', decaySteps: 5 },
      { step: 30, schedule: 'sp', decaySteps: 5 },
    ];
    const tr = new DamageTracker(points, 59);
    expect(tr.wantsAccuracyBefore(10)).toBe(true);
    expect(tr.wantsAccuracyBefore(11)).toBe(false);
    expect(afterStep(points[0])).toBe(15);
    expect(tr.wantsAccuracyAfter(15)).toBe(true);
    tr.setAccuracyBefore(10, 0.5);
    tr.addChannels(10, 3);
    tr.addChannels(10, 2);
    const xs = flat(60, 1);
    for (let t = 11; t <= 13; t++) xs[t] = 1.5;
    for (let t = 0; t < 30; t++) tr.addLoss(t, xs[t]);
    // Losses are there, but the "after" accuracy (due after step 15) is not yet.
    expect(tr.poll()).toEqual([]);
    tr.setAccuracyAfter(15, 0.4);
    const [first, ...rest] = tr.poll();
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ type: 'damage', step: 10, schedule: 'sp', channels: 5, window: 5, accBefore: 0.5, accAfter: 0.4 });
    expect(first.peakRise).toBeGreaterThan(first.tolerance);
    expect(first.recoverySteps).toBeGreaterThan(3);
    expect(tr.poll()).toEqual([]);
    for (let t = 30; t < 40; t++) tr.addLoss(t, xs[t]);
    // The run stops at step 39: the second point is settled with what is known.
    const last = tr.finish();
    expect(last).toHaveLength(1);
    expect(last[0]).toMatchObject({ step: 30, recoverySteps: 0, accBefore: null, accAfter: null });
    expect(tr.finish()).toEqual([]);
  });

  it('drops points past the run and points without a baseline at finish', () => {
    const tr = new DamageTracker([{ step: 100, schedule: 'abrupt', decaySteps: 0 }, { step: 5, schedule: 'abrupt', decaySteps: 0 }], 50);
    expect(tr.wantsAccuracyBefore(100)).toBe(false);
    expect(tr.finish()).toEqual([]);
  });
});
