import * as Comlink from 'comlink';
import { describe, expect, it } from 'vitest';
import { createEngineClient, type EngineWorker } from './client';

/**
 * The client against a worker stand-in on a real MessageChannel, with comlink on both ends:
 * the worker side keeps a run's control the way engine.worker.ts does (created by start(),
 * dropped when it ends; stop() without a run does nothing), and its listen() answers late, so
 * a Stop pressed while the client is still setting up a start lands in that window.
 */
function fakeEngine(listenDelayMs: number) {
  const log: string[] = [];
  let control: { stopped: boolean; stop: () => void } | null = null;
  const api = {
    async listen() {
      await new Promise((r) => setTimeout(r, listenDelayMs));
    },
    async start() {
      const ctl = { stopped: false, stop: () => (ctl.stopped = true) };
      control = ctl;
      log.push('start');
      // A run that only ends when stopped (or after 2 s, so a lost stop fails the test, not the suite).
      const began = Date.now();
      while (!ctl.stopped && Date.now() - began < 2000) await new Promise((r) => setTimeout(r, 5));
      log.push(ctl.stopped ? 'stopped' : 'ran out');
      control = null;
    },
    stop() {
      log.push(control ? 'stop' : 'stop (no run)');
      control?.stop();
    },
  };
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(api, port2 as unknown as Comlink.Endpoint);
  const worker = Object.assign(port1, { terminate: () => port1.close() }) as unknown as EngineWorker;
  return { log, worker, close: () => (port1.close(), port2.close()) };
}

describe('engine client', () => {
  it('a Stop pressed while a start is still being set up stops that run', async () => {
    const engine = fakeEngine(50);
    const client = createEngineClient({ onEvents: () => undefined, onCrash: () => undefined }, () => engine.worker);
    const running = client.start({ runId: 'r1', config: {} as never });
    await new Promise((r) => setTimeout(r, 10)); // inside listen()'s 50 ms
    await client.stop();
    await running;
    expect(engine.log).toEqual(['start', 'stop', 'stopped']);
    client.dispose();
    engine.close();
  });

  it('a Stop during a run goes straight to the worker', async () => {
    const engine = fakeEngine(0);
    const client = createEngineClient({ onEvents: () => undefined, onCrash: () => undefined }, () => engine.worker);
    const running = client.start({ runId: 'r1', config: {} as never });
    while (!engine.log.includes('start')) await new Promise((r) => setTimeout(r, 5));
    await client.stop();
    await running;
    expect(engine.log).toEqual(['start', 'stop', 'stopped']);
    // With no run, a Stop is the worker's to ignore, and no later start inherits it.
    await client.stop();
    const next = client.start({ runId: 'r2', config: {} as never });
    while (engine.log.filter((l) => l === 'start').length < 2) await new Promise((r) => setTimeout(r, 5));
    await client.stop();
    await next;
    expect(engine.log).toEqual(['start', 'stop', 'stopped', 'stop (no run)', 'start', 'stop', 'stopped']);
    client.dispose();
    engine.close();
  });
});
