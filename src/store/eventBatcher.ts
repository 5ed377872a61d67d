import type { EngineEvent } from '../engine/events';

/**
 * Collects events as they arrive (telemetry comes every step) and hands them on in one batch
 * per run per tick, so the store and React see one update per frame instead of one per event.
 * A timer rather than requestAnimationFrame: a training run in a background tab must keep
 * its log current.
 */
export interface EventBatcher {
  push(runId: string, events: readonly EngineEvent[]): void;
  /** Delivers everything pending now (before a run ends or the page stores the log). */
  flush(): void;
  dispose(): void;
}

export type Scheduler = (fn: () => void) => () => void;

export const timerScheduler =
  (ms: number): Scheduler =>
  (fn) => {
    const id = setTimeout(fn, ms);
    return () => clearTimeout(id);
  };

export function createEventBatcher(
  deliver: (runId: string, events: EngineEvent[]) => void,
  schedule: Scheduler = timerScheduler(50),
): EventBatcher {
  let pending = new Map<string, EngineEvent[]>();
  let cancel: (() => void) | null = null;

  const flush = () => {
    cancel?.();
    cancel = null;
    const batches = pending;
    pending = new Map();
    for (const [runId, events] of batches) deliver(runId, events);
  };

  return {
    push(runId, events) {
      if (events.length === 0) return;
      const list = pending.get(runId);
      if (list) for (const e of events) list.push(e);
      else pending.set(runId, events.slice());
      if (!cancel) cancel = schedule(flush);
    },
    flush,
    dispose() {
      cancel?.();
      cancel = null;
      pending = new Map();
    },
  };
}
