import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireWebGpu } from '../kernels/webgpu/backend-internals';
import { countDispatches } from '../kernels/webgpu/dispatch-count';
import { setFastWebGpu } from '../kernels/webgpu/install';
import { useWebGpuBackend } from '../kernels/webgpu/test-util';
import { disposeModel, initParams, type Model } from '../models/graph';
import { tiny } from '../models/tiny';
import { noPruning } from '../pruning';
import { SgdMomentum } from './optimizer';
import { trainStep } from './step';

beforeAll(useWebGpuBackend);
afterAll(() => setFastWebGpu(true));

const BATCH = 2;
const STEPS = 3;

interface Trained {
  losses: number[];
  correct: number[];
  weights: Map<string, Float32Array>;
  /** Dispatches of the last step, by kernel. */
  kernels: Map<string, number>;
  /** Live tensors after each step. */
  tensors: number[];
}

/** Trains the tiny model for STEPS steps from seed 5 with our WebGPU paths on or off. */
async function train(fast: boolean): Promise<Trained> {
  const def = tiny({ width: 8, headWidth: 8, stemStride: 2 });
  const model: Model = initParams(def, 5);
  const optimizer = new SgdMomentum(0.9, 5e-4);
  const ctx = { model, optimizer, hooks: noPruning(model) };
  const x = tf.randomNormal([BATCH, ...def.inputShape], 0, 1, 'float32', 11) as tf.Tensor4D;
  const y = tf.tensor1d([3, 8], 'int32');
  const out: Trained = { losses: [], correct: [], weights: new Map(), kernels: new Map(), tensors: [] };
  setFastWebGpu(fast);
  try {
    for (let s = 0; s < STEPS; s++) {
      const { result, dispatches } = await countDispatches(requireWebGpu().device, () => trainStep(ctx, x, y, 0.05, s));
      out.losses.push((await result.loss.data())[0]);
      out.correct.push((await result.correct.data())[0]);
      tf.dispose([result.loss, result.correct]);
      out.kernels = new Map();
      for (const d of dispatches) out.kernels.set(d.kernel, (out.kernels.get(d.kernel) ?? 0) + 1);
      out.tensors.push(tf.memory().numTensors);
    }
  } finally {
    setFastWebGpu(true);
  }
  for (const [name, v] of model.vars) out.weights.set(name, (await v.data()) as Float32Array);
  optimizer.dispose();
  disposeModel(model);
  tf.dispose([x, y]);
  return out;
}

const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

describe('a training step on WebGPU, ours vs stock tfjs', () => {
  // Two full tiny trainings on SwiftShader: ~30 s alone, more beside other WebGPU test files.
  it('trains the tiny model 3 steps to the same losses, accuracy and weights, in fewer dispatches', { timeout: 240_000 }, async () => {
    const stock = await train(false);
    const fast = await train(true);
    expect(fast.correct).toEqual(stock.correct);
    fast.losses.forEach((l, i) => expect(Math.abs(l - stock.losses[i])).toBeLessThanOrEqual(1e-5 * stock.losses[i]));
    // The loss gradient differs from stock's in the last bit of some entries (see softmax-xent):
    // measured 1.2e-7 at most after three steps; the margin leaves room for other fused kernels
    // that sum in another order.
    for (const [name, w] of stock.weights) {
      const f = fast.weights.get(name)!;
      w.forEach((wi, i) => expect(Math.abs(f[i] - wi), `${name}[${i}]`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(wi))));
    }
    // The weights moved: the comparison is not of two untouched models.
    const init = initParams(tiny({ width: 8, headWidth: 8, stemStride: 2 }), 5);
    const w0 = (await init.vars.get('fc.w')!.data()) as Float32Array;
    expect(w0.some((v, i) => v !== stock.weights.get('fc.w')![i])).toBe(true);
    disposeModel(init);

    const trainable = tiny({ width: 8, headWidth: 8, stemStride: 2 }).params.filter((p) => p.trainable).length;
    expect(fast.kernels.get('sgd-momentum-x2')! + (fast.kernels.get('sgd-momentum-x1') ?? 0)).toBe(Math.ceil(trainable / 2));
    expect(fast.kernels.get('softmax-xent-correct')).toBe(1);
    expect(fast.kernels.get('softmax-xent-grad')).toBe(1);
    expect(fast.kernels.has('ArgMinMaxProgram')).toBe(false);
    // Stock: 6 dispatches per variable in the optimizer and ~23 for loss and accuracy.
    expect(total(stock.kernels) - total(fast.kernels)).toBeGreaterThanOrEqual(6 * trainable - Math.ceil(trainable / 2) + 20);
    expect(new Set(fast.tensors.slice(1)).size).toBe(1);
  });
});
