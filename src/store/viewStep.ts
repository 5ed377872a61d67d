import { useMemo } from 'react';
import type { EngineEvent } from '../engine/events';
import { replayLog, type RunDerived } from './runReducer';
import { selectActiveRun, useRuns, type RunEntry } from './runsStore';
import { toArray } from './series';

/**
 * The step an event belongs to on the replay timeline. Events that carry a step use it (a
 * damage event settles later but belongs to its pruning point); `done` belongs to the last
 * step; events without a step (status, model, slim, latency, errors) belong to the newest
 * step seen before them in the log, so slimming and latency appear only at the run's end.
 */
export function eventStep(event: EngineEvent, stepBefore: number): number {
  if ('step' in event && typeof event.step === 'number') return event.step;
  if (event.type === 'done') return event.steps;
  return stepBefore;
}

/**
 * The log as it stood when training reached `step`: every event whose timeline step is
 * <= step, in log order. Pure; the views replay this prefix-by-step to show the run then.
 */
export function eventsUpTo(events: readonly EngineEvent[], step: number): EngineEvent[] {
  const out: EngineEvent[] = [];
  let newest = 0;
  for (const e of events) {
    const s = eventStep(e, newest);
    // A resumed run restarts from its checkpoint's step: "newest" follows the log, not the max.
    if (e.type === 'step' || e.type === 'telemetry') newest = s;
    if (s <= step) out.push(e);
  }
  return out;
}

/** The largest timeline step in the log: where the scrubber ends. */
export function lastTimelineStep(events: readonly EngineEvent[]): number {
  let max = 0;
  let newest = 0;
  for (const e of events) {
    const s = eventStep(e, newest);
    if (e.type === 'step' || e.type === 'telemetry') newest = s;
    if (s > max) max = s;
  }
  return max;
}

/** The run's derived state at `step` (null or past the end: the whole run, unchanged). */
export function derivedAtStep(derived: RunDerived, step: number | null): RunDerived {
  if (step === null) return derived;
  const events = toArray(derived.events);
  if (step >= lastTimelineStep(events)) return derived;
  return replayLog(eventsUpTo(events, step));
}

/** The step playback moves to next: `stride` on, stopping exactly at the end. */
export function nextPlayStep(current: number, end: number, stride: number): number {
  return Math.min(end, Math.floor(current / stride) * stride + stride);
}

/** A run can be scrubbed once its engine is done with it (finished, stopped or imported). */
export function isReplayable(run: RunEntry | null): run is RunEntry {
  return run !== null && !run.live && run.derived.events.length > 0;
}

/**
 * The active run as every view should show it: at the store's view step when one is set on
 * a finished or imported run, else as it is. One replay per step change, shared by the views.
 */
export function useViewedRun(): RunEntry | null {
  const run = useRuns(selectActiveRun);
  const viewStep = useRuns((s) => s.viewStep);
  return useMemo(() => {
    if (!isReplayable(run) || viewStep === null) return run;
    const derived = derivedAtStep(run.derived, viewStep);
    return derived === run.derived ? run : { ...run, derived };
  }, [run, viewStep]);
}
