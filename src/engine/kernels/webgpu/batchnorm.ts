import * as tf from '@tensorflow/tfjs';
import { MAX_WORKGROUPS_PER_DIMENSION } from './backend-internals';
import { cachedShader, makeExclusive, rawDispatch, rawOutput, type RawShader } from './raw';

/**
 * Training-mode batch norm (+ optional ReLU) on WebGPU in a few dispatches, where tfjs's
 * composite (moments over N,H,W, the running-average arithmetic, batchNorm, relu and all their
 * gradients) costs ~15 small programs forward, more backward, and Transposes for every
 * reduction.
 *
 * x is [N,H,W,C], read as M = N*H*W rows of C channels. Per-channel reductions run over rows
 * with no transpose: a workgroup holds 16 channels x 16 row lanes and reduces one chunk of
 * rows; when M exceeds one chunk, the chunks' partial results go through a small per-channel
 * combine (a second dispatch). Statistics use Welford within a thread and Chan's pairwise
 * update across threads and chunks, so the variance does not cancel the way sum-of-squares
 * does when |mean| >> std.
 *
 * Forward: stats (+ running averages, in the same dispatch) -> normalize(+relu).
 * Backward: sums of dy' and dy'*xhat per channel (dy' = dy masked by y > 0 under ReLU; these
 * are dbeta and dgamma) -> dx = gamma*rstd*(dy' - (dbeta + xhat*dgamma)/M).
 */

const LANES = 16; // channels per workgroup, and row lanes per channel
const WG = LANES * LANES;

/** Rows one reduction workgroup covers; a larger M splits into chunks plus a combine pass. */
export const ROWS_PER_CHUNK = 1024;

export interface RunningStats {
  mean: tf.Variable;
  variance: tf.Variable;
  momentum: number;
}

export interface BnTrainOptions {
  eps: number;
  /** Updated in place, PyTorch's way (running variance from the unbiased batch variance). */
  running?: RunningStats;
  /** Rows per reduction chunk (tests force the two-pass path on small shapes). */
  rowsPerChunk?: number;
}

