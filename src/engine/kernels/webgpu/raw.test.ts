import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireWebGpu } from './backend-internals';
import { countDispatches } from './dispatch-count';
import { makeExclusive, rawDispatch, rawOutput } from './raw';
import { useWebGpuBackend } from './test-util';

beforeAll(useWebGpuBackend);

// Writes a+=s and b=a*2 in one dispatch: two outputs, one of them in place.
const AXPY = {
  key: 'test-two-outputs',
  code: `
struct U { s: f32, n: u32 };
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> b: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= u.n) { return; }
  a[i] = a[i] + u.s;
  b[i] = a[i] * 2.0;
}`,
};

describe('rawDispatch', () => {
  it('writes several tensors in one dispatch, in order with tfjs programs around it', async () => {
    const v = tf.variable(tf.range(0, 100, 1, 'float32'));
    makeExclusive(v, (x) => tf.add(x, 0));
    const out = rawOutput([100]);
    const { dispatches } = await countDispatches(requireWebGpu().device, () => {
      // A tfjs program first: the raw shader must see its result.
      v.assign(tf.mul(v, 3));
      rawDispatch(AXPY, [v, out], [{ type: 'float32', data: [1] }, { type: 'uint32', data: [100] }], [Math.ceil(100 / 64)]);
    });
    const b = tf.engine().makeTensorFromTensorInfo(out);
    const va = await v.data();
    const vb = await b.data();
    expect(va[7]).toBe(22);
    expect(vb[7]).toBe(44);
    expect(dispatches.map((d) => d.kernel)).toContain('test-two-outputs');
    b.dispose();
    v.dispose();
  });

  it('makeExclusive copies a variable whose buffer is shared, so an in-place write leaves the other tensor alone', async () => {
    const v = tf.variable(tf.ones([8]));
    const snap = tf.clone(v); // shares v's buffer
    expect(makeExclusive(v, (x) => tf.add(x, 0))).toBe(true);
    rawDispatch(AXPY, [v, rawOutput([8])], [{ type: 'float32', data: [5] }, { type: 'uint32', data: [8] }], [1]);
    expect(Array.from(await v.data())).toEqual(new Array(8).fill(6));
    expect(Array.from(await snap.data())).toEqual(new Array(8).fill(1));
    expect(makeExclusive(v, (x) => tf.add(x, 0))).toBe(false);
    tf.dispose([v, snap]);
  });

  it('a read after an in-place write sees the new values, not the copy tfjs kept from an earlier read', async () => {
    const n = 2048; // past tfjs's CPU hand-off size, so the multiply runs on the GPU
    const v = tf.tidy(() => tf.variable(tf.mul(tf.ones([n]), 1)));
    expect((await v.data())[0]).toBe(1); // tfjs now serves reads of v from a CPU copy
    const out = rawOutput([n]);
    rawDispatch(AXPY, [v, out], [{ type: 'float32', data: [2] }, { type: 'uint32', data: [n] }], [n / 64]);
    expect(Array.from(await v.data())).toEqual(new Array(n).fill(3));
    tf.dispose([v, tf.engine().makeTensorFromTensorInfo(out)]);
  });
});
