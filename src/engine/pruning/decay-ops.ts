import * as tf from '@tensorflow/tfjs';
import type { UpdateTaps } from '../kernels/webgpu/sgd';
import { param, type Model } from '../models/graph';
import { SR_EPS, type CriteriaLayout, type FamilyDecayInput } from './decay-state';
import { groupL2, scaleFamily, sliceDot, sliceSum, sumOf, trainedMembers } from './groups';
import { gradOf } from './pruner';

/**
 * The device half of a DPM step: given each family's job (decay-state.ts), project every
 * decaying family, re-apply masks, and return the pending criteria vector laid out by
 * `layout` (null when it is empty). Two implementations: tfjs ops (here: any backend) and
 * batched WebGPU kernels (kernels/webgpu/dpm-hooks.ts).
 *
 * Families are projected one after the other, in family order: a tensor shared by two
 * families (a conv's out-channels in one, in-channels in the next) gets both scales, and the
 * later family's norm is measured after the earlier one's scale, so it lands exactly on its
 * target while the earlier one may end slightly under it that step (docs/method.md).
 */
export interface DecayRequest {
  model: Model;
  inputs: readonly FamilyDecayInput[];
  layout: CriteriaLayout;
  /** Self-Rectifying's thresholds and the learning rate of the update just applied, when the schedule is sr. */
  sr: { tRate: number; tLen: number; lr: number } | null;
  /** OTOv2's half-space test: eps and the pre-update weights of decaying families' out-members. */
  halfSpace: { eps: number; snapshot: ReadonlyMap<string, tf.Tensor> } | null;
  grads: Record<string, tf.Tensor>;
  /** Sums the optimizer was asked to write this step (WebGPU path only; the ops path ignores them). */
  taps?: UpdateTaps | null;
}

export type DecayDevice = (req: DecayRequest) => tf.Tensor1D | null;

/** Group L2 norms of every family, concatenated in family order. */
export function familyNormsWithOps(model: Model): tf.Tensor1D {
  return tf.tidy(() => tf.concat(model.def.families.map((fam) => groupL2(trainedMembers(model.def, fam), (p) => param(model, p), fam.channels))) as tf.Tensor1D);
}

export const decayWithOps: DecayDevice = (req) => {
  const { model, inputs, layout, sr, halfSpace } = req;
  const fams = model.def.families;
  const out = tf.tidy(() => {
    const blocks = new Map<number, tf.Tensor1D>();
    fams.forEach((fam, f) => {
      const inp = inputs[f];
      if (inp.mode === 'keep') return;
      if (inp.mode === 'mask') return scaleFamily(model, fam, tf.tensor1d(inp.alive));
      const C = fam.channels;
      const members = trainedMembers(model.def, fam);
      const [tAlive, tDec, tTarget] = [inp.alive, inp.dec, inp.target].map((a) => tf.tensor1d(a));
      const norm = groupL2(members, (p) => param(model, p), C);
      const toTarget = tf.div(tTarget, tf.maximum(norm, 1e-30));
      // Tensors exist only for the criteria this schedule uses: each op is a kernel launch.
      let release: tf.Tensor1D | null = null;
      let cRate: tf.Tensor1D | null = null;
      let cLen: tf.Tensor1D | null = null;
      if (sr) {
        const gnorm = groupL2(members, (p) => gradOf(model, req.grads, p), C);
        const aliveCount = Math.max(1, inp.alive.reduce((a, v) => a + v, 0));
        const meanAlive = tf.div(tf.sum(tf.mul(gnorm, tAlive)), aliveCount);
        // srCriteria (decay-state.ts), op for op.
        const prev = tf.tensor1d(inp.prev);
        cRate = tf.div(tf.sub(norm, prev), tf.maximum(tf.mul(gnorm, sr.lr), SR_EPS));
        cLen = tf.div(tf.mul(gnorm, tf.tensor1d(inp.linit)), tf.maximum(tf.mul(meanAlive, prev), SR_EPS));
        release = tf.mul(tf.tensor1d(inp.judged), tf.cast(tf.logicalAnd(tf.greater(cRate, sr.tRate), tf.greater(cLen, sr.tLen)), 'float32'));
      }
      let cross: tf.Tensor1D | null = null;
      if (halfSpace) {
        const dots: tf.Tensor1D[] = [];
        const sqs: tf.Tensor1D[] = [];
        for (const m of trainedMembers(model.def, fam, ['out'])) {
          const old = halfSpace.snapshot.get(m.param);
          if (!old) continue;
          dots.push(sliceDot(param(model, m.param), old, m.axis));
          sqs.push(sliceSum(old, m.axis, 2));
        }
        const dot = sumOf(dots, C);
        const sq = sumOf(sqs, C);
        const candidates = release ? tf.mul(tDec, tf.sub(1, release)) : tDec;
        cross = tf.mul(candidates, tf.cast(tf.less(dot, tf.mul(sq, halfSpace.eps)), 'float32'));
      }
      // alive -> 1, removed -> 0, released -> 1, crossed the half-space -> 0, else to target:
      // release + (1 - release) * (1 - cross) * toTarget, with absent terms left out.
      let decScale = toTarget as tf.Tensor1D;
      if (cross) decScale = tf.mul(tf.sub(1, cross), decScale);
      if (release) decScale = tf.add(release, tf.mul(tf.sub(1, release), decScale));
      scaleFamily(model, fam, tf.add(tAlive, tf.mul(tDec, decScale)) as tf.Tensor1D);
      if (inp.criteria) {
        const zero = tf.zerosLike(norm);
        blocks.set(f, tf.concat([cRate ?? zero, cLen ?? zero, release ?? zero, cross ?? zero]) as tf.Tensor1D);
      }
    });
    // After every family is scaled: a conv shared by two families changes both groups' norms.
    const parts = layout.blocks.map((b) => blocks.get(b.family)!);
    if (layout.normsOffset !== null) parts.push(familyNormsWithOps(model));
    return parts.length ? (tf.concat(parts) as tf.Tensor1D) : undefined;
  });
  return out ?? null;
};
