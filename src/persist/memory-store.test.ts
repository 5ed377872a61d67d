import { describe, expect, it } from 'vitest';
import { defaultExperiment } from '../engine/experiment';
import { createMemoryStore } from './memory-store';
import { runStoreContract, sampleCheckpoint, stepEvents } from './run-store.contract';
import { isQuotaError, QUOTA_MESSAGE } from './types';

runStoreContract('memory', async () => createMemoryStore());

describe('memory store limit', () => {
  it('refuses writes past maxBytes with the quota error and keeps what it had', async () => {
    const store = createMemoryStore({ maxBytes: 2_000 });
    await store.createRun({ id: 'q', name: 'q', config: defaultExperiment() });
    await store.appendEvents('q', stepEvents(0, 10));
    const err = await store.saveCheckpoint('q', sampleCheckpoint(1)).catch((e: unknown) => e);
    expect(isQuotaError(err)).toBe(true);
    expect((err as Error).message).toBe(QUOTA_MESSAGE);
    expect(await store.loadCheckpoint('q')).toBeNull();
    expect(await store.loadEvents('q')).toHaveLength(10);
    expect((await store.estimateUsage()).quota).toBe(2_000);
  });

  it('frees the space of a replaced checkpoint', async () => {
    const cpBytes = 2 * 288 * 4 + 4 * 10 + 4 * 4;
    const store = createMemoryStore({ maxBytes: cpBytes * 1.5 });
    await store.createRun({ id: 'q', name: 'q', config: defaultExperiment() });
    await store.saveCheckpoint('q', sampleCheckpoint(1));
    await store.saveCheckpoint('q', sampleCheckpoint(2));
    expect((await store.loadCheckpoint('q'))?.step).toBe(2);
  });
});
