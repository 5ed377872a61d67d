import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { addRelu } from './add-relu';
import { requireWebGpu } from './backend-internals';
import { countDispatches } from './dispatch-count';
import { useWebGpuBackend } from './test-util';

beforeAll(useWebGpuBackend);

const bits = async (t: tf.Tensor): Promise<number[]> => Array.from(new Uint32Array(((await t.data()) as Float32Array).slice().buffer));

/** Output and gradients (through a weighted sum, so dy is not all ones) of relu(a + b). */
async function run(join: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, a: tf.Tensor, b: tf.Tensor, w: tf.Tensor) {
  const [va, vb] = [tf.variable(a), tf.variable(b)];
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(join(va, vb), w)) as tf.Scalar, [va, vb]);
  const y = tf.tidy(() => join(va, vb));
  const out = { y: await bits(y), da: await bits(grads[va.name]), db: await bits(grads[vb.name]) };
  tf.dispose([va, vb, value, y, ...Object.values(grads)]);
  return out;
}

describe('addRelu on WebGPU', () => {
  it('is bit-for-bit tf.relu(tf.add(a, b)) and its gradients, signed zeros and negatives included', async () => {
    const shape = [2, 5, 5, 7];
    const a = tf.tidy(() => {
      const r = tf.randomNormal(shape, 0, 1, 'float32', 1).dataSync() as Float32Array;
      r.set([0, -0, 1, -1, 2.5]);
      return tf.tensor(r, shape);
    });
    const b = tf.tidy(() => {
      const r = tf.randomNormal(shape, 0, 1, 'float32', 2).dataSync() as Float32Array;
      r.set([-0, -0, -1, 1, -2.5]);
      return tf.tensor(r, shape);
    });
    const w = tf.randomNormal(shape, 0, 1, 'float32', 3);
    const stock = await run((x, z) => tf.relu(tf.add(x, z)), a, b, w);
    const fused = await run(addRelu, a, b, w);
    expect(fused.y).toEqual(stock.y);
    expect(fused.da).toEqual(stock.da);
    expect(fused.db).toEqual(stock.db);
    expect(stock.y.filter((u) => u === 0).length).toBeGreaterThan(10); // the ReLU clipped something
    tf.dispose([a, b, w]);
  });

  it('takes one dispatch forward and one backward (stock: two and two)', async () => {
    const a = tf.variable(tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 4));
    const b = tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 5);
    const device = requireWebGpu().device;
    const count = async (join: (x: tf.Tensor, z: tf.Tensor) => tf.Tensor) => {
      // The loss's own sum (forward) and its gradient (backward) cost the same in both.
      const { result, dispatches } = await countDispatches(device, () => tf.variableGrads(() => tf.sum(join(a, b)) as tf.Scalar, [a]));
      tf.dispose([result.value, ...Object.values(result.grads)]);
      return dispatches.map((d) => d.kernel);
    };
    const fused = await count(addRelu);
    const stock = await count((x, z) => tf.relu(tf.add(x, z)));
    expect(fused.filter((k) => k.startsWith('add-relu'))).toEqual(['add-relu', 'add-relu-grad']);
    expect(stock.length - fused.length).toBe(2);
    tf.dispose([a, b]);
  });
});
