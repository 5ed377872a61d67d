import * as tf from '@tensorflow/tfjs';
import { SgdMomentum } from '../train/optimizer';
import { GraphBuilder } from '../models/builder';
import { forward, trainableVars, type Model, type ModelDef } from '../models/graph';
import type { PruningHooks } from './types';

/**
 * A minimal training step with the hook order the training loop uses (tests and the overhead
 * benchmark drive the engine through it): grads -> beforeUpdate -> SGD -> afterUpdate.
 */
export async function harnessStep(
  model: Model,
  hooks: PruningHooks,
  opt: SgdMomentum,
  step: number,
  x: tf.Tensor4D,
  y: tf.Tensor2D,
  lr = 0.05,
  editGrads?: (g: Record<string, tf.Tensor>) => Record<string, tf.Tensor>,
): Promise<number> {
  const vars = [...trainableVars(model), ...hooks.extraTrainable()];
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, forward(model, x, true)) as tf.Scalar, vars);
  const edited = editGrads ? editGrads(grads) : grads;
  const grads2 = hooks.beforeUpdate(step, edited);
  opt.apply(vars, grads2, lr, () => true);
  await hooks.afterUpdate(step, grads2, lr);
  const loss = (await value.data())[0];
  value.dispose();
  for (const g of [grads, edited, grads2]) tf.dispose(Object.values(g));
  return loss;
}

/** A deterministic batch of `n` images with one-hot labels. */
export function fakeBatch(model: Model, n: number, seed = 7): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const [h, w, c] = model.def.inputShape;
  return tf.tidy(() => ({
    x: tf.randomNormal([n, h, w, c], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_v, i) => (i * 3 + seed) % model.def.numClasses), 'int32'), model.def.numClasses).toFloat() as tf.Tensor2D,
  }));
}

/**
 * The tiny model's couplings (a residual family tying stem, block and shortcut, a
 * block-internal family, a plain family feeding the classifier) at 8x8 input and narrow
 * widths, so CPU tests can run dozens of training steps.
 */
export function microResidualDef(width = 8): ModelDef {
  const g = new GraphBuilder('micro', [8, 8, 3], 10);
  const res = g.family('stem', 'stem + block (residual)', width);
  const stem = g.relu(g.bn(g.conv('input', res, 3, 1, 'stem'), 'stem.bn'));
  const inner = g.family('block', 'block inner', width);
  const h = g.relu(g.bn(g.conv(stem, inner, 3, 1, 'block.conv1'), 'block.bn1'));
  const y = g.bn(g.conv(h, res, 3, 1, 'block.conv2'), 'block.bn2');
  const x = g.maxpool(g.relu(g.add(y, stem)));
  const headFam = g.family('head', 'head conv', 2 * width);
  const head = g.relu(g.bn(g.conv(x, headFam, 3, 1, 'head'), 'head.bn'));
  return g.build(g.dense(g.gap(head), 10, 'fc'));
}
