import type { PruneConfig } from '../../engine/experiment';
import { pointPlan } from '../../engine/pruning/select';
import type { DamageEvent, PruneEvent } from '../../store/runReducer';
import { percent } from '../common/format';

/**
 * The "what pruning did" panel's rows: one per pruning point, measured (a damage event) or
 * still being measured (prune events at a step with no damage event yet). Plain data, so
 * the sentences can be tested without rendering.
 */

export const SCHEDULE_WORDS = { abrupt: 'abrupt', sp: 'SP', sr: 'SP+SR' } as const;

export type DamageRow =
  | { kind: 'measured'; step: number; damage: DamageEvent; verdict: string }
  | { kind: 'measuring'; step: number; schedule: PruneEvent['schedule']; channels: number };

export type PointSchedule = Pick<PruneConfig, 'startAt' | 'points' | 'every' | 'target'>;

/**
 * The run's pruning points (the engine's own plan, from the model event's step count), or
 * null before the model event. Selections at other steps are Self-Rectifying replacements
 * for released channels: part of their point, not points of their own.
 */
export function plannedPointSteps(totalSteps: number | undefined, prune: PointSchedule): ReadonlySet<number> | null {
  return totalSteps === undefined ? null : new Set(pointPlan(totalSteps, prune.startAt, prune.points, prune.every, prune.target).steps);
}

export function damageRows(damage: readonly DamageEvent[], prunes: readonly PruneEvent[], planned: ReadonlySet<number> | null = null): DamageRow[] {
  const rows: DamageRow[] = damage.map((d) => ({ kind: 'measured', step: d.step, damage: d, verdict: verdict(d) }));
  const measured = new Set(damage.map((d) => d.step));
  const open = new Map<number, { schedule: PruneEvent['schedule']; channels: number }>();
  for (const p of prunes) {
    if (measured.has(p.step) || (planned !== null && !planned.has(p.step))) continue;
    const o = open.get(p.step) ?? { schedule: p.schedule, channels: 0 };
    o.channels += p.channels.length;
    open.set(p.step, o);
  }
  for (const [step, o] of open) rows.push({ kind: 'measuring', step, ...o });
  return rows.sort((a, b) => a.step - b.step);
}

/** One sentence on what the point did: the rise relative to the loss, the recovery, the accuracy. */
export function verdict(d: DamageEvent): string {
  const rel = d.lossBefore !== 0 ? d.peakRise / Math.abs(d.lossBefore) : NaN;
  const where = d.schedule === 'abrupt' ? 'at once' : `during its ${d.window}-step decay`;
  const rise =
    d.peakRise <= d.tolerance
      ? `The loss stayed within its tolerance (±${d.tolerance.toFixed(3)}) ${where}`
      : `The smoothed loss rose by ${d.peakRise.toFixed(3)} (${percent(rel, 0)}) ${where}, peaking at step ${d.peakStep}`;
  const back =
    d.peakRise <= d.tolerance ? '' : d.recoverySteps === null ? ', and had not recovered by the end of the run' : `, and was back within tolerance after ${d.recoverySteps} steps`;
  const acc = d.accBefore !== null && d.accAfter !== null ? ` Probe accuracy ${percent(d.accBefore)} → ${percent(d.accAfter)}.` : '';
  return `${rise}${back}.${acc}`;
}

/** Totals over a run's measured points, for the panel's headline. */
export function damageHeadline(damage: readonly DamageEvent[]): string {
  if (damage.length === 0) return '';
  const worst = damage.reduce((a, b) => (b.peakRise > a.peakRise ? b : a));
  const never = damage.filter((d) => d.recoverySteps === null).length;
  const recov = damage.filter((d) => d.recoverySteps !== null).map((d) => d.recoverySteps!);
  const longest = recov.length ? Math.max(...recov) : null;
  return (
    `${damage.length} point(s) measured. Largest loss rise ${worst.peakRise.toFixed(3)} (step ${worst.step})` +
    (longest !== null ? `; longest recovery ${longest} steps` : '') +
    (never > 0 ? `; ${never} not recovered by the end` : '') +
    '.'
  );
}
