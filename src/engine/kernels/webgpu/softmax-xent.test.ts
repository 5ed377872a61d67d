import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lossAndCorrect } from '../../train/loss';
import { requireWebGpu } from './backend-internals';
import { countDispatches } from './dispatch-count';
import { setFastWebGpu } from './install';
import { useWebGpuBackend } from './test-util';

beforeAll(useWebGpuBackend);
afterAll(() => setFastWebGpu(true));

const C = 10;

interface Result {
  loss: number;
  correct: number;
  grad: Float32Array;
}

/** Loss, correct count and d(loss)/d(logits) through the fast or the stock path. */
async function run(fast: boolean, logits: tf.Tensor2D, labels: tf.Tensor1D): Promise<Result> {
  setFastWebGpu(fast);
  try {
    const x = tf.variable(logits, true, `xent-${fast}-${Math.random()}`);
    let correct: tf.Scalar | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const out = lossAndCorrect(x, labels, C);
      correct = tf.keep(out.correct);
      return out.loss;
    }, [x]);
    const result = { loss: (await value.data())[0], correct: (await correct!.data())[0], grad: (await grads[x.name].data()) as Float32Array };
    tf.dispose([x, value, correct!, grads[x.name]]);
    return result;
  } finally {
    setFastWebGpu(true);
  }
}

/** Logits with the awkward rows in them: an exact tie, a huge margin, and labels out of range. */
function batch(n: number, seed: number): { logits: tf.Tensor2D; labels: tf.Tensor1D } {
  const x = tf.randomNormal([n, C], 0, 3, 'float32', seed).dataSync() as Float32Array;
  x.fill(0.5, 0, C); // row 0: all tied, so argMax must pick class 0
  x[C + 7] = 80; // row 1: class 7 dominates
  const y = Array.from({ length: n }, (_v, i) => (i * 7 + seed) % C);
  y[0] = 0;
  y[1] = 7;
  if (n > 3) y[2] = C; // one-hot of an out-of-range label is all zeros: no loss from this row
  if (n > 4) y[3] = -1;
  // Some rows right, so `correct` is neither 0 nor N by accident.
  for (let i = 4; i < n; i += 3) x[i * C + y[i]] += 6;
  return { logits: tf.tensor2d(x, [n, C]), labels: tf.tensor1d(y, 'int32') };
}

describe('fused softmax cross-entropy + correct count on WebGPU', () => {
  for (const n of [2, 37, 300]) {
    it(`matches tf.losses.softmaxCrossEntropy, its gradient and argMax/equal/sum (batch ${n})`, async () => {
      const { logits, labels } = batch(n, n);
      const stock = await run(false, logits, labels);
      const fused = await run(true, logits, labels);
      expect(fused.correct).toBe(stock.correct);
      expect(stock.correct).toBeGreaterThan(0);
      expect(Math.abs(fused.loss - stock.loss)).toBeLessThanOrEqual(4e-7 * Math.abs(stock.loss));
      // Each gradient entry is (dy/N) * (p - onehot) with p within a few ulp of stock's.
      for (let i = 0; i < stock.grad.length; i++) expect(Math.abs(fused.grad[i] - stock.grad[i])).toBeLessThanOrEqual(1e-6 / n);
      tf.dispose([logits, labels]);
    });
  }

  it('takes two dispatches, forward and backward (stock: more than 20), and leaks nothing', async () => {
    const { logits, labels } = batch(8, 3);
    const device = requireWebGpu().device;
    await run(true, logits, labels);
    const tensors = tf.memory().numTensors;
    const fused = await countDispatches(device, () => run(true, logits, labels));
    expect(tf.memory().numTensors).toBe(tensors);
    const stock = await countDispatches(device, () => run(false, logits, labels));
    // The variable's first use copies the logits once in either path: Identity is free, so 0.
    expect(fused.dispatches.map((d) => d.kernel)).toEqual(['softmax-xent-correct', 'softmax-xent-grad']);
    expect(stock.dispatches.length).toBeGreaterThan(20);
    tf.dispose([logits, labels]);
  });
});
