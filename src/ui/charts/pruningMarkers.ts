import type { PruneConfig, ScheduleName } from '../../engine/experiment';
import { pointPlan } from '../../engine/pruning/select';
import { SCHEDULE_LABELS } from '../../store/compare';
import type { RunDerived } from '../../store/runReducer';
import { toArray } from '../../store/series';

/**
 * Where a run pruned, as data the charts (and any view that highlights pruning points) draw:
 * one marker per pruning point that selected channels, at the step of its `prune` events.
 *
 * Self-Rectifying also emits `prune` events when it picks replacements for released channels;
 * those are not pruning points, so a step counts only when the run's own point plan (the
 * pruning engine's `pointPlan`, from the config and the model event's step count) has a point
 * there. Example: startAt 0.1, points 2, every 4 over 30 steps plans points at steps 3 and 7;
 * SP with N = 4 gives markers at 3 (window [3, 7]) and 7 (window [7, 11]); a replacement
 * selected at step 5 gets none.
 */
export interface PruningMarker {
  /** The point's number in the run's plan, from 1. */
  point: number;
  step: number;
  schedule: ScheduleName;
  /** Channels the point selected, over all families. */
  channels: number;
  /**
   * SP/SR: the decay window [step, step + N] over which the selected channels fade to zero,
   * where their damage happens; null for abrupt pruning, which cuts at once.
   */
  window: [number, number] | null;
  /** Accessible name, e.g. "pruning point 2 at step 40 (SP, 12 channels, decaying until step 70)". */
  label: string;
}

/** What pruningMarkers reads of a run: a RunEntry (or a replayed one) fits. */
export interface MarkedRun {
  config: { prune: Pick<PruneConfig, 'startAt' | 'points' | 'every' | 'target' | 'decaySteps'> };
  derived: Pick<RunDerived, 'prunes' | 'model'>;
}

export function pruningMarkers(run: MarkedRun): PruningMarker[] {
  const { prune } = run.config;
  const { prunes, model } = run.derived;
  const byStep = new Map<number, { schedule: ScheduleName; channels: number }>();
  for (const p of toArray(prunes)) {
    const at = byStep.get(p.step) ?? { schedule: p.schedule, channels: 0 };
    at.channels += p.channels.length;
    byStep.set(p.step, at);
  }
  // Without a model event there is no plan to tell replacements apart: every step is a point.
  const planned = model ? pointPlan(model.totalSteps, prune.startAt, prune.points, prune.every, prune.target).steps : [...byStep.keys()].sort((a, b) => a - b);
  const out: PruningMarker[] = [];
  planned.forEach((step, i) => {
    const at = byStep.get(step);
    if (!at) return;
    const window: [number, number] | null = at.schedule === 'abrupt' ? null : [step, step + prune.decaySteps];
    out.push({ point: i + 1, step, schedule: at.schedule, channels: at.channels, window, label: markerLabel(i + 1, step, at.schedule, at.channels, window) });
  });
  return out;
}

function markerLabel(point: number, step: number, schedule: ScheduleName, channels: number, window: [number, number] | null): string {
  const what = window ? `decaying until step ${window[1]}` : 'cut at once';
  return `pruning point ${point} at step ${step} (${SCHEDULE_LABELS[schedule]}, ${channels} channel${channels === 1 ? '' : 's'} ${what})`;
}

/** A marker as a chart draws it: a vertical line at `x`, and a shaded band when the window is open. */
export interface ChartMarker {
  key: string;
  x: number;
  /** The part of the decay window reached so far: [x, min(x + N, upTo)]. */
  band: [number, number] | null;
  label: string;
  /** Short text drawn at the top of the line ("P2"); none where several runs overlay. */
  tag?: string;
  color: string;
}

/**
 * The markers a chart shows when its data end at `upTo` (the run's latest or viewed step):
 * points not reached yet are left out, and a decay window is drawn only as far as the run has
 * gone, so during replay or a live run the band grows with the curves. Where several runs share
 * a chart, `key` keeps their markers apart and `run` names the run in each label.
 */
export function chartMarkers(markers: readonly PruningMarker[], upTo: number, style: { color: string; tags: boolean; key?: string; run?: string }): ChartMarker[] {
  return markers
    .filter((m) => m.step <= upTo)
    .map((m) => ({
      key: `${style.key ?? ''}p${m.point}`,
      x: m.step,
      band: m.window ? [m.window[0], Math.min(m.window[1], upTo)] : null,
      label: style.run ? `${style.run}: ${m.label}` : m.label,
      tag: style.tags ? `P${m.point}` : undefined,
      color: style.color,
    }));
}

/** The chart's key to its markers, or null when it has none: the legend lists only the lines. */
export function markerNote(markers: readonly ChartMarker[]): string | null {
  if (markers.length === 0) return null;
  return markers.some((m) => m.band) ? 'dashed: pruning points · shaded: decay windows' : 'dashed: pruning points';
}
