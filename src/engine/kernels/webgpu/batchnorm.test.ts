import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildModelDef } from '../../models';
import { BN_EPSILON, BN_MOMENTUM, reluFusions, disposeModel, forward, initParams, param, type Model, type ModelDef } from '../../models/graph';
import { noPruning } from '../../pruning/engine';
import { createGates, withGates } from '../../pruning/groups';
import { fakeBatch, harnessStep } from '../../pruning/harness';
import { SgdMomentum } from '../../train/optimizer';
import { requireWebGpu } from './backend-internals';
import { bnTrain } from './batchnorm';
import { countDispatches } from './dispatch-count';
import { setFastWebGpu } from './install';
import { useWebGpuBackend } from './test-util';

beforeAll(useWebGpuBackend);
afterEach(() => setFastWebGpu(true));

const SHAPES: Array<[number, number, number, number]> = [
  [1, 4, 4, 3],
  [3, 5, 5, 7],
  [2, 8, 8, 16],
  [5, 2, 2, 13],
];

/** tfjs's composite, as graph.ts runs it on stock tfjs: moments over N,H,W, batchNorm, relu. */
function stockBn(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, relu: boolean) {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.batchNorm(x, mean, variance, beta, gamma, BN_EPSILON);
  return { y: relu ? tf.relu(y) : y, mean, variance };
}

function inputs(shape: [number, number, number, number], seed: number) {
  const c = shape[3];
  return tf.tidy(() => ({
    // An offset mean and uneven channel scales: the variance must not cancel.
    x: tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), tf.linspace(0.5, 3, c)), 4) as tf.Tensor4D,
    gamma: tf.randomUniform([c], 0.5, 1.5, 'float32', seed + 1) as tf.Tensor1D,
    beta: tf.randomNormal([c], 0, 0.5, 'float32', seed + 2) as tf.Tensor1D,
    dy: tf.randomNormal(shape, 0, 1, 'float32', seed + 3) as tf.Tensor4D,
  }));
}

async function expectClose(a: tf.Tensor, b: tf.Tensor, tol: number): Promise<void> {
  expect(a.shape).toEqual(b.shape);
  const [av, bv] = await Promise.all([a.data(), b.data()]);
  let worst = 0;
  for (let i = 0; i < av.length; i++) worst = Math.max(worst, Math.abs(av[i] - bv[i]) / (1 + Math.abs(bv[i])));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe('bnTrain matches tfjs composite batch norm on WebGPU', () => {
  for (const shape of SHAPES) {
    for (const relu of [false, true]) {
      // rowsPerChunk 8 forces the chunked two-pass reductions on every shape.
      for (const rowsPerChunk of [undefined, 8]) {
        it(`${shape.join('x')}${relu ? ' + relu' : ''}${rowsPerChunk ? ', chunked' : ''}: y, mean, variance, dx, dgamma, dbeta`, async () => {
          const { x, gamma, beta, dy } = inputs(shape, shape[3]);
          const ours = bnTrain(x, gamma, beta, relu, { eps: BN_EPSILON, rowsPerChunk });
          const ref = stockBn(x, gamma, beta, relu);
          await expectClose(ours.y, ref.y, 1e-5);
          await expectClose(ours.mean, ref.mean, 1e-5);
          await expectClose(ours.variance, ref.variance, 1e-5);

          const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => bnTrain(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D, relu, { eps: BN_EPSILON, rowsPerChunk }).y);
          const gRef = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => stockBn(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D, relu).y);
          const mine = g([x, gamma, beta], dy);
          const theirs = gRef([x, gamma, beta], dy);
          for (let i = 0; i < 3; i++) await expectClose(mine[i], theirs[i], 2e-4);
          tf.dispose([x, gamma, beta, dy, ours, ref, mine, theirs]);
        });
      }
    }
  }

  it('updates the running statistics as graph.ts does on stock tfjs (unbiased variance, momentum)', async () => {
    for (const rowsPerChunk of [undefined, 8]) {
      const { x, gamma, beta, dy } = inputs([3, 5, 5, 7], 11);
      const init = tf.tidy(() => tf.randomUniform([7], 0.5, 2, 'float32', 5));
      const running = { mean: tf.variable(tf.mul(init, 0.1)), variance: tf.variable(tf.clone(init)), momentum: BN_MOMENTUM };
      const snapshot = tf.clone(running.mean); // shares the buffer: the in-place write must not reach it
      const out = bnTrain(x, gamma, beta, true, { eps: BN_EPSILON, running, rowsPerChunk });
      const n = 75;
      const ref = tf.tidy(() => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return {
          mean: tf.add(tf.mul(tf.mul(init, 0.1), 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)),
          variance: tf.add(tf.mul(init, 1 - BN_MOMENTUM), tf.mul(tf.mul(variance, n / (n - 1)), BN_MOMENTUM)),
        };
      });
      await expectClose(running.mean, ref.mean, 1e-6);
      await expectClose(running.variance, ref.variance, 1e-6);
      const scaled = tf.mul(init, 0.1);
      await expectClose(snapshot, scaled, 0);
      tf.dispose([x, gamma, beta, dy, init, running.mean, running.variance, snapshot, scaled, out, ref]);
    }
  });

  it('leaves no tensors behind across a forward and backward pass', () => {
    const { x, gamma, beta, dy } = inputs([2, 8, 8, 16], 3);
    const before = tf.memory().numTensors;
    for (const rowsPerChunk of [undefined, 8]) {
      tf.tidy(() => {
        tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => bnTrain(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D, true, { eps: BN_EPSILON, rowsPerChunk }).y)([x, gamma, beta], dy);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, gamma, beta, dy]);
  });
});

