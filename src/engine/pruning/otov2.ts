import * as tf from '@tensorflow/tfjs';
import type { Model } from '../models/graph';
import { param } from '../models/graph';
import { sliceDot, sliceSum, trainedMembers } from './groups';
import { gradOf, type Pruner } from './pruner';

/**
 * OTOv2-style selection over zero-invariant groups (a family channel's out-role slices: conv
 * filter + BN gamma/beta). DHSPG picks redundant groups half by small norm and half by the
 * cosine between -x and -grad (a descent step that shrinks x); taking candidates alternately
 * from the two rankings is the same as ordering them by min(rank_norm, rank_cos), which is the
 * score used here. The half-space projection (zero a group once <x_new, x> < eps*||x||^2) is
 * run by the engine on selected groups (see docs/method.md).
 */
export function createOtoV2(model: Model, eps: number): Pruner {
  const fams = model.def.families;
  return {
    name: 'otov2',
    halfSpaceEps: eps,
    scoreTensors(grads) {
      return fams.map((fam) =>
        tf.tidy(() => {
          let sq: tf.Tensor1D = tf.zeros([fam.channels]);
          let dot: tf.Tensor1D = tf.zeros([fam.channels]);
          let gsq: tf.Tensor1D = tf.zeros([fam.channels]);
          for (const m of trainedMembers(model.def, fam, ['out'])) {
            const w = param(model, m.param);
            sq = tf.add(sq, sliceSum(w, m.axis, 2));
            const g = gradOf(model, grads, m.param);
            if (g) {
              dot = tf.add(dot, sliceDot(w, g, m.axis));
              gsq = tf.add(gsq, sliceSum(g, m.axis, 2));
            }
          }
          const norm = tf.sqrt(sq);
          const cos = tf.div(dot, tf.maximum(tf.mul(norm, tf.sqrt(gsq)), 1e-12));
          return tf.concat([norm, cos]) as tf.Tensor1D;
        }),
      );
    },
    finalise(raw) {
      // Norms relative to their family's mean so wide and narrow layers compare.
      const entries: { f: number; c: number; norm: number; cos: number }[] = [];
      raw.forEach((r, f) => {
        const C = r.length / 2;
        let mean = 0;
        for (let c = 0; c < C; c++) mean += r[c] / C;
        for (let c = 0; c < C; c++) entries.push({ f, c, norm: r[c] / (mean || 1), cos: r[C + c] });
      });
      const rankNorm = new Map<(typeof entries)[number], number>();
      [...entries].sort((a, b) => a.norm - b.norm).forEach((e, i) => rankNorm.set(e, i));
      const out = raw.map((r) => new Float32Array(r.length / 2));
      [...entries]
        .sort((a, b) => b.cos - a.cos)
        .forEach((e, i) => {
          out[e.f][e.c] = (Math.min(rankNorm.get(e)!, i) + 1) / entries.length;
        });
      return out;
    },
    beforeUpdate: (_step, grads) => grads,
    minKeep: () => 1,
    onPoint: () => undefined,
    extraTrainable: () => [],
    state: () => ({}),
    restore: () => undefined,
    dispose: () => undefined,
  };
}
