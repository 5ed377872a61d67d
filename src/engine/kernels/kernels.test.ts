import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { broadcastStrides, trailingBroadcast } from './broadcast';
import { conv2DBackpropFilterFast } from './conv-filter-grad';
import { FAST_CPU_KERNELS, installFastCpuKernels, originalCpuKernel } from './install';

beforeAll(async () => {
  installFastCpuKernels();
  await tf.setBackend('cpu');
});

function run(kernel: tf.KernelFunc, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): { shape: number[]; values: Float32Array } {
  const info = kernel({ inputs, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  const t = tf.engine().makeTensorFromTensorInfo(info);
  const out = { shape: t.shape, values: t.dataSync() as Float32Array };
  t.dispose();
  return out;
}

function expectClose(got: { shape: number[]; values: Float32Array }, want: { shape: number[]; values: Float32Array }): void {
  expect(got.shape).toEqual(want.shape);
  expect(got.values.length).toBe(want.values.length);
  for (let i = 0; i < want.values.length; i++) {
    const w = want.values[i];
    if (!Number.isFinite(w)) expect(got.values[i]).toBe(w);
    else expect(Math.abs(got.values[i] - w)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(w)));
  }
}

function original(name: string): tf.KernelFunc {
  const k = originalCpuKernel(name);
  if (!k) throw new Error(`no original ${name}`);
  return k;
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 });

