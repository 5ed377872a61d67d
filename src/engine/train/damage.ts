import type { EventOf } from '../events';
import type { ScheduleName } from '../experiment';

/**
 * What a pruning point does to training, measured from the per-step training losses
 * (definitions in docs/method.md, "Damage and recovery"). Plain numbers, no tfjs: the run
 * loop feeds losses and probe accuracies in, and gets one `damage` event per point out.
 *
 * A point at step p selects its channels after step p's update, so step p's loss is the
 * last one the point cannot touch:
 *   lossBefore   = mean of the raw losses of steps p−B+1 … p (B = baselineSteps)
 *   s_p          = lossBefore;  s_t = (1−α)·s_{t−1} + α·loss_t   for t > p   (light smoothing)
 *   peakRise     = max over the point's window t = p+1 … p+W of s_t − lossBefore
 *                  (W = the decay steps N for SP and SR, `abruptWindow` for abrupt: a jump
 *                  shows in s within a few steps, and abrupt does all its damage at once)
 *   tolerance    = max(relTolerance · lossBefore, 2 · σ_B · √(α / (2−α)))
 *                  (σ_B: the baseline losses' standard deviation; the root is the factor by
 *                  which the EMA shrinks per-step noise, so plain batch noise never counts
 *                  as damage)
 *   recoverySteps = 0 when peakRise ≤ tolerance; else t − p for the first t after the peak
 *                  with s_t ≤ lossBefore + tolerance; null if the run ends first.
 */

export interface DamageOptions {
  /** EMA weight of the newest loss. */
  alpha: number;
  /** Steps averaged for the loss before the point. */
  baselineSteps: number;
  /** Tolerance as a fraction of the loss before the point. */
  relTolerance: number;
  /** Steps an abrupt point's peak is looked for in. */
  abruptWindow: number;
}

export const DAMAGE_DEFAULTS: DamageOptions = { alpha: 0.25, baselineSteps: 10, relTolerance: 0.05, abruptWindow: 8 };

export interface PointSpec {
  step: number;
  schedule: ScheduleName;
  /** Steps over which the point's channels decay (N for SP/SR; 0 for abrupt). */
  decaySteps: number;
}

export type DamageEvent = EventOf<'damage'>;

export interface LossDamage {
  lossBefore: number;
  peakRise: number;
  peakStep: number;
  tolerance: number;
  recoverySteps: number | null;
}

/**
 * The loss part of a point's damage from `loss(t)` (undefined where not known yet), or null
 * while more steps are needed. `lastStep` is the run's last step: past it nothing more comes.
 */