/** A one-layer model conv -> bn -> relu, through graph.ts, for dispatch counts per BN layer. */
function bnLayerModel(c: number): Model {
  const def: ModelDef = {
    name: 'bnlayer',
    inputShape: [8, 8, c],
    numClasses: c,
    ops: [
      { kind: 'bn', out: 'bn', input: 'input', gamma: 'g', beta: 'b', mean: 'm', variance: 'v' },
      { kind: 'relu', out: 'relu', input: 'bn' },
    ],
    output: 'relu',
    params: [
      { name: 'g', shape: [c], init: 'ones', trainable: true, decay: true },
      { name: 'b', shape: [c], init: 'zeros', trainable: true, decay: true },
      { name: 'm', shape: [c], init: 'zeros', trainable: false, decay: false },
      { name: 'v', shape: [c], init: 'ones', trainable: false, decay: false },
    ],
    families: [],
  };
  return initParams(def, 1);
}

/** Dispatches of one training-mode BN+ReLU layer through graph.ts: forward, then backward alone. */
async function layerDispatches(model: Model, x: tf.Tensor4D, dy: tf.Tensor): Promise<{ forward: number; backward: number }> {
  const device = requireWebGpu().device;
  const vars = ['g', 'b'].map((n) => param(model, n));
  const fwd = await countDispatches(device, () => tf.dispose(forward(model, x, true)));
  const all = await countDispatches(device, () => tf.dispose(tf.engine().gradients(() => forward(model, x, true), [x, ...vars], dy)));
  return { forward: fwd.dispatches.length, backward: all.dispatches.length - fwd.dispatches.length };
}

describe('dispatches per BN layer', () => {
  it('fused: 2 forward (stats with running averages, normalize+relu) and 2 backward; 3 and 3 when rows split into chunks', async () => {
    for (const batch of [2, 32]) {
      const model = bnLayerModel(16);
      const x = tf.randomNormal([batch, 8, 8, 16], 0, 1, 'float32', 1) as tf.Tensor4D;
      const dy = tf.randomNormal(x.shape, 0, 1, 'float32', 2);
      const fused = await layerDispatches(model, x, dy);
      setFastWebGpu(false);
      const stock = await layerDispatches(model, x, dy);
      setFastWebGpu(true);
      console.log(`BN+ReLU layer [${x.shape.join(',')}] dispatches: stock ${stock.forward} forward / ${stock.backward} backward; fused ${fused.forward} / ${fused.backward}`);
      const chunked = batch * 64 > 1024;
      expect(fused).toEqual(chunked ? { forward: 3, backward: 3 } : { forward: 2, backward: 2 });
      expect(stock.forward + stock.backward).toBeGreaterThan(4 * (fused.forward + fused.backward));
      tf.dispose([x, dy]);
      disposeModel(model);
    }
  });
});

