import type { EngineEvent, EventOf, Phase } from '../engine/events';
import { append, emptySeries, type Series } from './series';

/**
 * Everything the views show about one run, derived from its event log. `reduceEvent` is pure
 * and does O(1) amortised work per event (series share their buffers between versions), so
 * live telemetry every step and replaying a stored log of thousands of events cost the same
 * per event, and replaying a log always rebuilds exactly the state the live run had.
 */

export type RunStatus = 'idle' | 'running' | 'paused' | 'done' | 'stopped' | 'error';

export type StepEvent = EventOf<'step'>;
export type EpochEvent = EventOf<'epoch'>;
export type CostEvent = EventOf<'cost'>;
export type TelemetryEvent = EventOf<'telemetry'>;
export type PruneEvent = EventOf<'prune'>;
export type RectifyEvent = EventOf<'rectify'>;
export type RemovedEvent = EventOf<'removed'>;
export type DamageEvent = EventOf<'damage'>;
export type BackendEvent = EventOf<'backend'>;
export type ModelEvent = EventOf<'model'>;
export type ErrorEvent = EventOf<'error'>;

export interface RunDerived {
  /** The whole log, in arrival order. */
  events: Series<EngineEvent>;
  status: RunStatus;
  phase: Phase | null;
  message: string;
  /** 0..1 when the engine reported one for the current phase. */
  progress: number | null;
  backend: BackendEvent | null;
  model: ModelEvent | null;
  /** The step of the most recent step event (on resume this restarts from the checkpoint). */
  latestStep: number;
  latestEpoch: number;
  steps: Series<StepEvent>;
  epochs: Series<EpochEvent>;
  costs: Series<CostEvent>;
  telemetry: Series<TelemetryEvent>;
  latestTelemetry: TelemetryEvent | null;
  prunes: Series<PruneEvent>;
  rectifications: Series<RectifyEvent>;
  removals: Series<RemovedEvent>;
  /** What each pruning point did to training (one per point, in the order they settled). */
  damage: Series<DamageEvent>;
  checkpoint: EventOf<'checkpoint'> | null;
  slim: EventOf<'slim'> | null;
  latency: EventOf<'latency'> | null;
  done: EventOf<'done'> | null;
  errors: Series<ErrorEvent>;
}

export function initialRunDerived(): RunDerived {
  return {
    events: emptySeries(),
    status: 'idle',
    phase: null,
    message: '',
    progress: null,
    backend: null,
    model: null,
    latestStep: 0,
    latestEpoch: 0,
    steps: emptySeries(),
    epochs: emptySeries(),
    costs: emptySeries(),
    telemetry: emptySeries(),
    latestTelemetry: null,
    prunes: emptySeries(),
    rectifications: emptySeries(),
    removals: emptySeries(),
    damage: emptySeries(),
    checkpoint: null,
    slim: null,
    latency: null,
    done: null,
    errors: emptySeries(),
  };
}

function statusOfPhase(phase: Phase): RunStatus {
  switch (phase) {
    case 'paused':
      return 'paused';
    case 'done':
      return 'done';
    case 'stopped':
      return 'stopped';
    case 'error':
      return 'error';
    default:
      return 'running';
  }
}

export function reduceEvent(state: RunDerived, event: EngineEvent): RunDerived {
  const s: RunDerived = { ...state, events: append(state.events, event) };
  switch (event.type) {
    case 'status':
      s.phase = event.phase;
      s.message = event.message;
      s.progress = event.progress ?? null;
      s.status = statusOfPhase(event.phase);
      break;
    case 'backend':
      s.backend = event;
      break;
    case 'model':
      s.model = event;
      break;
    case 'step':
      s.steps = append(state.steps, event);
      s.latestStep = event.step;
      s.latestEpoch = event.epoch;
      break;
    case 'epoch':
      s.epochs = append(state.epochs, event);
      s.latestEpoch = event.epoch;
      break;
    case 'cost':
      s.costs = append(state.costs, event);
      break;
    case 'telemetry':
      s.telemetry = append(state.telemetry, event);
      s.latestTelemetry = event;
      break;
    case 'prune':
      s.prunes = append(state.prunes, event);
      break;
    case 'rectify':
      s.rectifications = append(state.rectifications, event);
      break;
    case 'removed':
      s.removals = append(state.removals, event);
      break;
    case 'damage':
      s.damage = append(state.damage, event);
      break;
    case 'checkpoint':
      s.checkpoint = event;
      break;
    case 'slim':
      s.slim = event;
      break;
    case 'latency':
      s.latency = event;
      break;
    case 'done':
      s.done = event;
      s.status = 'done';
      s.latestStep = Math.max(state.latestStep, event.steps);
      s.progress = 1;
      break;
    case 'error':
      s.errors = append(state.errors, event);
      if (!event.recoverable) s.status = 'error';
      break;
  }
  return s;
}

export function reduceEvents(state: RunDerived, events: readonly EngineEvent[]): RunDerived {
  let s = state;
  for (const e of events) s = reduceEvent(s, e);
  return s;
}

export function replayLog(events: readonly EngineEvent[]): RunDerived {
  return reduceEvents(initialRunDerived(), events);
}
