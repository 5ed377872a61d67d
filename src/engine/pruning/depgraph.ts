import * as tf from '@tensorflow/tfjs';
import type { Model } from '../models/graph';
import { param } from '../models/graph';
import { alongAxis, groupImportance, trainedMembers } from './groups';
import type { Pruner } from './pruner';

export interface DepGraphOptions {
  norm: 'l1' | 'l2';
  /** Include the consuming (in-role) slices in the importance, as Torch-Pruning does. */
  inRole: boolean;
  sparse: boolean;
  sparseReg: number;
  /** Torch-Pruning's GroupNormPruner alpha: the weakest group is pushed 16x harder. */
  alpha: number;
  /** Sparse-learning coefficients are refreshed at most this often (steps). */
  refreshEvery: number;
}

export const DEPGRAPH_DEFAULTS: DepGraphOptions = { norm: 'l2', inRole: true, sparse: false, sparseReg: 5e-4, alpha: 16, refreshEvery: 10 };

/**
 * DepGraph (Torch-Pruning) group magnitude importance, with optional sparse learning
 * ("group_sl"): grad += reg * gamma_c * w on every coupled slice, where
 * gamma_c = alpha^((imp_max - imp_c) / (imp_max - imp_min)) over the family.
 */
export function createDepGraph(model: Model, opts: DepGraphOptions): Pruner {
  const p: 1 | 2 = opts.norm === 'l1' ? 1 : 2;
  const roles: ('out' | 'in')[] = opts.inRole ? ['out', 'in'] : ['out'];
  let gammas: tf.Tensor1D[] | null = null;
  let gammaStep = -Infinity;

  const refreshGammas = (): void => {
    const next = model.def.families.map((fam) =>
      tf.tidy(() => {
        const imp = tf.sqrt(groupImportance(model, fam, 2, ['out', 'in'], false));
        const max = tf.max(imp);
        const span = tf.maximum(tf.sub(max, tf.min(imp)), 1e-12);
        return tf.pow(opts.alpha, tf.div(tf.sub(max, imp), span)) as tf.Tensor1D;
      }),
    );
    gammas?.forEach((g) => g.dispose());
    gammas = next;
  };

  return {
    name: 'depgraph',
    scoreTensors: () => model.def.families.map((fam) => groupImportance(model, fam, p, roles, true)),
    finalise: (raw) => raw,
    // The L2 importance over both roles is the group norm squared over the member count.
    scoresFromNorms:
      p === 2 && opts.inRole
        ? (norms) =>
            norms.map((n, f) => {
              const M = Math.max(1, trainedMembers(model.def, model.def.families[f]).length);
              const imp = n.map((x) => (x * x) / M);
              const mean = imp.reduce((a, x) => a + x, 0) / Math.max(1, imp.length);
              return imp.map((x) => x / (mean + 1e-12));
            })
        : undefined,
    beforeUpdate(step, grads) {
      if (!opts.sparse || opts.sparseReg === 0) return grads;
      if (!gammas || step - gammaStep >= opts.refreshEvery || step < gammaStep) {
        refreshGammas();
        gammaStep = step;
      }
      const gs = gammas!;
      // One coefficient tensor per parameter: a conv weight is out-slice of one family and
      // in-slice of another, and both penalties apply to it.
      const coef = new Map<string, tf.Tensor>();
      const out: Record<string, tf.Tensor> = { ...grads };
      tf.tidy(() => {
        model.def.families.forEach((fam, f) => {
          for (const m of trainedMembers(model.def, fam)) {
            const v = param(model, m.param);
            if (!(v.name in grads)) continue;
            const term = alongAxis(gs[f], v.rank, m.axis);
            const prev = coef.get(m.param);
            coef.set(m.param, prev ? tf.add(prev, term) : term);
          }
        });
        for (const [name, c] of coef) {
          const v = param(model, name);
          out[v.name] = tf.keep(tf.add(grads[v.name], tf.mul(tf.mul(c, v), opts.sparseReg)));
        }
      });
      return out;
    },
    minKeep: () => 1,
    onPoint: () => undefined,
    extraTrainable: () => [],
    state: () => ({ gammaStep: Number.isFinite(gammaStep) ? gammaStep : null }),
    restore() {
      // Coefficients are a pure function of the weights: recompute on the next step.
      gammas?.forEach((g) => g.dispose());
      gammas = null;
      gammaStep = -Infinity;
    },
    dispose() {
      gammas?.forEach((g) => g.dispose());
      gammas = null;
    },
  };
}
