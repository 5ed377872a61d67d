import * as tf from '@tensorflow/tfjs';
import type { ProgramUniform } from './backend-internals';
import { requireWebGpu } from './backend-internals';
import { makeExclusive, rawDispatch, rawOutput, type RawShader } from './raw';

/**
 * SGD with momentum and weight decay (torch.optim.SGD) as one dispatch per PAIR of variables,
 * updating each weight and its momentum buffer in place. The stock tfjs path costs six
 * dispatches per variable (mul, add; mul, add; mul, sub).
 *
 * Per element, for a variable with gradient g, weight w and velocity v:
 *   d = decayed ? g + w*wd : g
 *   v = first ? d : (mu > 0 ? v*mu + d : d)
 *   w = w - v*lr
 *
 * Bit-for-bit what the stock tfjs ops compute on the same device: the same f32 operations on
 * the same operands in the same order, each product rounded to f32 on its own as tfjs's
 * separate Multiply and Add programs round it. A shader compiler may otherwise contract
 * `a*b + c` into one fused multiply-add (one rounding: a last-bit difference); `exact` hides
 * each product behind an integer XOR with a uniform that is zero at run time, which no
 * compiler can see through, so no driver can contract it. (SwiftShader does not contract
 * anyway; drivers for real GPUs may.)
 */

export interface SgdVariableUpdate {
  weight: tf.Variable;
  velocity: tf.Variable;
  grad: tf.Tensor;
  /** Weight decay applies to this variable. */
  decayed: boolean;
  /** The velocity holds nothing yet: the update writes v = d (PyTorch's first step). */
  first: boolean;
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
}

const WORKGROUP = 256;
const FLAG_DECAYED = 1;
const FLAG_FIRST = 2;
/** Momentum is on (the optimizer's own test, `momentum > 0`, made in double precision). */
const FLAG_MOMENTUM = 4;

/** At most two variables per dispatch: three storage buffers each, eight per stage. */
export const SGD_VARIABLES_PER_DISPATCH = 2;

function shaderFor(count: 1 | 2): RawShader {
  const vars = Array.from({ length: count }, (_v, k) => k);
  const fields = vars.map((k) => `n${k}: u32, flags${k}: u32,`).join(' ');
  const bindings = vars
    .map(
      (k) => `
@group(0) @binding(${3 * k}) var<storage, read_write> w${k}: array<f32>;
@group(0) @binding(${3 * k + 1}) var<storage, read_write> v${k}: array<f32>;
@group(0) @binding(${3 * k + 2}) var<storage, read> g${k}: array<f32>;`,
    )
    .join('');
  // WGSL passes no storage pointers to functions (without an extension): one function per slot.
  const updates = vars
    .map(
      (k) => `
fn update${k}(i: u32) {
  let g = g${k}[i];
  var d = g;
  if ((u.flags${k} & ${FLAG_DECAYED}u) != 0u) { d = g + exact(w${k}[i] * u.wd); }
  var v = d;
  if ((u.flags${k} & ${FLAG_FIRST | FLAG_MOMENTUM}u) == ${FLAG_MOMENTUM}u) { v = exact(v${k}[i] * u.mu) + d; }
  v${k}[i] = v;
  w${k}[i] = w${k}[i] - exact(v * u.lr);
}`,
    )
    .join('');
  // The invocations run over the variables' elements end to end.
  const route = vars
    .map(
      (k) => `
  if (i < u.n${k}) { update${k}(i); return; }
  i = i - u.n${k};`,
    )
    .join('');
  return {
    key: `sgd-momentum-x${count}`,
    code: `
struct U { lr: f32, mu: f32, wd: f32, zero: u32, ${fields} };
${bindings}
@group(0) @binding(${3 * count}) var<uniform> u: U;

// Rounds a product to f32 where it stands, so it is never fused into the add that follows.
fn exact(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ u.zero); }
${updates}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  var i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
${route}
}`,
  };
}

const SHADERS = { 1: shaderFor(1), 2: shaderFor(2) } as const;

/** Workgroups of 256 for `n` invocations, folded into y past the per-dimension limit `maxX`. */
export function workgroupGrid(n: number, maxX: number): [number, number] {
  const groups = Math.ceil(n / WORKGROUP);
  if (groups <= maxX) return [groups, 1];
  return [maxX, Math.ceil(groups / maxX)];
}

/** An exact copy (x*1 keeps every value, -0 and NaN included), for makeExclusive. */
const copyExact = (x: tf.Tensor): tf.Tensor => tf.mul(x, 1);

/**
 * Applies the update to every variable, two per dispatch. Weights and velocities are written in
 * place: a variable whose buffer another tensor shares (a snapshot's clone) is first given its
 * own copy, so the sharer keeps the old values.
 */
export function sgdMomentumUpdate(updates: readonly SgdVariableUpdate[], hyper: SgdHyper): void {
  for (const up of updates) {
    if (up.grad.size !== up.weight.size || up.velocity.size !== up.weight.size) {
      throw new Error(`sgdMomentumUpdate ${up.weight.name}: gradient ${up.grad.shape}, velocity ${up.velocity.shape}, weight ${up.weight.shape}`);
    }
    makeExclusive(up.weight, copyExact);
    makeExclusive(up.velocity, copyExact);
  }
  for (let at = 0; at < updates.length; at += SGD_VARIABLES_PER_DISPATCH) {
    const batch = updates.slice(at, at + SGD_VARIABLES_PER_DISPATCH);
    const uniforms: ProgramUniform = [
      { type: 'float32', data: [hyper.lr] },
      { type: 'float32', data: [hyper.momentum] },
      { type: 'float32', data: [hyper.weightDecay] },
      { type: 'uint32', data: [0] },
    ];
    const buffers: tf.TensorInfo[] = [];
    let total = 0;
    for (const up of batch) {
      const flags = (up.decayed ? FLAG_DECAYED : 0) | (up.first ? FLAG_FIRST : 0) | (hyper.momentum > 0 ? FLAG_MOMENTUM : 0);
      uniforms.push({ type: 'uint32', data: [up.weight.size] }, { type: 'uint32', data: [flags] });
      buffers.push(up.weight, up.velocity, up.grad);
      total += up.weight.size;
    }
    rawDispatch(SHADERS[batch.length as 1 | 2], buffers, uniforms, workgroupGrid(total, requireWebGpu().device.limits.maxComputeWorkgroupsPerDimension));
  }
}

/** A velocity buffer for `shape` whose contents the first update writes (no fill dispatch). */
export function uninitialisedVelocity(shape: number[]): tf.Variable {
  const t = tf.engine().makeTensorFromTensorInfo(rawOutput(shape));
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}
