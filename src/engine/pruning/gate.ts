import * as tf from '@tensorflow/tfjs';
import { accumulateGateScores, type GateTerm } from '../kernels/webgpu/gate-scores';
import { fastWebGpu } from '../kernels/webgpu/install';
import type { Model } from '../models/graph';
import { createGates, gateParamName, withGates } from './groups';
import { gradOf, type Pruner } from './pruner';

/**
 * Gate Decorator: a gate after every family BN (y = g * BN(x)); channel score = sum over the
 * steps since the last pruning point of |g * dL/dg|, summed over the family's gates (groups
 * tied by a residual share one score). Every family keeps at least `keepFraction` of itself.
 * Installing it replaces model.def with the gated def; gates live in model.vars only, so the
 * cost counter never sees them, and slimming folds them into their BN.
 */
export function createGate(model: Model, keepFraction = 0.1): Pruner {
  model.def = withGates(model.def);
  const gates = createGates(model);
  const fams = model.def.families;
  // In a tidy: the zeros' own handle goes, and each accumulator owns its buffer (updated in place).
  const acc = tf.tidy(() => fams.map((f) => tf.variable(tf.zeros([f.channels]), false)));
  const gatesOf = fams.map((f) => f.bns.map((bn) => gateParamName(bn)));

  return {
    name: 'gate',
    scoreTensors: () => acc.map((a) => tf.clone(a) as tf.Tensor1D),
    finalise: (raw) => raw,
    beforeUpdate(_step, grads) {
      if (fastWebGpu()) {
        // The same sums, bit for bit, in a few dispatches instead of three per gate.
        const terms: GateTerm[] = [];
        fams.forEach((_fam, f) => {
          for (const name of gatesOf[f]) {
            const g = gradOf(model, grads, name);
            if (g) terms.push({ acc: acc[f], gate: model.vars.get(name)!, grad: g });
          }
        });
        accumulateGateScores(terms);
        return grads;
      }
      tf.tidy(() => {
        fams.forEach((_fam, f) => {
          let s: tf.Tensor = acc[f];
          for (const name of gatesOf[f]) {
            const g = gradOf(model, grads, name);
            if (g) s = tf.add(s, tf.abs(tf.mul(model.vars.get(name)!, g)));
          }
          if (s !== acc[f]) acc[f].assign(s);
        });
      });
      return grads;
    },
    minKeep: (fam) => Math.max(1, Math.ceil(keepFraction * fam.channels)),
    onPoint() {
      for (const a of acc) tf.tidy(() => a.assign(tf.zerosLike(a)));
    },
    extraTrainable: () => gates,
    // Checkpoints are rare and off the per-step path: a synchronous read is acceptable here.
    state: () => ({ gateScores: acc.map((a) => Array.from(a.dataSync())) }),
    restore(s) {
      const scores = s.gateScores;
      if (!Array.isArray(scores) || scores.length !== acc.length) return;
      scores.forEach((v, f) => {
        if (Array.isArray(v) && v.length === fams[f].channels) tf.tidy(() => acc[f].assign(tf.tensor1d(v as number[])));
      });
    },
    dispose() {
      acc.forEach((a) => a.dispose());
    },
  };
}