export function measureLossDamage(
  loss: (step: number) => number | undefined,
  point: PointSpec,
  lastStep: number,
  opts: DamageOptions = DAMAGE_DEFAULTS,
): LossDamage | null {
  const p = point.step;
  const base: number[] = [];
  for (let t = Math.max(0, p - opts.baselineSteps + 1); t <= p; t++) {
    const l = loss(t);
    if (l === undefined) return null;
    base.push(l);
  }
  const lossBefore = mean(base);
  const sd = Math.sqrt(mean(base.map((l) => (l - lossBefore) ** 2)));
  const tolerance = Math.max(opts.relTolerance * Math.abs(lossBefore), 2 * sd * Math.sqrt(opts.alpha / (2 - opts.alpha)));
  const window = point.schedule === 'abrupt' ? opts.abruptWindow : Math.max(1, point.decaySteps);
  const windowEnd = Math.min(p + window, lastStep);
  let s = lossBefore;
  let peakRise = -Infinity;
  let peakStep = p;
  let t = p + 1;
  for (; t <= windowEnd; t++) {
    const l = loss(t);
    if (l === undefined) return null;
    s = (1 - opts.alpha) * s + opts.alpha * l;
    if (s - lossBefore > peakRise) {
      peakRise = s - lossBefore;
      peakStep = t;
    }
  }
  if (peakRise === -Infinity) return { lossBefore, peakRise: 0, peakStep: p, tolerance, recoverySteps: 0 };
  if (peakRise <= tolerance) return { lossBefore, peakRise, peakStep, tolerance, recoverySteps: 0 };
  // Recovery may come after the window: run the smoothing again from the point to the run's end.
  s = lossBefore;
  for (t = p + 1; t <= lastStep; t++) {
    const l = loss(t);
    if (l === undefined) return null;
    s = (1 - opts.alpha) * s + opts.alpha * l;
    if (t > peakStep && s <= lossBefore + tolerance) return { lossBefore, peakRise, peakStep, tolerance, recoverySteps: t - p };
  }
  return { lossBefore, peakRise, peakStep, tolerance, recoverySteps: null };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Follows every pruning point of a run. Losses may arrive late and in batches (the run loop
 * reads them once per report window); `poll` returns the points settled so far, each once.
 */
export class DamageTracker {
  private readonly losses: number[] = [];
  private readonly pending: PointSpec[];
  private readonly channels = new Map<number, number>();
  private readonly accBefore = new Map<number, number>();
  private readonly accAfter = new Map<number, number>();

  constructor(
    points: PointSpec[],
    /** The run's last step index (totalSteps − 1). */
    private readonly lastStep: number,
    private readonly opts: DamageOptions = DAMAGE_DEFAULTS,
  ) {
    this.pending = points.filter((p) => p.step <= lastStep).sort((a, b) => a.step - b.step);
  }

  /** Steps before whose training step the probe accuracy "before" is wanted. */
  wantsAccuracyBefore(step: number): boolean {
    return this.pending.some((p) => p.step === step);
  }

  /** Points whose "after" accuracy is due once `step`'s training step is done (their channels are gone). */
  wantsAccuracyAfter(step: number): boolean {
    return this.pending.some((p) => afterStep(p) === step);
  }

  setAccuracyBefore(step: number, acc: number): void {
    for (const p of this.pending) if (p.step === step) this.accBefore.set(p.step, acc);
  }

  setAccuracyAfter(step: number, acc: number): void {
    for (const p of this.pending) if (afterStep(p) === step) this.accAfter.set(p.step, acc);
  }

  addChannels(step: number, n: number): void {
    this.channels.set(step, (this.channels.get(step) ?? 0) + n);
  }

  addLoss(step: number, loss: number): void {
    this.losses[step] = loss;
  }

  /** Points settled by the losses so far (their "after" accuracy too, when it is due within the run). */
  poll(): DamageEvent[] {
    return this.settle(false);
  }

  /** Every point still open, with what is known (the run has ended or stopped). */
  finish(): DamageEvent[] {
    return this.settle(true);
  }

  private settle(final: boolean): DamageEvent[] {
    const out: DamageEvent[] = [];
    const last = final ? Math.min(this.lastStep, this.losses.length - 1) : this.lastStep;
    for (let i = 0; i < this.pending.length; ) {
      const p = this.pending[i];
      const awaitingAcc = !final && afterStep(p) <= this.lastStep && !this.accAfter.has(p.step);
      const d = awaitingAcc ? null : measureLossDamage((t) => this.losses[t], p, last, this.opts);
      if (!d) {
        if (final) this.pending.splice(i, 1);
        else i++;
        continue;
      }
      this.pending.splice(i, 1);
      out.push({
        type: 'damage',
        step: p.step,
        schedule: p.schedule,
        channels: this.channels.get(p.step) ?? 0,
        window: p.schedule === 'abrupt' ? this.opts.abruptWindow : p.decaySteps,
        ...d,
        accBefore: this.accBefore.get(p.step) ?? null,
        accAfter: this.accAfter.get(p.step) ?? null,
      });
    }
    return out;
  }
}

/** The step after which a point's channels are fully gone: at once for abrupt, N steps on for SP/SR. */
export function afterStep(p: PointSpec): number {
  return p.schedule === 'abrupt' ? p.step : p.step + Math.max(1, p.decaySteps);
}
