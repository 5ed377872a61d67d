import type { EngineEvent } from '../engine/events';

/**
 * Collects events and hands them on in batches: one postMessage per frame instead of one per
 * event keeps the page's main thread free even when telemetry arrives every step. Status,
 * error and done events flush at once so the UI never lags on what matters.
 */
export class EventBatcher {
  private pending: EngineEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly deliver: (events: EngineEvent[]) => void,
    private readonly intervalMs = 100,
  ) {}

  push(e: EngineEvent): void {
    this.pending.push(e);
    if (e.type === 'status' || e.type === 'error' || e.type === 'done' || e.type === 'backend') this.flush();
    else if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.deliver(batch);
  }
}
