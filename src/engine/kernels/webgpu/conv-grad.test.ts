import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireWebGpu } from './backend-internals';
import { filterGradDims, inputGradDims, splitKPlan, type ConvShape } from './conv-grad-plan';
import { countDispatches } from './dispatch-count';
import { setFastWebGpu } from './install';
import { useWebGpuBackend } from './test-util';

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
  { name: 'first conv, 3 input channels', batch: 1, size: 8, inC: 3, outC: 16, k: 3, stride: 1 },
  { name: 'first conv at 32x32: 64 partials, summed in lanes', batch: 4, size: 32, inC: 3, outC: 8, k: 3, stride: 1 },
  { name: '3x3 s1, slimmed 13 -> 7, odd batch', batch: 3, size: 6, inC: 13, outC: 7, k: 3, stride: 1 },
  { name: '3x3 s2, even input (TF pads bottom/right more)', batch: 3, size: 8, inC: 16, outC: 32, k: 3, stride: 2 },
  { name: '3x3 s2, odd input, 5 -> 13', batch: 1, size: 7, inC: 5, outC: 13, k: 3, stride: 2 },
  { name: '1x1 s2 downsample', batch: 3, size: 8, inC: 16, outC: 32, k: 1, stride: 2 },
  { name: '3x3 s1, split reductions both ways', batch: 3, size: 16, inC: 16, outC: 32, k: 3, stride: 1 },
  { name: 'VGG-like 64 -> 64, 1 channel slimmed in', batch: 3, size: 4, inC: 1, outC: 64, k: 3, stride: 1 },
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

async function gradients(c: Case, fast: boolean): Promise<{ dx: Float32Array; dw: Float32Array; labels: string[] }> {
  setFastWebGpu(fast);
  const x = tf.randomNormal([c.batch, c.size, c.size, c.inC], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([c.k, c.k, c.inC, c.outC], 0, 0.3, 'float32', 2) as tf.Tensor4D;
  const out = Math.ceil(c.size / c.stride);
  const dy = tf.randomNormal([c.batch, out, out, c.outC], 0, 1, 'float32', 3) as tf.Tensor4D;
  const { result, dispatches } = await countDispatches(requireWebGpu().device, () =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, 'same'))([x, w], dy),
  );
  const [dx, dw] = result;
  const data = { dx: (await dx.data()) as Float32Array, dw: (await dw.data()) as Float32Array, labels: dispatches.map((d) => d.kernel) };
  tf.dispose([x, w, dy, dx, dw]);
  return data;
}

describe('conv gradients (split-K implicit GEMM) against tfjs 4.22\'s own WebGPU kernels', () => {
  it.each(CASES)('$name', async (c) => {
    const stock = await gradients(c, false);
    const ours = await gradients(c, true);
    closeTo(ours.dw, stock.dw);
    closeTo(ours.dx, stock.dx);
    // Forward conv, then one or two programs per gradient: the GEMM, and the sum of its
    // partial tiles when the reduction is split.
    const conv = shapeOf(c);
    const expected = [filterGradDims(conv), inputGradDims(conv)].reduce((n, d) => n + (splitKPlan(d).splits > 1 ? 2 : 1), 0);
    const gradPrograms = ours.labels.filter((l) => /SplitKConvGradProgram|SumPartialsProgram/.test(l));
    expect(gradPrograms).toHaveLength(expected);
    expect(ours.labels.some((l) => /Conv2DDer/.test(l))).toBe(false);
    expect(stock.labels.some((l) => /Conv2DDerFilter/.test(l))).toBe(true);
  });

  it('the cases cover one and several reduction splits for each gradient', () => {
    const plans = CASES.map((c) => ({ f: splitKPlan(filterGradDims(shapeOf(c))).splits, i: splitKPlan(inputGradDims(shapeOf(c))).splits }));
    expect(plans.some((p) => p.f === 1)).toBe(true);
    expect(plans.some((p) => p.f > 1)).toBe(true);
    expect(plans.some((p) => p.i === 1)).toBe(true);
    expect(plans.some((p) => p.i > 1)).toBe(true);
    expect(CASES.some((c) => splitKPlan(filterGradDims(shapeOf(c))).sumLanes > 1)).toBe(true);
  });
});
