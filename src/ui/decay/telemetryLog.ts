import type { EngineEvent } from '../../engine/events';
import { TelemetryStore, type TelemetryStoreOptions } from './telemetryStore';
import type { EventLog, ModelEvent } from './types';

interface Cursor {
  processed: number;
  model: ModelEvent | null;
  store: TelemetryStore | null;
  options: TelemetryStoreOptions;
}

/**
 * Stores keyed by a log's first event object: the log only grows, so every view of the same
 * run (map, trajectories, ...) shares one store and each sync reads only the events added
 * since the last. A log whose first event differs is another run (or a replay) and gets its
 * own store; the WeakMap lets it go with the log.
 */
const cursors = new WeakMap<EngineEvent, Cursor>();

export interface TelemetrySnapshot {
  model: ModelEvent | null;
  store: TelemetryStore | null;
  /** store.version at the time of the sync: memo/effect key for views. */
  version: number;
}

/**
 * Brings the log's telemetry store up to date and returns it. A 'model' event starts a fresh
 * store (a new model means a new channel layout); telemetry before any model is skipped.
 * Options apply when a store is created.
 */
export function syncTelemetry(events: EventLog, options: TelemetryStoreOptions = {}): TelemetrySnapshot {
  if (events.length === 0) return { model: null, store: null, version: 0 };
  let cursor = cursors.get(events[0]);
  if (!cursor || cursor.processed > events.length) {
    cursor = { processed: 0, model: null, store: null, options };
    cursors.set(events[0], cursor);
  }
  for (let i = cursor.processed; i < events.length; i++) {
    const ev = events[i];
    if (ev.type === 'model') {
      cursor.model = ev;
      cursor.store = new TelemetryStore(ev.families, cursor.options);
    } else if (ev.type === 'telemetry' && cursor.store) {
      cursor.store.append(ev.step, ev.decay, ev.norm);
    }
  }
  cursor.processed = events.length;
  return { model: cursor.model, store: cursor.store, version: cursor.store?.version ?? 0 };
}

/** The newest 'model' event of a log, or null. */
export function findModel(events: EventLog): ModelEvent | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const ev = events[i];
    if (ev.type === 'model') return ev;
  }
  return null;
}
