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
 *
 * On a DPM step the same dispatches also write the sums the pruning hooks read (SgdTaps): a
 * variable with taps gets one invocation per (in, out) pair, looping over its kernel window,
 * and each element's update is the same arithmetic as above.
 */

export interface SgdVariableUpdate {
  weight: tf.Variable;
  velocity: tf.Variable;
  grad: tf.Tensor;
  /** Weight decay applies to this variable. */
  decayed: boolean;
  /** The velocity holds nothing yet: the update writes v = d (PyTorch's first step). */
  first: boolean;
  /** Sums the same pass writes for the pruning hooks (see SgdTaps); none when absent. */
  taps?: SgdTaps;
}

/**
 * Sums of products the update writes while it holds every element in registers anyway, so
 * that DPM's hooks need not read every weight and gradient again (kernels/webgpu/dpm-hooks.ts).
 * The variable is viewed as [S, size / S]; for each q < size / S the pass writes, at the given
 * offset + q of one shared scratch vector (-1: not wanted), the sum over s of
 *   weight: w'^2    (w' the updated weight: DPM's x*)
 *   grad:   g^2     (the gradient this update used)
 *   dot:    w' * w  (w the weight before the update: OTOv2's half-space product)
 *   old:    w^2
 * adding s = 0, 1, ... in order, as the reduction pass (dpm-reduce.ts) does.
 */
export interface SgdTaps {
  S: number;
  weight: number;
  grad: number;
  dot: number;
  old: number;
}

/**
 * What the pruning hooks ask the optimizer to write during one step's update
 * (PruningHooks.updateTaps). An optimizer that cannot (stock tfjs ops, another backend)
 * leaves `written` empty and the hooks compute the sums themselves.
 */
