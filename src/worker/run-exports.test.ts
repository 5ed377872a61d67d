import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticDataset } from '../engine/data/synthetic';
import { experimentSchema } from '../engine/experiment';
import { buildFinalModel, type FinalModel } from '../engine/export/final-model';
import { tiny } from '../engine/models/tiny';
import { disposeModel } from '../engine/models/graph';
import { readWeights } from '../engine/train/checkpoint';
import { runExperiment } from '../engine/train/run';
import { createMemoryStore, openRunStore, type RunStore } from '../persist';
import { finalCheckpoint, finalOfRun } from './run-exports';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const config = experimentSchema.parse({
  data: { augment: false },
  train: { model: 'tiny', epochs: 1, batchSize: 8, seed: 3 },
  prune: { pruner: 'depgraph', schedule: 'abrupt', target: 0.5, startAt: 0.3, points: 1 },
  backend: 'cpu',
});

let final: FinalModel;
beforeAll(async () => {
  const summary = await runExperiment(config, {
    dataset: syntheticDataset({ seed: 1, trainSize: 16, testSize: 8 }),
    emit: () => undefined,
    backend: 'cpu',
    modelDef: tiny({ width: 4, headWidth: 8, stemStride: 4 }),
    keepFinal: true,
  });
  disposeModel(summary.slimModel!);
  final = { ...summary.final!, arch: { kind: 'tiny' } };
});

const stores: [string, () => Promise<RunStore>][] = [
  ['memory', async () => createMemoryStore()],
  [
    'indexeddb',
    async () => {
      const s = await openRunStore({ factory: new IDBFactory() });
      if ('unavailable' in s) throw new Error(s.unavailable);
      return s;
    },
  ],
];

describe.each(stores)('a finished run\'s final model in the %s run store', (_kind, open) => {
  it('is read back from its last checkpoint and rebuilds the same slimmed network', async () => {
    const store = await open();
    await store.createRun({ id: 'r', name: 'tiny · run', config, status: 'done' });
    await store.saveCheckpoint('r', finalCheckpoint(final, { step: 2, epoch: 1, rectifications: 0, elapsedSeconds: 1 }));
    const got = await finalOfRun(store, 'r');
    expect(got.why).toBe('');
    expect(got.name).toBe('tiny · run');
    expect(got.final?.keep).toEqual(final.keep);
    expect(got.final?.arch).toEqual({ kind: 'tiny' });
    const a = buildFinalModel(final, 'slim');
    const b = buildFinalModel(got.final!, 'slim');
    expect(await readWeights(b.vars)).toEqual(await readWeights(a.vars));
    [a, b].forEach(disposeModel);
    store.close();
  });

  it('says why a run has nothing to export', async () => {
    const store = await open();
    expect((await finalOfRun(store, 'nope')).why).toBe('the run is not in this browser’s run store');
    await store.createRun({ id: 's', name: 's', config, status: 'stopped' });
    expect((await finalOfRun(store, 's')).why).toContain('the run is stopped: only a finished run has a final model');
    await store.createRun({ id: 'l', name: 'l', config, status: 'running' });
    expect((await finalOfRun(store, 'l')).why).toContain('still running');
    // Finished before final weights were kept: a resume checkpoint and the tfjs model only.
    await store.createRun({ id: 'o', name: 'o', config, status: 'done' });
    await store.saveCheckpoint('o', { step: 1, epoch: 0, weights: final.weights, optimizer: {}, pruning: null, rng: null });
    await store.saveModel('o', { modelJson: '{}', weights: new ArrayBuffer(4) });
    const old = await finalOfRun(store, 'o');
    expect(old.final).toBeNull();
    expect(old.why).toBe('the run store holds only a checkpoint at step 1, not its final weights (runs finished before this version of the app kept them); its slimmed TensorFlow.js model can still be downloaded');
    expect((await finalOfRun(null, 'o')).why).toContain('memory only');
    store.close();
  });
});