// ---- whole training steps ----------------------------------------------------------------

async function train(def: ModelDef, fast: boolean, steps: number, gated: boolean): Promise<{ losses: number[]; state: Map<string, Float32Array>; dispatches: number }> {
  setFastWebGpu(fast);
  const model = initParams(def, 3);
  if (gated) model.def = withGates(model.def);
  const gates = gated ? createGates(model) : [];
  gates.forEach((g, i) => g.assign(tf.tidy(() => tf.randomUniform(g.shape, 0.5, 1.5, 'float32', i))));
  const hooks = { ...noPruning(model), extraTrainable: () => gates };
  const opt = new SgdMomentum(0.9, 5e-4);
  const { x, y } = fakeBatch(model, 2);
  const losses: number[] = [];
  let dispatches = 0;
  for (let s = 0; s < steps; s++) {
    const r = await countDispatches(requireWebGpu().device, () => harnessStep(model, hooks, opt, s, x, y, 0.05));
    losses.push(r.result);
    dispatches = r.dispatches.length;
  }
  const state = new Map<string, Float32Array>();
  for (const [name, v] of model.vars) state.set(name, (await v.data()) as Float32Array);
  tf.dispose([x, y]);
  disposeModel(model);
  setFastWebGpu(true);
  return { losses, state, dispatches };
}

async function expectSameTraining(def: ModelDef, gated: boolean): Promise<{ stock: number; fused: number }> {
  const stock = await train(def, false, 3, gated);
  const fused = await train(def, true, 3, gated);
  fused.losses.forEach((l, i) => expect(l).toBeCloseTo(stock.losses[i], 4));
  expect([...fused.state.keys()].sort()).toEqual([...stock.state.keys()].sort());
  for (const [name, ref] of stock.state) {
    const got = fused.state.get(name)!;
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / (1 + Math.abs(ref[i])));
    expect(worst, name).toBeLessThan(2e-4);
  }
  return { stock: stock.dispatches, fused: fused.dispatches };
}

describe('training steps with fused BN equal stock tfjs', () => {
  it('tiny: 3 steps, same losses, weights and running statistics', async () => {
    const def = buildModelDef('tiny');
    // stem.bn, block.bn1 and head.bn feed only a ReLU; block.bn2 feeds the residual add,
    // which computes the ReLU after it.
    expect([...reluFusions(def)].sort()).toEqual(['add2', 'block.bn1', 'head.bn', 'stem.bn']);
    // ResNet-20: the stem's BN, each block's first BN and each block's residual add; second
    // BNs and shortcut BNs feed adds.
    const blocks = ['s1', 's2', 's3'].flatMap((s) => [1, 2, 3].map((b) => `${s}b${b}.bn1`));
    const adds = [2, 5, 8, 11, 14, 17, 20, 23, 26].map((i) => `add${i}`);
    expect([...reluFusions(buildModelDef('resnet20'))].sort()).toEqual(['stem.bn', ...blocks, ...adds].sort());
    const d = await expectSameTraining(def, false);
    console.log(`tiny training step, batch 2: ${d.stock} dispatches stock, ${d.fused} with fused BN`);
    expect(d.fused).toBeLessThan(d.stock);
  });

  it('tiny with Gate Decorator gates (BN -> gate -> ReLU stays unfused): 3 steps, same result', async () => {
    const def = buildModelDef('tiny');
    expect([...reluFusions(withGates(def))]).toEqual(['add2']);
    await expectSameTraining(def, true);
  });
});