export interface UpdateTaps {
  scratch: tf.TensorInfo;
  /** By tf variable name. */
  byVariable: ReadonlyMap<string, SgdTaps>;
  /** Filled by the optimizer: the variables whose sums it wrote. */
  written: Set<string>;
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
/** Which of SgdTaps' sums to write, in its field order. */
const TAP_FIELDS = ['weight', 'grad', 'dot', 'old'] as const;
const TAP_FLAG = { weight: 8, grad: 16, dot: 32, old: 64 } as const;

/** At most two variables per dispatch: three storage buffers each, eight per stage (with taps, one more for the scratch). */
export const SGD_VARIABLES_PER_DISPATCH = 2;

function shaderFor(count: 1 | 2, taps: boolean): RawShader {
  const vars = Array.from({ length: count }, (_v, k) => k);
  const tapFields = (k: number): string => (taps ? ` s${k}: u32, tw${k}: u32, tg${k}: u32, td${k}: u32, tp${k}: u32,` : '');
  const fields = vars.map((k) => `n${k}: u32, flags${k}: u32,${tapFields(k)}`).join(' ');
  const bindings = vars
    .map(
      (k) => `
@group(0) @binding(${3 * k}) var<storage, read_write> w${k}: array<f32>;
@group(0) @binding(${3 * k + 1}) var<storage, read_write> v${k}: array<f32>;
@group(0) @binding(${3 * k + 2}) var<storage, read> g${k}: array<f32>;`,
    )
    .join('');
  const scratch = taps ? `\n@group(0) @binding(${3 * count}) var<storage, read_write> sc: array<f32>;` : '';
  const element = (k: number, i: string): string => `
    let g = g${k}[${i}];
    let w = w${k}[${i}];
    var d = g;
    if ((u.flags${k} & ${FLAG_DECAYED}u) != 0u) { d = g + exact(w * u.wd); }
    var v = d;
    if ((u.flags${k} & ${FLAG_FIRST | FLAG_MOMENTUM}u) == ${FLAG_MOMENTUM}u) { v = exact(v${k}[${i}] * u.mu) + d; }
    v${k}[${i}] = v;
    let wn = w - exact(v * u.lr);
    w${k}[${i}] = wn;`;
  // WGSL passes no storage pointers to functions (without an extension): one function per slot.
  const updates = vars
    .map((k) =>
      taps
        ? `
fn update${k}(q: u32) {
  var sw = 0.0;
  var sg = 0.0;
  var sd = 0.0;
  var sp = 0.0;
  for (var s = 0u; s < u.s${k}; s = s + 1u) {
    let i = s * u.n${k} + q;${element(k, 'i')}
    sw = sw + wn * wn;
    sg = sg + g * g;
    sd = sd + wn * w;
    sp = sp + w * w;
  }
  if ((u.flags${k} & ${TAP_FLAG.weight}u) != 0u) { sc[u.tw${k} + q] = sw; }
  if ((u.flags${k} & ${TAP_FLAG.grad}u) != 0u) { sc[u.tg${k} + q] = sg; }
  if ((u.flags${k} & ${TAP_FLAG.dot}u) != 0u) { sc[u.td${k} + q] = sd; }
  if ((u.flags${k} & ${TAP_FLAG.old}u) != 0u) { sc[u.tp${k} + q] = sp; }
}`
        : `
fn update${k}(i: u32) {${element(k, 'i')}
}`,
    )
    .join('');
  // The invocations run over the variables end to end: one per element, or with taps one per
  // q, looping over s (the sums stay in registers).
  const route = vars
    .map(
      (k) => `
  if (i < u.n${k}) { update${k}(i); return; }
  i = i - u.n${k};`,
    )
    .join('');
  return {
    key: `sgd-momentum${taps ? '-taps' : ''}-x${count}`,
    code: `
struct U { lr: f32, mu: f32, wd: f32, zero: u32, ${fields} };
${bindings}${scratch}
@group(0) @binding(${3 * count + (taps ? 1 : 0)}) var<uniform> u: U;

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

const SHADERS = { 1: shaderFor(1, false), 2: shaderFor(2, false) } as const;
const TAP_SHADERS = { 1: shaderFor(1, true), 2: shaderFor(2, true) } as const;

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
 * own copy, so the sharer keeps the old values. Variables with taps write their sums into
 * `scratch` (required then).
 */
export function sgdMomentumUpdate(updates: readonly SgdVariableUpdate[], hyper: SgdHyper, scratch?: tf.TensorInfo): void {
  for (const up of updates) {
    if (up.grad.size !== up.weight.size || up.velocity.size !== up.weight.size) {
      throw new Error(`sgdMomentumUpdate ${up.weight.name}: gradient ${up.grad.shape}, velocity ${up.velocity.shape}, weight ${up.weight.shape}`);
    }
    if (up.taps && (!scratch || up.weight.size % up.taps.S !== 0)) {
      throw new Error(`sgdMomentumUpdate ${up.weight.name}: taps over S = ${up.taps.S} need a scratch vector and S dividing ${up.weight.size}`);
    }
    makeExclusive(up.weight, copyExact);
    makeExclusive(up.velocity, copyExact);
  }
  for (let at = 0; at < updates.length; at += SGD_VARIABLES_PER_DISPATCH) {
    const batch = updates.slice(at, at + SGD_VARIABLES_PER_DISPATCH);
    const tapped = batch.some((up) => up.taps);
    const uniforms: ProgramUniform = [
      { type: 'float32', data: [hyper.lr] },
      { type: 'float32', data: [hyper.momentum] },
      { type: 'float32', data: [hyper.weightDecay] },
      { type: 'uint32', data: [0] },
    ];
    const buffers: tf.TensorInfo[] = [];
    let total = 0;
    for (const up of batch) {
      let flags = (up.decayed ? FLAG_DECAYED : 0) | (up.first ? FLAG_FIRST : 0) | (hyper.momentum > 0 ? FLAG_MOMENTUM : 0);
      // Without taps a variable is one [1, size] row: one invocation per element, as before.
      const S = up.taps?.S ?? 1;
      const n = up.weight.size / S;
      const offsets = TAP_FIELDS.map((field) => {
        const at = up.taps?.[field] ?? -1;
        if (at >= 0) flags |= TAP_FLAG[field];
        return Math.max(0, at);
      });
      uniforms.push({ type: 'uint32', data: [n] }, { type: 'uint32', data: [flags] });
      if (tapped) uniforms.push({ type: 'uint32', data: [S] }, ...offsets.map((o) => ({ type: 'uint32' as const, data: [o] })));
      buffers.push(up.weight, up.velocity, up.grad);
      total += n;
    }
    if (tapped) buffers.push(scratch!);
    const shader = (tapped ? TAP_SHADERS : SHADERS)[batch.length as 1 | 2];
    rawDispatch(shader, buffers, uniforms, workgroupGrid(total, requireWebGpu().device.limits.maxComputeWorkgroupsPerDimension));
  }
}

/** A velocity buffer for `shape` whose contents the first update writes (no fill dispatch). */
export function uninitialisedVelocity(shape: number[]): tf.Variable {
  const t = tf.engine().makeTensorFromTensorInfo(rawOutput(shape));
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}