export interface BnTrainResult {
  /** relu?((x - mean) * rsqrt(variance + eps) * gamma + beta); differentiable in x, gamma, beta. */
  y: tf.Tensor4D;
  /** The batch mean and biased variance: not differentiable (the gradient of y accounts for them). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

export function bnTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, relu: boolean, opts: BnTrainOptions): BnTrainResult {
  if (x.dtype !== 'float32') throw new Error(`bnTrain: x must be float32 (got ${x.dtype})`);
  const c = x.shape[3];
  if (gamma.size !== c || beta.size !== c) throw new Error(`bnTrain: gamma/beta must have ${c} channels`);
  const geo: Geometry = { m: x.size / c, c, rows: opts.rowsPerChunk ?? ROWS_PER_CHUNK };
  return tf.tidy(() => {
    const { mean, variance, norm } = batchStats(x, geo, opts);
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [xIn, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      const y = normalize(xIn, norm, g, b, relu, geo);
      save(relu ? [xIn, norm, g, y] : [xIn, norm, g]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, snorm, sg, sy] = saved;
          const { dgamma, dbeta } = gradSums(sx, dy, relu ? sy : null, snorm, geo);
          return [gradInput(sx, dy, relu ? sy : null, snorm, sg, dgamma, dbeta, geo), dgamma, dbeta];
        },
      };
    });
    return { y: op(x, gamma, beta) as tf.Tensor4D, mean, variance };
  });
}

interface Geometry {
  m: number;
  c: number;
  rows: number;
}

const chunks = (g: Geometry): number => Math.ceil(g.m / g.rows);

function out(shape: number[]): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(rawOutput(shape));
}

const u32 = (v: number) => ({ type: 'uint32' as const, data: [v] });
const f32 = (v: number) => ({ type: 'float32' as const, data: [v] });

/** One invocation per element, in a 2-D grid when one dimension's 65,535 workgroups are too few. */
function flatGrid(total: number): [number, number] {
  const groups = Math.ceil(total / WG);
  const gx = Math.min(groups, MAX_WORKGROUPS_PER_DIMENSION);
  return [gx, Math.ceil(groups / gx)];
}

const binding = (i: number, name: string, access: 'read' | 'read_write') =>
  `@group(0) @binding(${i}) var<storage, ${access}> ${name}: array<f32>;`;

/** WGSL declarations for buffers in binding order: [name, written?]. */
function bindings(names: Array<[string, boolean]>): string {
  return names.map(([n, w], i) => binding(i, n, w ? 'read_write' : 'read')).join('\n');
}

// ---- statistics ---------------------------------------------------------------------------

// The reduction workgroup: lane (rl, cl) = (row lane, channel lane); channel c = wg.x*16 + cl;
// chunk wg.y covers rows [wg.y*rows, min(m, (wg.y+1)*rows)).
const REDUCE_HEADER = `
  let cl = lid % ${LANES}u;
  let rl = lid / ${LANES}u;
  let c = wg.x * ${LANES}u + cl;
  let start = wg.y * u.rows;
  let end = min(u.m, start + u.rows);`;

const STATS_UNIFORMS = 'struct U { m: u32, c: u32, rows: u32, eps: f32, momentum: f32, keep: f32, unbias: f32 };';

function statsUniforms(g: Geometry, eps: number, running?: RunningStats) {
  const momentum = running?.momentum ?? 0;
  return [u32(g.m), u32(g.c), u32(g.rows), f32(eps), f32(momentum), f32(1 - momentum), f32(g.m / Math.max(1, g.m - 1))];
}

/** Writes mean, variance, norm = [mean | rsqrt(var + eps)] and the running averages for (c, mu, m2, n). */
function statsEpilogue(running: boolean): string {
  return `
    let v = m2 / n;
    mean[c] = mu;
    variance[c] = v;
    norm[c] = mu;
    norm[u.c + c] = inverseSqrt(v + u.eps);
    ${running ? 'runMean[c] = runMean[c] * u.keep + mu * u.momentum;\n    runVar[c] = runVar[c] * u.keep + v * u.unbias * u.momentum;' : ''}`;
}

const STATS_OUTPUTS: Array<[string, boolean]> = [
  ['mean', true],
  ['variance', true],
  ['norm', true],
];
const RUNNING: Array<[string, boolean]> = [
  ['runMean', true],
  ['runVar', true],
];

/** Chan's update of (n, mu, m2) with another group's (nb, mb, m2b). */
const CHAN = `
fn chan(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
  if (b.x == 0.0) { return a; }
  let n = a.x + b.x;
  let d = b.y - a.y;
  return vec3<f32>(n, a.y + d * b.x / n, a.z + b.z + d * d * a.x * b.x / n);
}`;

function statsReduceShader(direct: boolean, running: boolean): RawShader {
  const key = `bn-stats-${direct ? 'direct' : 'partial'}${running ? '-running' : ''}`;
  return cachedShader(key, () => {
    const bufs: Array<[string, boolean]> = [['x', false], ...(direct ? [...STATS_OUTPUTS, ...(running ? RUNNING : [])] : ([['partial', true]] as Array<[string, boolean]>))];
    return `
${STATS_UNIFORMS}
${bindings(bufs)}
@group(0) @binding(${bufs.length}) var<uniform> u: U;
var<workgroup> acc: array<vec3<f32>, ${WG}>;
${CHAN}
@compute @workgroup_size(${WG}) fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  ${REDUCE_HEADER}
  // Welford over this lane's rows: (count, mean, sum of squared deviations).
  var s = vec3<f32>(0.0);
  if (c < u.c) {
    for (var r = start + rl; r < end; r = r + ${LANES}u) {
      let v = x[r * u.c + c];
      s.x = s.x + 1.0;
      let d = v - s.y;
      s.y = s.y + d / s.x;
      s.z = s.z + d * (v - s.y);
    }
  }
  acc[lid] = s;
  for (var k = ${LANES / 2}u; k > 0u; k = k >> 1u) {
    workgroupBarrier();
    if (rl < k) {
      s = chan(s, acc[lid + k * ${LANES}u]);
      acc[lid] = s;
    }
  }
  if (rl != 0u || c >= u.c) { return; }
  ${
    direct
      ? `let n = s.x; let mu = s.y; let m2 = s.z;${statsEpilogue(running)}`
      : `let o = (wg.y * u.c + c) * 2u;
  partial[o] = s.y;
  partial[o + 1u] = s.z;`
  }
}`;
  });
}

function statsCombineShader(running: boolean): RawShader {
  return cachedShader(`bn-stats-combine${running ? '-running' : ''}`, () => {
    const bufs: Array<[string, boolean]> = [['partial', false], ...STATS_OUTPUTS, ...(running ? RUNNING : [])];
    return `
${STATS_UNIFORMS}
${bindings(bufs)}
@group(0) @binding(${bufs.length}) var<uniform> u: U;
${CHAN}
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= u.c) { return; }
  var s = vec3<f32>(0.0);
  let chunks = (u.m + u.rows - 1u) / u.rows;
  for (var p = 0u; p < chunks; p = p + 1u) {
    let o = (p * u.c + c) * 2u;
    s = chan(s, vec3<f32>(f32(min(u.rows, u.m - p * u.rows)), partial[o], partial[o + 1u]));
  }
  let n = s.x; let mu = s.y; let m2 = s.z;${statsEpilogue(running)}
}`;
  });
}

/** mean, variance and norm = [mean | rsqrt(variance + eps)] (what the other passes read), one or two dispatches. */
function batchStats(x: tf.Tensor, g: Geometry, opts: BnTrainOptions): { mean: tf.Tensor1D; variance: tf.Tensor1D; norm: tf.Tensor } {
  const running = opts.running;
  if (running) {
    // In-place writes below: nothing else may share these buffers (a snapshot's clone, say).
    for (const v of [running.mean, running.variance]) makeExclusive(v, (t) => tf.add(t, 0));
  }
  const mean = out([g.c]) as tf.Tensor1D;
  const variance = out([g.c]) as tf.Tensor1D;
  const norm = out([2 * g.c]);
  const stats = [mean, variance, norm, ...(running ? [running.mean, running.variance] : [])];
  const uniforms = statsUniforms(g, opts.eps, running);
  const p = chunks(g);
  const blocks = Math.ceil(g.c / LANES);
  if (p === 1) {
    rawDispatch(statsReduceShader(true, !!running), [x, ...stats], uniforms, [blocks, 1]);
  } else {
    const partial = out([p, g.c, 2]);
    rawDispatch(statsReduceShader(false, false), [x, partial], uniforms, [blocks, p]);
    rawDispatch(statsCombineShader(!!running), [partial, ...stats], uniforms, [Math.ceil(g.c / 64)]);
    partial.dispose();
  }
  return { mean, variance, norm };
}

// ---- normalize ----------------------------------------------------------------------------

/**
 * A one-invocation-per-element program over an [m, c] tensor: its buffers, the uniforms
 * (total, c, 1/m) and `body`, which sees the flat index `i` and the channel `c`.
 */
function flatShader(bufs: Array<[string, boolean]>, body: string): string {
  return `
struct U { total: u32, c: u32, invM: f32 };
${bindings(bufs)}
@group(0) @binding(${bufs.length}) var<uniform> u: U;
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.y * nwg.x * ${WG}u + gid.x;
  if (i >= u.total) { return; }
  let c = i % u.c;
${body}
}`;
}

function flatUniforms(g: Geometry) {
  return [u32(g.m * g.c), u32(g.c), f32(1 / g.m)];
}

function normalizeShader(relu: boolean): RawShader {
  return cachedShader(`bn-normalize${relu ? '-relu' : ''}`, () => {
    const bufs: Array<[string, boolean]> = [
      ['x', false],
      ['norm', false],
      ['gamma', false],
      ['beta', false],
      ['y', true],
    ];
    return flatShader(
      bufs,
      `  let v = (x[i] - norm[c]) * norm[u.c + c] * gamma[c] + beta[c];
  y[i] = ${relu ? 'max(v, 0.0)' : 'v'};`,
    );
  });
}

function normalize(x: tf.Tensor, norm: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, relu: boolean, g: Geometry): tf.Tensor {
  const y = out(x.shape);
  rawDispatch(normalizeShader(relu), [x, norm, gamma, beta, y], flatUniforms(g), flatGrid(g.m * g.c));
  return y;
}

// ---- gradients ----------------------------------------------------------------------------

const GRAD_UNIFORMS = 'struct U { m: u32, c: u32, rows: u32 };';

/** dy masked by the ReLU: tfjs's relu gradient passes dy where the output is > 0. */
const maskedDy = (relu: boolean) => (relu ? 'select(0.0, dy[i], y[i] > 0.0)' : 'dy[i]');

function gradReduceShader(direct: boolean, relu: boolean): RawShader {
  return cachedShader(`bn-grad-${direct ? 'direct' : 'partial'}${relu ? '-relu' : ''}`, () => {
    const bufs: Array<[string, boolean]> = [
      ['x', false],
      ['dy', false],
      ...(relu ? ([['y', false]] as Array<[string, boolean]>) : []),
      ['norm', false],
      ...(direct
        ? ([
            ['dgamma', true],
            ['dbeta', true],
          ] as Array<[string, boolean]>)
        : ([['partial', true]] as Array<[string, boolean]>)),
    ];
    return `
${GRAD_UNIFORMS}
${bindings(bufs)}
@group(0) @binding(${bufs.length}) var<uniform> u: U;
var<workgroup> acc: array<vec2<f32>, ${WG}>;
@compute @workgroup_size(${WG}) fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  ${REDUCE_HEADER}
  // (sum of dy', sum of dy' * xhat)
  var s = vec2<f32>(0.0);
  if (c < u.c) {
    let mu = norm[c];
    let rs = norm[u.c + c];
    for (var r = start + rl; r < end; r = r + ${LANES}u) {
      let i = r * u.c + c;
      let g = ${maskedDy(relu)};
      s = s + vec2<f32>(g, g * (x[i] - mu) * rs);
    }
  }
  acc[lid] = s;
  for (var k = ${LANES / 2}u; k > 0u; k = k >> 1u) {
    workgroupBarrier();
    if (rl < k) {
      s = s + acc[lid + k * ${LANES}u];
      acc[lid] = s;
    }
  }
  if (rl != 0u || c >= u.c) { return; }
  ${
    direct
      ? `dbeta[c] = s.x;
  dgamma[c] = s.y;`
      : `let o = (wg.y * u.c + c) * 2u;
  partial[o] = s.x;
  partial[o + 1u] = s.y;`
  }
}`;
  });
}

function gradCombineShader(): RawShader {
  return cachedShader('bn-grad-combine', () => {
    const bufs: Array<[string, boolean]> = [
      ['partial', false],
      ['dgamma', true],
      ['dbeta', true],
    ];
    return `
${GRAD_UNIFORMS}
${bindings(bufs)}
@group(0) @binding(${bufs.length}) var<uniform> u: U;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= u.c) { return; }
  var s = vec2<f32>(0.0);
  let chunks = (u.m + u.rows - 1u) / u.rows;
  for (var p = 0u; p < chunks; p = p + 1u) {
    let o = (p * u.c + c) * 2u;
    s = s + vec2<f32>(partial[o], partial[o + 1u]);
  }
  dbeta[c] = s.x;
  dgamma[c] = s.y;
}`;
  });
}

/** dgamma = sum(dy' * xhat), dbeta = sum(dy') per channel: one or two dispatches. */
function gradSums(x: tf.Tensor, dy: tf.Tensor, y: tf.Tensor | null, norm: tf.Tensor, g: Geometry): { dgamma: tf.Tensor; dbeta: tf.Tensor } {
  const dgamma = out([g.c]);
  const dbeta = out([g.c]);
  const inputs = [x, dy, ...(y ? [y] : []), norm];
  const uniforms = [u32(g.m), u32(g.c), u32(g.rows)];
  const p = chunks(g);
  const blocks = Math.ceil(g.c / LANES);
  if (p === 1) {
    rawDispatch(gradReduceShader(true, !!y), [...inputs, dgamma, dbeta], uniforms, [blocks, 1]);
  } else {
    const partial = out([p, g.c, 2]);
    rawDispatch(gradReduceShader(false, !!y), [...inputs, partial], uniforms, [blocks, p]);
    rawDispatch(gradCombineShader(), [partial, dgamma, dbeta], uniforms, [Math.ceil(g.c / 64)]);
    partial.dispose();
  }
  return { dgamma, dbeta };
}

function gradInputShader(relu: boolean): RawShader {
  return cachedShader(`bn-grad-input${relu ? '-relu' : ''}`, () => {
    const bufs: Array<[string, boolean]> = [
      ['x', false],
      ['dy', false],
      ...(relu ? ([['y', false]] as Array<[string, boolean]>) : []),
      ['norm', false],
      ['gamma', false],
      ['dgamma', false],
      ['dbeta', false],
      ['dx', true],
    ];
    return flatShader(
      bufs,
      `  let rs = norm[u.c + c];
  let xhat = (x[i] - norm[c]) * rs;
  dx[i] = gamma[c] * rs * (${maskedDy(relu)} - (dbeta[c] + xhat * dgamma[c]) * u.invM);`,
    );
  });
}

function gradInput(x: tf.Tensor, dy: tf.Tensor, y: tf.Tensor | null, norm: tf.Tensor, gamma: tf.Tensor, dgamma: tf.Tensor, dbeta: tf.Tensor, g: Geometry): tf.Tensor {
  const dx = out(x.shape);
  rawDispatch(gradInputShader(!!y), [x, dy, ...(y ? [y] : []), norm, gamma, dgamma, dbeta, dx], flatUniforms(g), flatGrid(g.m * g.c));
  return dx;
}
