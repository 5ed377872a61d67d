import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireWebGpu } from './backend-internals';
import { filterGradDims, inputGradDims, splitKPlan, type ConvShape } from './conv-grad-plan';
import { countDispatches } from './dispatch-count';
import { setFastWebGpu } from './install';
import { useWebGpuBackend } from './test-util';
import { buildModelDef, disposeModel, initParams, type Model } from '../../models';
import { fakeBatch, harnessStep } from '../../pruning/harness';
import { noPruning } from '../../pruning';
import { SgdMomentum } from '../../train/optimizer';

beforeAll(useWebGpuBackend);
afterEach(() => setFastWebGpu(true));

interface Case {
  name: string;
  batch: number;
  size: number;
  inC: number;
  outC: number;
  k: number;
  stride: number;
}

// The shapes the four models produce, small: every kind of conv, odd channel counts from
// slimming, batch 1 and an odd batch, and reductions long enough to be split.
const CASES: Case[] = [
  { name: 'first conv (3 input channels) at 32x32: many partials, summed in lanes', batch: 8, size: 32, inC: 3, outC: 8, k: 3, stride: 1 },
  { name: '3x3 s1, slimmed 13 -> 7, odd batch', batch: 3, size: 6, inC: 13, outC: 7, k: 3, stride: 1 },
  { name: '3x3 s2, even input (TF pads bottom/right more)', batch: 3, size: 8, inC: 16, outC: 32, k: 3, stride: 2 },
  { name: '3x3 s2, odd input, 5 -> 13', batch: 1, size: 7, inC: 5, outC: 13, k: 3, stride: 2 },
  { name: '1x1 s2 downsample', batch: 3, size: 8, inC: 16, outC: 32, k: 1, stride: 2 },
  { name: '3x3 s1, split reductions both ways', batch: 3, size: 16, inC: 16, outC: 32, k: 3, stride: 1 },
  { name: 'VGG-like 128 wide, 1 channel slimmed in', batch: 3, size: 4, inC: 1, outC: 128, k: 3, stride: 1 },
];

function shapeOf(c: Case): ConvShape {
  const out = Math.ceil(c.size / c.stride);
  return { batch: c.batch, inH: c.size, inW: c.size, inC: c.inC, outH: out, outW: out, outC: c.outC, kH: c.k, kW: c.k };
}

function closeTo(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
  }
  expect(scale).toBeGreaterThan(0);
  expect(err / scale).toBeLessThan(1e-4);
}

interface Grads {
  dx: Float32Array;
  dw: Float32Array;
  /** Programs dispatched for each gradient. */
  filterPrograms: string[];
  inputPrograms: string[];
}

/** Both gradients of tf.conv2d(x, w, stride, 'same'), through the kernels tf.grad runs. */
async function gradients(c: Case, x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D, fast: boolean): Promise<Grads> {
  setFastWebGpu(fast);
  const device = requireWebGpu().device;
  const attrs = { strides: c.stride, pad: 'same', dataFormat: 'NHWC' };
  const f = await countDispatches(device, () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor);
  const i = await countDispatches(device, () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor);
  const out = {
    dw: (await f.result.data()) as Float32Array,
    dx: (await i.result.data()) as Float32Array,
    filterPrograms: f.dispatches.map((d) => d.kernel),
    inputPrograms: i.dispatches.map((d) => d.kernel),
  };
  tf.dispose([f.result, i.result]);
  return out;
}

/** Our programs for one gradient: the GEMM, then the sum of its partial tiles when split. */
function expectedPrograms(splits: number): RegExp[] {
  return splits > 1 ? [/SplitKConvGradProgram/, /SumPartialsProgram/] : [/SplitKConvGradProgram/];
}

