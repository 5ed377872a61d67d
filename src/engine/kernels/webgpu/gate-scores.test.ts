import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildModelDef, disposeModel, initParams, type ModelDef } from '../../models';
import { createGate } from '../../pruning/gate';
import { microResidualDef } from '../../pruning/harness';
import { requireWebGpu } from './backend-internals';
import { countDispatches } from './dispatch-count';
import { setFastWebGpu } from './install';
import { useWebGpuBackend } from './test-util';

beforeAll(useWebGpuBackend);
afterEach(() => setFastWebGpu(true));
// tfjs runs ops on small CPU-resident inputs (these test gradients) on the CPU; in training
// they live on the GPU. No hand-off: the stock reference is tfjs's own WebGPU kernels.
const handOff = 'WEBGPU_CPU_FORWARD';
let handOffWas = true;
beforeAll(() => {
  handOffWas = tf.env().getBool(handOff);
  tf.env().set(handOff, false);
});
afterAll(() => tf.env().set(handOff, handOffWas));

interface Accumulated {
  /** Per family, the scores' f32 bit patterns. */
  scores: number[][];
  /** Per step, the kernels beforeUpdate ran. */
  kernels: string[][];
  gates: number;
}

/** Gate Decorator's accumulation over `steps` steps of random gates and gate gradients. */
async function accumulate(def: ModelDef, fast: boolean, steps: number): Promise<Accumulated> {
  setFastWebGpu(fast);
  const model = initParams(def, 1);
  const pruner = createGate(model);
  const gates = pruner.extraTrainable();
  // Signed gates away from 1, so the product and its absolute value matter.
  gates.forEach((v, k) => v.assign(tf.tidy(() => tf.randomNormal(v.shape, 0, 1, 'float32', 500 + k))));
  const kernels: string[][] = [];
  for (let s = 0; s < steps; s++) {
    const grads = Object.fromEntries(gates.map((v, k) => [v.name, tf.randomNormal(v.shape, 0, 1, 'float32', 1000 * s + k + 1)]));
    const { dispatches } = await countDispatches(requireWebGpu().device, () => pruner.beforeUpdate(s, grads));
    kernels.push(dispatches.map((d) => d.kernel));
    tf.dispose(Object.values(grads));
  }
  const raw = pruner.scoreTensors(undefined);
  const scores = await Promise.all(raw.map(async (t) => Array.from(new Uint32Array(((await t.data()) as Float32Array).slice().buffer))));
  tf.dispose(raw);
  pruner.dispose();
  disposeModel(model);
  return { scores, kernels, gates: gates.length };
}

describe('Gate Decorator score accumulation on WebGPU', () => {
  it('is bit-for-bit the tfjs-op sums, a residual family summing its gates', async () => {
    const stock = await accumulate(microResidualDef(), false, 3);
    const fast = await accumulate(microResidualDef(), true, 3);
    expect(fast.scores).toEqual(stock.scores);
    expect(fast.scores.flat().some((b) => b !== 0)).toBe(true);
    // 4 gates (the residual family has 2) in 2 dispatches: two families' 3 gates share the
    // first (8 buffers), the head's gate takes the second. The ops: mul, abs, add per gate.
    expect(fast.kernels[2]).toEqual(['gate-scores-8', 'gate-scores-3']);
    expect(stock.kernels[2]).toHaveLength(3 * stock.gates);
  }, 120_000);

  // Per stage: its residual family's 10 gates 3 to a dispatch (4, the last shared with a block's
  // gate), then the other 8 blocks' single gates two families to a dispatch: 8.
  it('costs ResNet-56 24 dispatches a step for its 57 gates (tfjs ops: 171)', async () => {
    const fast = await accumulate(buildModelDef('resnet56'), true, 1);
    expect(fast.gates).toBe(57);
    expect(fast.kernels[0]).toHaveLength(24);
    expect(fast.kernels[0].every((k) => k.startsWith('gate-scores'))).toBe(true);
  }, 120_000);
});
