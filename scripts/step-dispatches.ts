import * as tf from '@tensorflow/tfjs';
import { setupNodeBackend } from '../src/cli/node-backend';
import { requireWebGpu } from '../src/engine/kernels/webgpu/backend-internals';
import { countDispatches } from '../src/engine/kernels/webgpu/dispatch-count';
import { setFastWebGpu } from '../src/engine/kernels/webgpu/install';
import type { ModelName } from '../src/engine/experiment';
import { buildModelDef, disposeModel, initParams } from '../src/engine/models';
import { noPruning } from '../src/engine/pruning';
import { SgdMomentum } from '../src/engine/train/optimizer';
import { trainStep } from '../src/engine/train/step';

/**
 * Dispatches per plain training step (no pruning hooks), by program and by tfjs op:
 * `npx tsx scripts/step-dispatches.ts tiny,resnet20 [batch] [stock|fast]` (Dawn; SwiftShader
 * when there is no GPU). Counts depend on the programs, not the device, so SwiftShader counts
 * what a real GPU runs. The second step is counted: the first initialises the velocities.
 */
let issued = 0;
const dispatchesSoFar = (): number => issued;

/** A running total of dispatches, read before and after each kernel. */
function countEveryDispatch(device: GPUDevice): void {
  const pass = device.createCommandEncoder().beginComputePass();
  const proto = Object.getPrototypeOf(pass) as GPUComputePassEncoder;
  pass.end();
  const dispatch = proto.dispatchWorkgroups;
  proto.dispatchWorkgroups = function (this: GPUComputePassEncoder, x: number, y?: number, z?: number) {
    issued++;
    return dispatch.call(this, x, y, z);
  };
}

/**
 * Attributes dispatches to the tfjs kernel (op) that issued them, prefixed by the phase:
 * fwd (forward tape), bwd (gradients), opt (everything outside variableGrads: the optimizer).
 */
async function attributeToOps<T>(into: Map<string, number>, fn: () => Promise<T>, count: () => number): Promise<T> {
  const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown; state: { scopeStack: Array<{ name: string }> } };
  const original = engine.runKernel;
  let depth = 0;
  engine.runKernel = function (this: unknown, ...args: unknown[]) {
    const before = count();
    depth++;
    try {
      return original.apply(this, args);
    } finally {
      depth--;
      const names = engine.state.scopeStack.map((s) => s.name);
      const phase = names.includes('backward') ? 'bwd' : names.includes('forward') ? 'fwd' : 'opt';
      const key = `${phase}:${String(args[0])}`;
      // Nested runKernel calls (a kernel that runs others through the engine) count once.
      if (depth === 0) into.set(key, (into.get(key) ?? 0) + count() - before);
    }
  };
  try {
    return await fn();
  } finally {
    engine.runKernel = original;
  }
}

async function main(): Promise<void> {
  process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
  await setupNodeBackend('webgpu');
  const [names = 'tiny', batchArg = '2', mode = 'fast'] = process.argv.slice(2);
  setFastWebGpu(mode !== 'stock');
  const batch = Number(batchArg);
  await countDispatches(requireWebGpu().device, () => {});
  countEveryDispatch(requireWebGpu().device);
  for (const name of names.split(',')) {
    const def = buildModelDef(name as ModelName);
    const model = initParams(def, 1);
    const optimizer = new SgdMomentum(0.9, 5e-4);
    const [h, w, c] = def.inputShape;
    const x = tf.randomNormal([batch, h, w, c], 0, 1, 'float32', 3) as tf.Tensor4D;
    const y = tf.tensor1d(Array.from({ length: batch }, (_v, i) => i % def.numClasses), 'int32');
    const ctx = { model, optimizer, hooks: noPruning(model) };
    const first = await trainStep(ctx, x, y, 0.1, 0);
    await first.loss.data();
    tf.dispose([first.loss, first.correct]);
    const byOp = new Map<string, number>();
    const { result, dispatches } = await countDispatches(requireWebGpu().device, () => attributeToOps(byOp, () => trainStep(ctx, x, y, 0.1, 1), () => dispatchesSoFar()));
    await result.loss.data();
    tf.dispose([result.loss, result.correct]);
    const byKernel = new Map<string, number>();
    for (const d of dispatches) byKernel.set(d.kernel, (byKernel.get(d.kernel) ?? 0) + 1);
    // Our raw shaders do not go through tfjs's kernels: the remainder is theirs.
    byOp.set('raw', dispatches.length - [...byOp.values()].reduce((a, b) => a + b, 0));
    for (const [k, n] of byOp) if (n === 0) byOp.delete(k);
    const vars = def.params.filter((p) => p.trainable).length;
    console.log(JSON.stringify({ model: name, batch, mode, variables: vars, dispatches: dispatches.length, byKernel: Object.fromEntries([...byKernel].sort((a, b) => b[1] - a[1])), byOp: Object.fromEntries([...byOp].sort((a, b) => b[1] - a[1])) }));
    optimizer.dispose();
    disposeModel(model);
    tf.dispose([x, y]);
  }
}

void main().then(() => process.exit(0));