describe('conv gradients (split-K implicit GEMM) against tfjs 4.22\'s own WebGPU kernels', () => {
  it.each(CASES)('$name', async (c) => {
    const dataBefore = tf.engine().backend.numDataIds();
    const out = Math.ceil(c.size / c.stride);
    const x = tf.randomNormal([c.batch, c.size, c.size, c.inC], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([c.k, c.k, c.inC, c.outC], 0, 0.3, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomNormal([c.batch, out, out, c.outC], 0, 1, 'float32', 3) as tf.Tensor4D;
    const stock = await gradients(c, x, w, dy, false);
    const ours = await gradients(c, x, w, dy, true);
    tf.dispose([x, w, dy]);
    // The partial slabs are released, not leaked.
    expect(tf.engine().backend.numDataIds()).toBe(dataBefore);
    closeTo(ours.dw, stock.dw);
    closeTo(ours.dx, stock.dx);
    expect(stock.filterPrograms).toEqual(['Conv2DDerFilterProgram']);
    const conv = shapeOf(c);
    const [f, i] = [expectedPrograms(splitKPlan(filterGradDims(conv)).splits), expectedPrograms(splitKPlan(inputGradDims(conv)).splits)];
    expect(ours.filterPrograms).toHaveLength(f.length);
    f.forEach((re, k) => expect(ours.filterPrograms[k]).toMatch(re));
    expect(ours.inputPrograms).toHaveLength(i.length);
    i.forEach((re, k) => expect(ours.inputPrograms[k]).toMatch(re));
  });

  it('the cases cover one and several reduction splits for each gradient', () => {
    const plans = CASES.map((c) => ({ f: splitKPlan(filterGradDims(shapeOf(c))).splits, i: splitKPlan(inputGradDims(shapeOf(c))).splits }));
    expect(plans.some((p) => p.f === 1)).toBe(true);
    expect(plans.some((p) => p.f > 1)).toBe(true);
    expect(plans.some((p) => p.i === 1)).toBe(true);
    expect(plans.some((p) => p.i > 1)).toBe(true);
    expect(CASES.some((c) => splitKPlan(filterGradDims(shapeOf(c))).sumLanes > 1)).toBe(true);
    const groups = new Set(CASES.flatMap((c) => [filterGradDims(shapeOf(c)), inputGradDims(shapeOf(c))].map((d) => splitKPlan(d).groups)));
    expect([...groups].sort()).toEqual([1, 2, 4]);
  });

  it("falls back to tfjs's kernels for padding other than 'same'", async () => {
    const x = tf.randomNormal([1, 6, 6, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 4, 8], 0, 1, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomNormal([1, 4, 4, 8], 0, 1, 'float32', 3) as tf.Tensor4D;
    const attrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC' };
    const { result, dispatches } = await countDispatches(requireWebGpu().device, () => [
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor,
      tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor,
    ]);
    expect(dispatches.map((d) => d.kernel)).toEqual(['Conv2DDerFilterProgram', 'Conv2DDerInputProgram']);
    tf.dispose([x, w, dy, ...result]);
  });
});

describe('a training step with our conv gradients', () => {
  async function train(fast: boolean): Promise<{ losses: number[]; weights: Map<string, Float32Array> }> {
    setFastWebGpu(fast);
    const model: Model = initParams(buildModelDef('tiny'), 11);
    const { x, y } = fakeBatch(model, 3);
    const opt = new SgdMomentum(0.9, 5e-4);
    const hooks = noPruning(model);
    const losses: number[] = [];
    for (let s = 0; s < 3; s++) losses.push(await harnessStep(model, hooks, opt, s, x, y, 0.05));
    const weights = new Map<string, Float32Array>();
    for (const [name, v] of model.vars) weights.set(name, (await v.data()) as Float32Array);
    tf.dispose([x, y]);
    disposeModel(model);
    return { losses, weights };
  }

  it('takes the same 3 steps of the tiny model as stock tfjs, from the same init', async () => {
    const stock = await train(false);
    const ours = await train(true);
    for (let s = 0; s < 3; s++) expect(ours.losses[s]).toBeCloseTo(stock.losses[s], 4);
    expect(stock.losses[2]).not.toBeCloseTo(stock.losses[0], 2);
    for (const [name, w] of stock.weights) {
      const mine = ours.weights.get(name);
      if (!mine) throw new Error(`missing ${name}`);
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < w.length; i++) {
        worst = Math.max(worst, Math.abs(mine[i] - w[i]));
        scale = Math.max(scale, Math.abs(w[i]));
      }
      expect(worst, name).toBeLessThanOrEqual(1e-4 * Math.max(scale, 1e-3));
    }
  });
});
