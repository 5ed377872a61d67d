import type { EngineEvent } from '../engine/events';
import type { RunStore } from './types';

/**
 * Buffers a run's events and appends them to the store in chunks: one transaction per chunk
 * instead of one per event, and a crash loses at most the events not yet flushed (at most
 * maxEvents, or maxDelayMs worth). Writes go one at a time, in order.
 */

export interface EventWriterOptions {
  /** Flush once this many events are buffered. */
  maxEvents?: number;
  /** Flush at most this long after the first buffered event. */
  maxDelayMs?: number;
  /** Called when a chunk cannot be written; it stays queued, in order, and is retried on the next flush. */
  onError?: (error: unknown) => void;
}

export interface EventWriter {
  push(events: readonly EngineEvent[]): void;
  /** Writes everything buffered; resolves when it is stored (or the attempt failed and was reported). */
  flush(): Promise<void>;
  /** Flushes and stops the timer; later pushes are refused. */
  close(): Promise<void>;
  /** Events buffered and not yet stored. */
  readonly pending: number;
}

export function createEventWriter(store: RunStore, runId: string, options: EventWriterOptions = {}): EventWriter {
  const maxEvents = options.maxEvents ?? 256;
  const maxDelayMs = options.maxDelayMs ?? 2_000;
  let buffer: EngineEvent[] = [];
  // Chunks cut but not yet stored, oldest first; a failed one blocks those behind it so order holds.
  const queue: EngineEvent[][] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const clearTimer = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };

  const drain = async () => {
    while (queue.length > 0) {
      try {
        await store.appendEvents(runId, queue[0]);
        queue.shift();
      } catch (e) {
        options.onError?.(e);
        return;
      }
    }
  };

  const flush = (): Promise<void> => {
    clearTimer();
    if (buffer.length > 0) {
      queue.push(buffer);
      buffer = [];
    }
    chain = chain.then(drain);
    return chain;
  };

  return {
    push(events) {
      if (closed) throw new Error(`the event writer of run ${runId} is closed`);
      for (const e of events) buffer.push(e);
      if (buffer.length >= maxEvents) void flush();
      else if (timer === null && buffer.length > 0) timer = setTimeout(() => void flush(), maxDelayMs);
    },
    flush,
    async close() {
      closed = true;
      await flush();
    },
    get pending() {
      return queue.reduce((n, c) => n + c.length, buffer.length);
    },
  };
}
