import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODELS } from '../models';
import { disposeModel, forward, initParams, param } from '../models/graph';
import { exportLayersModel, loadExported } from './layers-model';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('exportLayersModel', () => {
  it('round-trips through TensorFlow.js model format with identical outputs', async () => {
    const model = initParams(MODELS.tiny(), 3);
    // Non-trivial BN statistics, so a mix-up of mean/variance/gamma/beta would show.
    for (const p of model.def.params.filter((q) => q.name.endsWith('.mean') || q.name.endsWith('.var') || q.name.endsWith('.beta'))) {
      const v = param(model, p.name);
      v.assign(tf.randomUniform(v.shape, 0.2, 1.5, 'float32', 7));
    }
    const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const ours = forward(model, x, false);
    const artifacts = await exportLayersModel(model);
    expect(JSON.parse(artifacts.modelJson).format).toBe('layers-model');
    const loaded = await loadExported(artifacts);
    const theirs = loaded.predict(x) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0];
    expect(diff).toBeLessThan(1e-4);
    expect(artifacts.weights.byteLength).toBeGreaterThan(4 * 10_000);
    loaded.dispose();
    tf.dispose([x, ours, theirs]);
    disposeModel(model);
  });
});
