/**
 * Pause / resume / stop for a running loop. The loop calls `checkpoint()` between steps; the
 * host (worker or CLI) flips the flags from message handlers, which is why the loop yields to
 * the event loop every step.
 */
export class RunControl {
  private paused = false;
  private stopped = false;
  private wake: (() => void) | null = null;

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Resolves when the loop may go on; `onPause` runs once if the loop has to wait. */
  async proceed(onPause?: () => Promise<void> | void): Promise<void> {
    await yieldToEventLoop();
    if (!this.paused || this.stopped) return;
    await onPause?.();
    while (this.paused && !this.stopped) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

/**
 * Lets queued messages (pause, stop) run. A MessageChannel round trip avoids the 4 ms clamp
 * that nested setTimeout calls get in browsers; Node has setImmediate.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(null);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}
