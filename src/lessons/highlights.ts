import type { EngineEvent, EventOf } from '../engine/events';
import type { PruneConfig } from '../engine/experiment';
import { plannedPointSteps } from '../ui/damage/damageRows';
import { SCHEDULE_LABELS } from '../store/compare';
import { percent as pct } from '../ui/common/format';

/**
 * What a lesson's callout lists for one run, read from its event log as it grows: each
 * pruning point with the damage it did (once measured), each Self-Rectifying release and the
 * replacements the pruner chose for it, and each evaluation that fell inside a decay. Plain data from plain events, so a live run, a
 * replay at any step and a shipped recording give the same items, and the tests that check
 * a lesson's claims read them exactly as the page does.
 */

export type Highlight =
  | {
      kind: 'point';
      /** 1-based index of the pruning point in the run. */
      index: number;
      step: number;
      schedule: EventOf<'prune'>['schedule'];
      channels: number;
      /** Null until the point's damage event arrives (its window has not ended yet). */
      damage: EventOf<'damage'> | null;
    }
  | { kind: 'rectify'; step: number; family: string; channel: number; decay: number; cRate: number; cLen: number }
  /** Channels chosen between pruning points: replacements for released ones, so the target still holds. */
  | { kind: 'replacement'; step: number; channels: number; families: string[] }
  | {
      kind: 'dip';
      epoch: number;
      /** The step the epoch (and its evaluation) ended at. */
      step: number;
      /** The pruning point whose decay was under way, and how far into its N steps. */
      pointStep: number;
      into: number;
      decaySteps: number;
      testAcc: number;
      trainAcc: number;
      /** The last evaluation before the point, for comparison (null when the point came before any). */
      before: { epoch: number; testAcc: number; trainAcc: number } | null;
    };

/** A decaying schedule's window: channels chosen at step p decay over steps p+1 … p+N. */
function inDecay(step: number, pointStep: number, decaySteps: number): boolean {
  return step > pointStep && step < pointStep + decaySteps;
}

/**
 * The callout items of one run, in step order (points before what happened at their step).
 * The pruning points are the plan's steps (the engine's own `pointPlan`, known from the model
 * event's step count); a selection at any other step replaces released channels.
 */
export function runHighlights(events: readonly EngineEvent[], prune: Pick<PruneConfig, 'decaySteps' | 'startAt' | 'points' | 'every' | 'target'>): Highlight[] {
  const { decaySteps } = prune;
  const points = new Map<number, Extract<Highlight, { kind: 'point' }>>();
  const replacements = new Map<number, Extract<Highlight, { kind: 'replacement' }>>();
  const rest: Highlight[] = [];
  const epochs: EventOf<'epoch'>[] = [];
  let planned: ReadonlySet<number> | null = null;
  for (const e of events) {
    if (e.type === 'model') {
      planned = plannedPointSteps(e.totalSteps, prune);
    } else if (e.type === 'prune' && planned !== null && !planned.has(e.step)) {
      const r = replacements.get(e.step) ?? { kind: 'replacement', step: e.step, channels: 0, families: [] };
      r.channels += e.channels.length;
      if (!r.families.includes(e.family)) r.families.push(e.family);
      replacements.set(e.step, r);
    } else if (e.type === 'prune') {
      const p = points.get(e.step) ?? { kind: 'point', index: points.size + 1, step: e.step, schedule: e.schedule, channels: 0, damage: null };
      p.channels += e.channels.length;
      points.set(e.step, p);
    } else if (e.type === 'damage') {
      const p = points.get(e.step);
      if (p) p.damage = e;
      else points.set(e.step, { kind: 'point', index: points.size + 1, step: e.step, schedule: e.schedule, channels: e.channels, damage: e });
    } else if (e.type === 'rectify') {
      rest.push({ kind: 'rectify', step: e.step, family: e.family, channel: e.channel, decay: e.decay, cRate: e.cRate, cLen: e.cLen });
    } else if (e.type === 'epoch') {
      epochs.push(e);
    }
  }
  for (const p of points.values()) {
    if (p.schedule === 'abrupt') continue;
    const before = epochs.filter((e) => e.step <= p.step).at(-1);
    for (const e of epochs) {
      if (!inDecay(e.step, p.step, decaySteps)) continue;
      rest.push({
        kind: 'dip',
        epoch: e.epoch,
        step: e.step,
        pointStep: p.step,
        into: e.step - p.step,
        decaySteps,
        testAcc: e.testAcc,
        trainAcc: e.trainAcc,
        before: before ? { epoch: before.epoch, testAcc: before.testAcc, trainAcc: before.trainAcc } : null,
      });
    }
  }
  const order = { point: 0, rectify: 1, replacement: 2, dip: 3 };
  return [...points.values(), ...replacements.values(), ...rest].sort((a, b) => a.step - b.step || order[a.kind] - order[b.kind]);
}

const signed = (v: number) => `${v > 0 ? '+' : ''}${v.toFixed(3)}`;

/** The callout's sentence for one item. */
export function highlightText(h: Highlight): string {
  switch (h.kind) {
    case 'point': {
      const head = `Pruning point ${h.index} at step ${h.step} (${SCHEDULE_LABELS[h.schedule]}): ${h.channels} channel${h.channels === 1 ? '' : 's'} chosen`;
      const d = h.damage;
      if (!d) return `${head}; ${h.schedule === 'abrupt' ? 'removed at once' : 'decaying'} — measuring the damage…`;
      const recovery =
        d.peakRise <= d.tolerance ? 'never left its tolerance' : d.recoverySteps === null ? 'had not recovered by the end' : `recovered in ${d.recoverySteps} steps`;
      const acc = d.accBefore !== null && d.accAfter !== null ? `; probe accuracy ${pct(d.accBefore)} → ${pct(d.accAfter)}` : '';
      return `${head}. Loss ${d.lossBefore.toFixed(3)} before, rose ${signed(d.peakRise)} (peak at step ${d.peakStep}), ${recovery}${acc}.`;
    }
    case 'rectify':
      return `Step ${h.step}: Self-Rectifying released ${h.family} #${h.channel} at decay ${h.decay.toFixed(2)} (C_rate ${h.cRate.toFixed(3)}, C_len ${h.cLen.toFixed(2)}): the network pushed back, so it trains on.`;
    case 'replacement':
      return `Step ${h.step}: the pruner chose ${h.channels} replacement channel${h.channels === 1 ? '' : 's'} (${h.families.join(', ')}) for released ones; ${h.channels === 1 ? 'it starts its' : 'they start their'} own decay.`;
    case 'dip': {
      const ref = h.before ? ` (epoch ${h.before.epoch}, before the point: test ${pct(h.before.testAcc)}, train ${pct(h.before.trainAcc)})` : '';
      return `Epoch ${h.epoch} ended at step ${h.step}, ${h.into} of ${h.decaySteps} steps into the decay that began at step ${h.pointStep}: test accuracy ${pct(h.testAcc)} with running batch-norm statistics, training accuracy ${pct(h.trainAcc)}${ref}.`;
    }
  }
}

type Release = Extract<Highlight, { kind: 'rectify' | 'replacement' }>;

/** The items with at most `max` releases and replacements listed; later ones are returned apart, for a one-line summary. */
export function capReleases(items: readonly Highlight[], max: number): { shown: Highlight[]; hidden: Release[] } {
  const shown: Highlight[] = [];
  const hidden: Release[] = [];
  let releases = 0;
  for (const h of items) {
    if ((h.kind === 'rectify' || h.kind === 'replacement') && ++releases > max) hidden.push(h);
    else shown.push(h);
  }
  return { shown, hidden };
}