describe('fast CPU kernels', () => {
  it('are the kernels the CPU backend now runs, each with tfjs\'s own kept as fallback', () => {
    for (const [name, k] of Object.entries(FAST_CPU_KERNELS)) {
      expect(tf.getKernel(name, 'cpu')?.kernelFunc).toBe(k);
      expect(originalCpuKernel(name)).toBeDefined();
    }
    installFastCpuKernels(); // idempotent: the kept originals stay tfjs's
    expect(originalCpuKernel('Sum')).not.toBe(FAST_CPU_KERNELS.Sum);
  });

  it('Conv2DBackpropFilter matches tfjs\'s own kernel for any shape, stride and padding', () => {
    fc.assert(
      fc.property(
        fc.record({
          b: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 1, max: 9 }),
          w: fc.integer({ min: 1, max: 9 }),
          c1: fc.integer({ min: 1, max: 5 }),
          c2: fc.integer({ min: 1, max: 5 }),
          k: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 2 }),
          pad: fc.constantFrom<'same' | 'valid' | number>('same', 'valid', 0, 1),
          relu: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        ({ b, h, w, c1, c2, k, stride, pad, relu, seed }) => {
          const filterShape: [number, number, number, number] = [k, k, c1, c2];
          const info = tf.backend_util.computeConv2DInfo([b, h, w, c1], filterShape, stride, 1, pad);
          fc.pre(info.outHeight > 0 && info.outWidth > 0);
          tf.tidy(() => {
            const raw = tf.randomNormal([b, h, w, c1], 0, 1, 'float32', seed);
            // After a ReLU half the inputs are exactly zero: the fast kernel skips them.
            const x = relu ? tf.relu(raw) : raw;
            const dy = tf.randomNormal([b, info.outHeight, info.outWidth, c2], 0, 1, 'float32', seed + 1);
            const attrs = { strides: [stride, stride], pad, dataFormat: 'NHWC', filterShape };
            expectClose(run(conv2DBackpropFilterFast, { x, dy }, attrs), run(original('Conv2DBackpropFilter'), { x, dy }, attrs));
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('gives the same weight gradient through tf.grad as a finite difference', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const f0 = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 8) as tf.Tensor4D;
      const loss = (f: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, 2, 'same')));
      const g = tf.grad(loss)(f0).dataSync();
      const eps = 1e-2;
      const fv = f0.dataSync().slice();
      for (const i of [0, 17, 55, 107]) {
        const plus = fv.slice();
        plus[i] += eps;
        const minus = fv.slice();
        minus[i] -= eps;
        const num = (loss(tf.tensor4d(plus, f0.shape)).dataSync()[0] - loss(tf.tensor4d(minus, f0.shape)).dataSync()[0]) / (2 * eps);
        expect(g[i]).toBeCloseTo(num, 0);
        expect(Math.abs(g[i] - num)).toBeLessThan(1e-2 * (1 + Math.abs(num)));
      }
    });
  });

  it('Add, Sub, Multiply, RealDiv match tfjs for every broadcast, one-sided or both', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Add', 'Sub', 'Multiply', 'RealDiv'),
        shapeArb,
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        (name, full, keepA, keepB, drop, seed) => {
          // Each operand is the full shape with some axes set to 1; b may also lose leading axes.
          const aShape = full.map((d, i) => (keepA[i] ? d : 1));
          const bShape = full.slice(Math.min(drop, full.length)).map((d, i) => (keepB[i] ? d : 1));
          tf.tidy(() => {
            const a = tf.randomNormal(aShape, 0, 1, 'float32', seed);
            const b = tf.add(tf.randomNormal(bShape, 0, 1, 'float32', seed + 1), 3); // no division by ~0
            expectClose(run(FAST_CPU_KERNELS[name], { a, b }), run(original(name), { a, b }));
            expectClose(run(FAST_CPU_KERNELS[name], { a: b, b: a }), run(original(name), { a: b, b: a }));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('int32 arithmetic goes to tfjs\'s kernel and keeps its dtype', () => {
    const a = tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32');
    const b = tf.tensor1d([10, 20], 'int32');
    const c = tf.add(a, b);
    expect(c.dtype).toBe('int32');
    expect(Array.from(c.dataSync())).toEqual([11, 22, 13, 24]);
    tf.dispose([a, b, c]);
  });

  it('trailingBroadcast says which shapes take the flat modulo loop', () => {
    expect(trailingBroadcast([8, 4, 4, 16], [1, 1, 1, 16])).toBe(true);
    expect(trailingBroadcast([8, 4, 4, 16], [16])).toBe(true);
    expect(trailingBroadcast([8, 4, 4, 16], [4, 16])).toBe(true);
    expect(trailingBroadcast([8, 4, 4, 16], [])).toBe(true);
    expect(trailingBroadcast([8, 4, 4, 16], [8, 1, 1, 1])).toBe(false);
    expect(trailingBroadcast([8, 4, 4, 16], [1, 4, 1, 16])).toBe(false);
    expect(trailingBroadcast([16], [1, 16])).toBe(false);
  });

  it('broadcastStrides gives 0 along broadcast axes and element strides elsewhere', () => {
    expect(broadcastStrides([1, 1, 1, 16], [8, 4, 4, 16])).toEqual([0, 0, 0, 1]);
    expect(broadcastStrides([16], [8, 4, 4, 16])).toEqual([0, 0, 0, 1]);
    expect(broadcastStrides([3, 3, 16, 1], [3, 3, 16, 32])).toEqual([48, 16, 1, 0]);
    expect(broadcastStrides([], [2, 2])).toEqual([0, 0]);
  });

  it('Sum and Mean match tfjs over any axes, with and without keepDims', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Sum', 'Mean'),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 }),
        fc.array(fc.integer({ min: -4, max: 3 }), { maxLength: 4 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        (name, shape, rawAxes, keepDims, seed) => {
          const axis = [...new Set(rawAxes.filter((d) => d >= -shape.length && d < shape.length).map((d) => (d + shape.length) % shape.length))];
          tf.tidy(() => {
            const x = tf.randomNormal(shape, 0, 1, 'float32', seed);
            const attrs = { axis, keepDims };
            expectClose(run(FAST_CPU_KERNELS[name], { x }, attrs), run(original(name), { x }, attrs));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('Sum and Mean over an empty axis agree with tfjs', () => {
    const x = tf.zeros([2, 0, 3]);
    for (const name of ['Sum', 'Mean']) {
      const attrs = { axis: [1], keepDims: false };
      expectClose(run(FAST_CPU_KERNELS[name], { x }, attrs), run(original(name), { x }, attrs));
    }
    x.dispose();
  });

  it('a batch-norm training step gives the same gradients as with tfjs\'s own kernels', () => {
    const step = (): Float32Array[] =>
      tf.tidy(() => {
        const x = tf.randomNormal([4, 6, 6, 5], 0, 1, 'float32', 3) as tf.Tensor4D;
        const f = tf.randomNormal([3, 3, 5, 7], 0, 0.3, 'float32', 4) as tf.Tensor4D;
        const gamma = tf.randomNormal([7], 1, 0.1, 'float32', 5) as tf.Tensor1D;
        const loss = (f: tf.Tensor, gamma: tf.Tensor): tf.Scalar => {
          const h = tf.conv2d(x, f as tf.Tensor4D, 1, 'same');
          const { mean, variance } = tf.moments(h, [0, 1, 2]);
          const y = tf.relu(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma));
          return tf.mean(tf.square(y));
        };
        return tf.grads(loss)([f, gamma]).map((g) => g.dataSync() as Float32Array);
      });
    const fast = step();
    const saved = Object.keys(FAST_CPU_KERNELS);
    for (const name of saved) {
      tf.unregisterKernel(name, 'cpu');
      tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc: original(name) });
    }
    try {
      const slow = step();
      for (let i = 0; i < slow.length; i++) expectClose({ shape: [], values: fast[i] }, { shape: [], values: slow[i] });
    } finally {
      for (const name of saved) {
        tf.unregisterKernel(name, 'cpu');
        tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc: FAST_CPU_KERNELS[name] });
      }
    }
  });
});
