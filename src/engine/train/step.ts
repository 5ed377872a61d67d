import * as tf from '@tensorflow/tfjs';
import { forward, trainableVars, type Model } from '../models/graph';
import type { PruningHooks } from '../pruning/types';
import { lossAndCorrect } from './loss';
import type { SgdMomentum } from './optimizer';

export interface StepContext {
  model: Model;
  optimizer: SgdMomentum;
  hooks: PruningHooks;
}

export interface StepResult {
  /** Mean cross-entropy of the batch (caller disposes). */
  loss: tf.Scalar;
  /** Number of correctly classified images in the batch (caller disposes). */
  correct: tf.Scalar;
}

/**
 * One training step: forward + backward, the pruning hooks around the SGD update. Nothing is
 * read back here; the hooks may await their own batched readbacks.
 */
export async function trainStep(ctx: StepContext, x: tf.Tensor4D, y: tf.Tensor1D, lr: number, step: number): Promise<StepResult> {
  const { model, optimizer, hooks } = ctx;
  const vars = [...trainableVars(model), ...hooks.extraTrainable()];
  let correct: tf.Scalar | null = null;
  const { value: loss, grads } = tf.variableGrads(() => {
    const out = lossAndCorrect(forward(model, x, true), y, model.def.numClasses);
    correct = tf.keep(out.correct);
    return out.loss;
  }, vars);
  const used = hooks.beforeUpdate(step, grads);
  optimizer.apply(vars, used, lr, (v) => decayedVariables(model).has(v));
  await hooks.afterUpdate(step, used, lr);
  tf.dispose([...new Set([...Object.values(grads), ...Object.values(used)])]);
  return { loss, correct: correct as unknown as tf.Scalar };
}

const decayedCache = new WeakMap<Model['def'], { vars: Map<string, tf.Variable>; set: Set<tf.Variable> }>();

/**
 * Variables that get weight decay: the model's own decayed parameters. Gates a pruner adds are
 * not in def.params, so they get none (Gate Decorator regularises them itself).
 */
function decayedVariables(model: Model): Set<tf.Variable> {
  const hit = decayedCache.get(model.def);
  if (hit && hit.vars === model.vars) return hit.set;
  const set = new Set(model.def.params.filter((p) => p.decay && model.vars.has(p.name)).map((p) => model.vars.get(p.name)!));
  decayedCache.set(model.def, { vars: model.vars, set });
  return set;
}
