import * as tf from '@tensorflow/tfjs';
import { forward, param, type ChannelFamily, type FamilyMember, type Model, type ModelDef, type Op } from '../models/graph';

/**
 * Helpers over channel families: channel c of a family is one prunable group, slice c (along
 * the member's axis) of every member parameter. Everything here works on a whole family at
 * once (one reduction per member tensor), never channel by channel.
 */

/** Members whose tensors are trained: BN running statistics are state and never decayed or scored. */
export function trainedMembers(def: ModelDef, fam: ChannelFamily, roles: ReadonlyArray<'out' | 'in'> = ['out', 'in']): FamilyMember[] {
  const trainable = new Set(def.params.filter((p) => p.trainable).map((p) => p.name));
  return fam.members.filter((m) => trainable.has(m.param) && roles.includes(m.role));
}

export function axesExcept(rank: number, axis: number): number[] {
  const axes: number[] = [];
  for (let i = 0; i < rank; i++) if (i !== axis) axes.push(i);
  return axes;
}

/** Per-channel sum of |t|^p along every axis but `axis` (a [C] vector). */
export function sliceSum(t: tf.Tensor, axis: number, p: 1 | 2): tf.Tensor1D {
  return tf.tidy(() => {
    const v = p === 1 ? tf.abs(t) : tf.square(t);
    return (t.rank === 1 ? v : tf.sum(v, axesExcept(t.rank, axis))) as tf.Tensor1D;
  });
}

/** Per-channel sum of a*b along every axis but `axis`. */
export function sliceDot(a: tf.Tensor, b: tf.Tensor, axis: number): tf.Tensor1D {
  return tf.tidy(() => {
    const v = tf.mul(a, b);
    return (a.rank === 1 ? v : tf.sum(v, axesExcept(a.rank, axis))) as tf.Tensor1D;
  });
}

/** Reshapes a [C] vector so it broadcasts along `axis` of a tensor of rank `rank`. */
export function alongAxis(v: tf.Tensor1D, rank: number, axis: number): tf.Tensor {
  const shape = new Array<number>(rank).fill(1);
  shape[axis] = v.shape[0];
  return tf.reshape(v, shape);
}

/**
 * L2 norm of every channel's coupled group: sqrt of the sum of squares over every given
 * member's slice. `source` maps a parameter name to the tensor to read (weights or grads).
 */
export function groupL2(members: FamilyMember[], source: (param: string) => tf.Tensor | undefined, channels: number): tf.Tensor1D {
  return tf.tidy(() => {
    const parts: tf.Tensor1D[] = [];
    for (const m of members) {
      const t = source(m.param);
      if (t) parts.push(sliceSum(t, m.axis, 2));
    }
    return tf.sqrt(sumOf(parts, channels));
  });
}

/**
 * The sum of per-channel vectors in one kernel (addN), not a chain of adds from zeros: these
 * run every step for every decaying family, and on a GPU each launch has a fixed cost.
 */
export function sumOf(parts: tf.Tensor1D[], channels: number): tf.Tensor1D {
  if (parts.length === 0) return tf.zeros([channels]);
  if (parts.length === 1) return parts[0];
  if (parts.length <= ADDN_MAX_INPUTS) return tf.addN(parts);
  const sums: tf.Tensor1D[] = [];
  for (let i = 0; i < parts.length; i += ADDN_MAX_INPUTS) sums.push(sumOf(parts.slice(i, i + ADDN_MAX_INPUTS), channels));
  return sumOf(sums, channels);
}

/**
 * tfjs 4.22's WebGPU addN binds every input and its output as storage buffers and does not
 * split: past 7 inputs the pipeline exceeds WebGPU's default 8 storage buffers per stage and
 * is invalid (the sum is never written). A ResNet residual family has dozens of members.
 */
const ADDN_MAX_INPUTS = 7;

/**
 * Torch-Pruning's group magnitude importance: per member sum |w|^p over the slice, mean over
 * members, divided by the family mean (its "mean" normaliser) so families compare globally.
 */
export function groupImportance(model: Model, fam: ChannelFamily, p: 1 | 2, roles: ReadonlyArray<'out' | 'in'>, normalise = true): tf.Tensor1D {
  const members = trainedMembers(model.def, fam, roles);
  return tf.tidy((): tf.Tensor1D => {
    let acc: tf.Tensor1D = tf.zeros([fam.channels]);
    for (const m of members) acc = tf.add(acc, sliceSum(param(model, m.param), m.axis, p));
    const mean = tf.div(acc, Math.max(1, members.length));
    return (normalise ? tf.div(mean, tf.add(tf.mean(mean), 1e-12)) : mean) as tf.Tensor1D;
  });
}

/** Multiplies every trained member of the family by `scale` along its channel axis (in place). */
export function scaleFamily(model: Model, fam: ChannelFamily, scale: tf.Tensor1D): void {
  for (const m of trainedMembers(model.def, fam)) {
    const v = param(model, m.param);
    tf.tidy(() => v.assign(tf.mul(v, alongAxis(scale, v.rank, m.axis))));
  }
}

