import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../engine/events';
import { defaultExperiment } from '../engine/experiment';
import { createEventWriter } from './event-writer';
import { RunStoreError, type CheckpointInput, type RunStore } from './types';

/**
 * The behaviour every RunStore must have; run against both the IndexedDB and the memory
 * implementation so the app's fallback is indistinguishable from the real thing.
 */

export function stepEvents(from: number, n: number): EngineEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'step' as const,
    step: from + i,
    epoch: 0,
    loss: 2.3 - (from + i) / 1000,
    lr: 0.05,
    imagesPerSec: 100,
  }));
}

export function sampleCheckpoint(step: number): CheckpointInput {
  const special = new Float32Array([0, -0, 1.5, -3.25e-38, 1e-45, 3.4028234663852886e38, Number.NaN, Infinity, -Infinity, 1 / 3]);
  const big = new Float32Array(3 * 3 * 4 * 8).map((_, i) => Math.fround(Math.sin(i) * 1e-3 * (i + 1)));
  const backing = new Float32Array(20).map((_, i) => i);
  return {
    step,
    epoch: 1,
    weights: {
      'conv1/kernel': { shape: [3, 3, 4, 8], data: big },
      'bn1/gamma': { shape: [10], data: special },
      // A view into a larger buffer: only its own values may be stored.
      'fc/bias': { shape: [2, 2], data: backing.subarray(4, 8) },
    },
    optimizer: { 'conv1/kernel/momentum': { shape: [3, 3, 4, 8], data: big.map((x) => -x) } },
    pruning: { decay: { f0: [1, 0.5, 0] }, selected: { f0: [2] } },
    rng: { data: 123456789, aug: 42 },
    extra: { rectifications: 3, elapsedSeconds: 12.5 },
  };
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

export function runStoreContract(label: string, make: () => Promise<RunStore>): void {
  describe(`RunStore contract: ${label}`, () => {
    const config = defaultExperiment();

    it('creates, lists newest first, gets and updates runs', async () => {
      const store = await make();
      const a = await store.createRun({ id: 'a', name: 'first', config });
      expect(a).toMatchObject({ id: 'a', name: 'first', status: 'running', eventCount: 0, chunkCount: 0, hasModel: false });
      expect(a.createdAt).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 2));
      const b = await store.createRun({ name: 'second', config: { ...config, backend: 'cpu' }, status: 'paused' });
      expect(b.id).toMatch(/^run-/);
      expect((await store.listRuns()).map((r) => r.id)).toEqual([b.id, 'a']);
      const done = await store.updateRun('a', { status: 'done', summary: { testAcc: 0.91, steps: 40 }, name: 'renamed' });
      expect(done).toMatchObject({ status: 'done', name: 'renamed', summary: { testAcc: 0.91, steps: 40 } });
      expect(done.updatedAt).toBeGreaterThanOrEqual(a.updatedAt);
      expect(await store.getRun('a')).toEqual(done);
      expect((await store.getRun(b.id))?.config.backend).toBe('cpu');
      expect(await store.getRun('nope')).toBeNull();
      store.close();
    });

    it('refuses duplicate ids, unknown runs and invalid input with typed errors', async () => {
      const store = await make();
      await store.createRun({ id: 'x', name: 'x', config });
      await expect(store.createRun({ id: 'x', name: 'again', config })).rejects.toMatchObject({ code: 'invalid' });
      await expect(store.updateRun('missing', { status: 'done' })).rejects.toMatchObject({ code: 'not-found' });
      await expect(store.appendEvents('missing', stepEvents(0, 1))).rejects.toBeInstanceOf(RunStoreError);
      await expect(store.saveCheckpoint('missing', sampleCheckpoint(1))).rejects.toMatchObject({ code: 'not-found' });
      await expect(store.updateRun('x', { status: 'bogus' as 'done' })).rejects.toMatchObject({ code: 'invalid' });
      const badConfig = { ...config, train: { ...config.train, epochs: 10_000 } };
      await expect(store.createRun({ name: 'bad', config: badConfig })).rejects.toMatchObject({ code: 'invalid' });
      const cp = sampleCheckpoint(1);
      cp.weights['bn1/gamma'] = { shape: [3], data: new Float32Array(4) };
      await expect(store.saveCheckpoint('x', cp)).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/shape \[3\] but 4 values/) });
      expect(await store.loadCheckpoint('x')).toBeNull();
      store.close();
    });

    it('appends events in chunks and loads them back in order, per run', async () => {
      const store = await make();
      await store.createRun({ id: 'r', name: 'r', config });
      await store.createRun({ id: 'r2', name: 'r2', config });
      const input = stepEvents(0, 5);
      await store.appendEvents('r', input);
      input[0].type = 'mutated' as 'step';
      await store.appendEvents('r2', stepEvents(100, 2));
      await store.appendEvents('r', []);
      await store.appendEvents('r', stepEvents(5, 3));
      await store.appendEvents('r', [{ type: 'done', testAcc: 0.5, flopsFraction: 0.5, paramsFraction: 0.6, rectifications: 1, steps: 8, seconds: 3 }]);
      const events = await store.loadEvents('r');
      expect(events.map((e) => (e.type === 'step' ? e.step : e.type))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 'done']);
      expect((await store.loadEvents('r2')).map((e) => (e as { step: number }).step)).toEqual([100, 101]);
      expect(await store.getRun('r')).toMatchObject({ eventCount: 9, chunkCount: 3 });
      expect(await store.loadEvents('unknown')).toEqual([]);
      store.close();
    });

    it('buffers through the event writer and flushes in chunks', async () => {
      const store = await make();
      await store.createRun({ id: 'w', name: 'w', config });
      const writer = createEventWriter(store, 'w', { maxEvents: 4, maxDelayMs: 60_000 });
      writer.push(stepEvents(0, 3));
      expect(writer.pending).toBe(3);
      writer.push(stepEvents(3, 2));
      await writer.flush();
      writer.push(stepEvents(5, 1));
      await writer.close();
      expect(writer.pending).toBe(0);
      expect(() => writer.push(stepEvents(9, 1))).toThrow(/closed/);
      expect((await store.loadEvents('w')).map((e) => (e as { step: number }).step)).toEqual([0, 1, 2, 3, 4, 5]);
      expect((await store.getRun('w'))?.chunkCount).toBe(2);
      store.close();
    });

    it('round-trips a checkpoint bit for bit and keeps only the latest', async () => {
      const store = await make();
      await store.createRun({ id: 'c', name: 'c', config });
      const first = sampleCheckpoint(10);
      await store.saveCheckpoint('c', { ...first, savedAt: 1234 });
      first.weights['conv1/kernel'].data[0] = 99;
      const loaded = await store.loadCheckpoint('c');
      expect(loaded).not.toBeNull();
      const expected = sampleCheckpoint(10);
      expect(loaded?.savedAt).toBe(1234);
      for (const group of ['weights', 'optimizer'] as const) {
        expect(Object.keys(loaded![group]).sort()).toEqual(Object.keys(expected[group]).sort());
        for (const [name, t] of Object.entries(expected[group])) {
          const got = loaded![group][name];
          expect(got.data).toBeInstanceOf(Float32Array);
          expect(got.shape).toEqual(t.shape);
          expect(bits(got.data)).toEqual(bits(t.data));
          expect(got.data.buffer.byteLength).toBe(t.data.length * 4);
        }
      }
      expect(loaded).toMatchObject({ step: 10, epoch: 1, pruning: expected.pruning, rng: expected.rng, extra: expected.extra });
      expect((await store.getRun('c'))?.checkpoint).toEqual({ step: 10, epoch: 1, savedAt: 1234 });

      await store.saveCheckpoint('c', sampleCheckpoint(20));
      expect((await store.loadCheckpoint('c'))?.step).toBe(20);
      expect((await store.getRun('c'))?.checkpoint?.step).toBe(20);
      store.close();
    });

    it('stores the slimmed model', async () => {
      const store = await make();
      await store.createRun({ id: 'm', name: 'm', config });
      const weights = new Uint8Array([1, 2, 3, 250]).buffer;
      await store.saveModel('m', { modelJson: '{"format":"layers-model"}', weights });
      new Uint8Array(weights)[0] = 7;
      const model = await store.loadModel('m');
      expect(model?.modelJson).toBe('{"format":"layers-model"}');
      expect(Array.from(new Uint8Array(model!.weights))).toEqual([1, 2, 3, 250]);
      expect((await store.getRun('m'))?.hasModel).toBe(true);
      expect(await store.loadModel('other')).toBeNull();
      store.close();
    });

    it('deletes a run with everything it owns, and nothing else', async () => {
      const store = await make();
      for (const id of ['d', 'keep']) {
        await store.createRun({ id, name: id, config });
        await store.appendEvents(id, stepEvents(0, 3));
        await store.saveCheckpoint(id, sampleCheckpoint(3));
        await store.saveModel(id, { modelJson: '{}', weights: new ArrayBuffer(8) });
      }
      const before = await store.estimateUsage();
      await store.deleteRun('d');
      await store.deleteRun('never-existed');
      expect((await store.listRuns()).map((r) => r.id)).toEqual(['keep']);
      expect(await store.loadEvents('d')).toEqual([]);
      expect(await store.loadCheckpoint('d')).toBeNull();
      expect(await store.loadModel('d')).toBeNull();
      expect(await store.loadEvents('keep')).toHaveLength(3);
      expect(await store.loadCheckpoint('keep')).not.toBeNull();
      const after = await store.estimateUsage();
      if (after.source === 'counted' && before.source === 'counted') expect(after.usage).toBeLessThan(before.usage);
      store.close();
    });

    it('marks running runs interrupted, except live ones', async () => {
      const store = await make();
      await store.createRun({ id: 'dead', name: 'dead', config });
      await store.saveCheckpoint('dead', sampleCheckpoint(7));
      await store.createRun({ id: 'dead2', name: 'dead2', config });
      await store.createRun({ id: 'live', name: 'live', config });
      await store.createRun({ id: 'paused', name: 'paused', config, status: 'paused' });
      const changed = await store.markInterrupted((id) => id === 'live');
      expect(changed.sort()).toEqual(['dead', 'dead2']);
      const runs = Object.fromEntries((await store.listRuns()).map((r) => [r.id, r]));
      expect(runs.dead.status).toBe('interrupted');
      expect(runs.dead.summary?.message).toMatch(/checkpoint at step 7/);
      expect(runs.dead2.summary?.message).toMatch(/before its first checkpoint/);
      expect(runs.live.status).toBe('running');
      expect(runs.paused.status).toBe('paused');
      expect(await store.markInterrupted()).toEqual(['live']);
      store.close();
    });

    it('counts usage that grows with stored data', async () => {
      const store = await make();
      const empty = await store.estimateUsage();
      await store.createRun({ id: 'u', name: 'u', config });
      await store.saveCheckpoint('u', sampleCheckpoint(1));
      const full = await store.estimateUsage();
      expect(full.usage).toBeGreaterThanOrEqual(0);
      if (full.source === 'counted') expect(full.usage - empty.usage).toBeGreaterThanOrEqual(2 * 288 * 4);
      store.close();
    });

    it('refuses use after close', async () => {
      const store = await make();
      store.close();
      await expect(store.listRuns()).rejects.toMatchObject({ code: 'closed' });
    });
  });
}
