import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultExperiment } from '../engine/experiment';
import { createEventWriter } from './event-writer';
import { createMemoryStore } from './memory-store';
import { stepEvents } from './run-store.contract';
import { RunStoreError, type RunStore } from './types';

afterEach(() => vi.useRealTimers());

async function storeWithRun(): Promise<RunStore> {
  const store = createMemoryStore();
  await store.createRun({ id: 'r', name: 'r', config: defaultExperiment() });
  return store;
}

describe('event writer', () => {
  it('flushes on its own after maxDelayMs', async () => {
    vi.useFakeTimers();
    const store = await storeWithRun();
    const writer = createEventWriter(store, 'r', { maxEvents: 100, maxDelayMs: 500 });
    writer.push(stepEvents(0, 2));
    await vi.advanceTimersByTimeAsync(499);
    expect(await store.loadEvents('r')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await store.loadEvents('r')).toHaveLength(2);
    expect(writer.pending).toBe(0);
  });

  it('flushes as soon as maxEvents are buffered, in order, one chunk at a time', async () => {
    const store = await storeWithRun();
    const writer = createEventWriter(store, 'r', { maxEvents: 3, maxDelayMs: 60_000 });
    for (let i = 0; i < 7; i++) writer.push(stepEvents(i, 1));
    await writer.flush();
    expect((await store.loadEvents('r')).map((e) => (e as { step: number }).step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect((await store.getRun('r'))?.chunkCount).toBe(3);
  });

  it('keeps a chunk that failed and writes it with the next flush', async () => {
    const store = await storeWithRun();
    const real = store.appendEvents.bind(store);
    let failures = 1;
    store.appendEvents = async (id, events) => {
      if (failures-- > 0) throw new RunStoreError('quota', 'full');
      return real(id, events);
    };
    const errors: unknown[] = [];
    const writer = createEventWriter(store, 'r', { maxEvents: 100, onError: (e) => errors.push(e) });
    writer.push(stepEvents(0, 2));
    await writer.flush();
    expect(errors).toHaveLength(1);
    expect(writer.pending).toBe(2);
    writer.push(stepEvents(2, 1));
    await writer.close();
    expect((await store.loadEvents('r')).map((e) => (e as { step: number }).step)).toEqual([0, 1, 2]);
  });
});