/** Zeroes the listed channels of a family (all trained members). */
export function zeroChannels(model: Model, fam: ChannelFamily, channels: number[]): void {
  if (channels.length === 0) return;
  const mask = new Float32Array(fam.channels).fill(1);
  for (const c of channels) mask[c] = 0;
  const t = tf.tensor1d(mask);
  scaleFamily(model, fam, t);
  t.dispose();
}

// --- Gate Decorator gates -------------------------------------------------------------------

export const gateParamName = (bn: string): string => `${bn}.gate`;
const gateOut = (bn: string): string => `${bn}:gated`;

/** The def with a per-channel gate after every family BN; later ops read the gated tensor. */
export function withGates(def: ModelDef): ModelDef {
  if (def.ops.some((o) => o.kind === 'gate')) return def;
  const gated = new Set(def.families.flatMap((f) => f.bns));
  const ops: Op[] = [];
  const rename = new Map<string, string>();
  const r = (n: string): string => rename.get(n) ?? n;
  for (const op of def.ops) {
    ops.push(renameInputs(op, r));
    if (op.kind === 'bn' && gated.has(op.out)) {
      ops.push({ kind: 'gate', out: gateOut(op.out), input: op.out, gate: gateParamName(op.out) });
      rename.set(op.out, gateOut(op.out));
    }
  }
  return { ...def, ops, output: r(def.output) };
}

/** The def with gate ops removed and their consumers wired back to the BN output. */
export function withoutGates(def: ModelDef): ModelDef {
  const rename = new Map<string, string>();
  const ops: Op[] = [];
  for (const op of def.ops) {
    if (op.kind === 'gate') {
      rename.set(op.out, rename.get(op.input) ?? op.input);
      continue;
    }
    ops.push(renameInputs(op, (n) => rename.get(n) ?? n));
  }
  return { ...def, ops, output: rename.get(def.output) ?? def.output };
}

function renameInputs(op: Op, r: (n: string) => string): Op {
  switch (op.kind) {
    case 'add':
      return { ...op, a: r(op.a), b: r(op.b) };
    default:
      return { ...op, input: r(op.input) };
  }
}

let gateCounter = 0;

/** Creates one gate variable (init 1) per family BN; they are not in def.params so cost ignores them. */
export function createGates(model: Model): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const fam of model.def.families) {
    for (const bn of fam.bns) {
      const name = gateParamName(bn);
      if (model.vars.has(name)) {
        out.push(model.vars.get(name)!);
        continue;
      }
      const v = tf.variable(tf.ones([fam.channels]), true, `${model.def.name}/${name}#g${gateCounter++}`);
      model.vars.set(name, v);
      out.push(v);
    }
  }
  return out;
}

// --- Slimming --------------------------------------------------------------------------------

/**
 * A physically smaller model: every member tensor gathered to the kept channels of its
 * families, gates folded into their BN (gamma*g, beta*g) and removed from the graph. The
 * source model is untouched. Families absent from `keep` keep every channel.
 */
export function slimModel(model: Model, keep: ReadonlyMap<string, number[]>): Model {
  const def = model.def;
  for (const fam of def.families) {
    const k = keep.get(fam.id);
    if (k && k.length < 1) throw new Error(`family ${fam.id} must keep at least one channel`);
    if (k && k.some((c) => c < 0 || c >= fam.channels || !Number.isInteger(c))) throw new Error(`family ${fam.id}: channel index out of range`);
  }
  const gateOf = new Map<string, tf.Tensor>();
  for (const op of def.ops) {
    if (op.kind !== 'gate') continue;
    const bn = def.ops.find((o) => o.kind === 'bn' && o.out === op.input);
    if (bn && bn.kind === 'bn') {
      gateOf.set(bn.gamma, param(model, op.gate));
      gateOf.set(bn.beta, param(model, op.gate));
    }
  }
  const baseDef = withoutGates(def);
  const vars = new Map<string, tf.Variable>();
  const params = def.params.map((p) => {
    const value = tf.tidy(() => {
      // Clone: returning the variable itself from tidy and disposing it would free the source.
      let t: tf.Tensor = tf.clone(param(model, p.name));
      const g = gateOf.get(p.name);
      if (g) t = tf.mul(t, g);
      for (const fam of def.families) {
        const k = keep.get(fam.id);
        if (!k) continue;
        for (const m of fam.members) if (m.param === p.name) t = tf.gather(t, tf.tensor1d(k, 'int32'), m.axis);
      }
      return t;
    });
    vars.set(p.name, tf.variable(value, p.trainable, `${def.name}/${p.name}#slim${gateCounter++}`));
    const shape = value.shape.slice();
    value.dispose();
    return { ...p, shape };
  });
  const families = def.families.map((f) => ({ ...f, channels: keep.get(f.id)?.length ?? f.channels }));
  return { def: { ...baseDef, params, families }, vars };
}

/** Max |slim(x) - masked(x)| in eval mode: the proof that slimming removed only zeroed channels. */
export async function slimMaxAbsDiff(masked: Model, slim: Model, x: tf.Tensor4D): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(forward(masked, x, false), forward(slim, x, false)))));
  const v = (await d.data())[0];
  d.dispose();
  return v;
}
