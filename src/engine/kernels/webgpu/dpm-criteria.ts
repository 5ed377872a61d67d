import type * as tf from '@tensorflow/tfjs';
import { MEMBER_STRIDE, type DpmTables } from './dpm-tables';
import { rawDispatch, type RawShader } from './raw';

/**
 * The middle passes of the batched DPM hooks, over the Q matrices of pass 1 (dpm-reduce.ts)
 * and the tables of dpm-tables.ts:
 *
 * - `dpm-criteria`, one workgroup per family of one level (dpm-tables.ts): group norms of x*
 *   (after the scales of earlier families sharing a tensor: sum_k Q[c, k] * s_other[k]^2) and
 *   of the gradients, the mean gradient norm over the family's alive channels, SP's scale to
 *   (N - n) * L_s, SR's C_rate, C_len and release (decay-state.ts's srCriteria), OTOv2's half-space test (its dot product
 *   weighted by s_other, not squared); writes the criteria block the CPU reads
 *   (decay-state.ts's layout) and the family's scales. Families that only keep or mask
 *   channels have their scales uploaded with the state and are left alone.
 * - `dpm-norms`, one thread per channel: group norms after every family's scale, as
 *   sum over members of s_own^2 * sum_k Q[.., k] * s_other[k]^2 (a tensor shared by two
 *   families carries both scales), or before any scale (`scaled` = 0).
 *
 * The state vector (f32, uploaded each step): per family [mode (0 keep, 1 mask, 2 decay), SR
 * on, half-space on, criteria offset or -1]; per channel [kind (0 alive, 1 decaying, 2
 * removed), target, prev (||x_k||), L_init]; then every channel's scale (1 alive, 0 removed; decaying ones
 * written here). Scratch regions: W (Q of the weights, at 0), G (of the gradients), D
 * (x* . snapshot), P (snapshot squares), and 2 floats per channel of temporaries.
 */

const WG = 64;

/** Sum over member row mb's slice c of the Q region at base: a column (c on O) or a row (c on I). */
function memberSum(weighted: boolean): string {
  const w = weighted
    ? `
  let other = tab[mb + 6];
  let ob = u.b.w + tab[mb + 5];
  let weigh = wmode != 0 && other >= 0 && other < f;`
    : '';
  const term = (k: string): string => (weighted ? `var x = sc[${k}];
      if (weigh) { let s = st[ob + KK]; x = x * select(s, s * s, wmode == 1); }
      acc = acc + x;` : `acc = acc + sc[${k}];`);
  return `
fn memberSum(base: i32, mb: i32, c: i32${weighted ? ', f: i32, wmode: i32' : ''}) -> f32 {
  let q = base + tab[mb];
  let I = tab[mb + 1];
  let O = tab[mb + 2];${w}
  var acc = 0.0;
  if (tab[mb + 3] == 1) {
    for (var i = 0; i < I; i = i + 1) {
      ${term('q + i * O + c').replace('KK', 'i')}
    }
  } else {
    for (var o = 0; o < O; o = o + 1) {
      ${term('q + c * O + o').replace('KK', 'o')}
    }
  }
  return acc;
}`;
}

export const CRITERIA_SHADER: RawShader = {
  key: 'dpm-criteria',
  code: `
// th: tRate, tLen, eps, lr (of the update just applied); a: gBase, dBase, pBase, tmpBase; b: famBase, memBase, stateChanBase, scalesBase; c: level list.
// A channel's state: kind (0 alive, 1 decaying and judged by SR, 2 removed, 3 decaying, not judged: srJudges), target, prev, linit.
struct U { th: vec4<f32>, a: vec4<i32>, b: vec4<i32>, c: vec4<i32> };
@group(0) @binding(0) var<storage, read> tab: array<i32>;
@group(0) @binding(1) var<storage, read_write> st: array<f32>;
@group(0) @binding(2) var<storage, read_write> sc: array<f32>;
@group(0) @binding(3) var<storage, read_write> res: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
var<workgroup> redSum: array<f32, ${WG}>;
var<workgroup> redCnt: array<f32, ${WG}>;
${memberSum(true)}
// wmode: 0 unweighted, 1 by the earlier families' squared scales (norms), 2 by their scales (dots).
fn familySum(base: i32, f: i32, ms: i32, mc: i32, c: i32, outOnly: bool, wmode: i32) -> f32 {
  var s = 0.0;
  for (var m = ms; m < ms + mc; m = m + 1) {
    let mb = u.b.y + ${MEMBER_STRIDE} * m;
    if (!outOnly || tab[mb + 4] == 1) { s = s + memberSum(base, mb, c, f, wmode); }
  }
  return s;
}
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lidu: u32) {
  let lid = i32(lidu);
  let f = tab[u.c.x + i32(wid.x)];
  let fb = u.b.x + 4 * f;
  let C = tab[fb];
  let cb = tab[fb + 1];
  let ms = tab[fb + 2];
  let mc = tab[fb + 3];
  let mode = i32(st[4 * f]);
  let sr = st[4 * f + 1] > 0.5;
  let hs = st[4 * f + 2] > 0.5;
  let crit = i32(st[4 * f + 3]);
  let tmp = u.a.w;
  var aSum = 0.0;
  var aCnt = 0.0;
  if (mode == 2) {
    for (var c = lid; c < C; c = c + ${WG}) {
      let ch = cb + c;
      let norm = sqrt(familySum(0, f, ms, mc, c, false, 1));
      var g = 0.0;
      if (sr) { g = sqrt(familySum(u.a.x, f, ms, mc, c, false, 0)); }
      sc[tmp + 2 * ch] = norm;
      sc[tmp + 2 * ch + 1] = g;
      if (st[u.b.z + 4 * ch] == 0.0) {
        aSum = aSum + g;
        aCnt = aCnt + 1.0;
      }
    }
  }
  redSum[lid] = aSum;
  redCnt[lid] = aCnt;
  workgroupBarrier();
  for (var w = ${WG / 2}; w > 0; w = w / 2) {
    if (lid < w) {
      redSum[lid] = redSum[lid] + redSum[lid + w];
      redCnt[lid] = redCnt[lid] + redCnt[lid + w];
    }
    workgroupBarrier();
  }
  let meanAlive = redSum[0] / max(1.0, redCnt[0]);
  if (mode == 2) {
    for (var c = lid; c < C; c = c + ${WG}) {
      let ch = cb + c;
      let sb = u.b.z + 4 * ch;
      let kind = st[sb];
      let norm = sc[tmp + 2 * ch];
      let g = sc[tmp + 2 * ch + 1];
      let dec = kind == 1.0 || kind == 3.0;
      let toTarget = st[sb + 1] / max(norm, 1e-30);
      var cRate = 0.0;
      var cLen = 0.0;
      var rel = false;
      if (sr) {
        // srCriteria (decay-state.ts), op for op.
        let prev = st[sb + 2];
        cRate = (norm - prev) / max(g * u.th.w, 1e-30);
        cLen = (g * st[sb + 3]) / max(meanAlive * prev, 1e-30);
        rel = kind == 1.0 && cRate > u.th.x && cLen > u.th.y;
      }
      var cross = false;
      if (hs) {
        let dot = familySum(u.a.y, f, ms, mc, c, true, 2);
        let sq = familySum(u.a.z, f, ms, mc, c, true, 0);
        cross = dec && !rel && dot < sq * u.th.z;
      }
      if (dec) { st[u.b.w + ch] = select(select(toTarget, 0.0, cross), 1.0, rel); }
      if (crit >= 0) {
        res[crit + c] = cRate;
        res[crit + C + c] = cLen;
        res[crit + 2 * C + c] = select(0.0, 1.0, rel);
        res[crit + 3 * C + c] = select(0.0, 1.0, cross);
      }
    }
  }
}`,
};

export const NORMS_SHADER: RawShader = {
  key: 'dpm-norms',
  code: `
// a: totalChannels, normsOffset, scaled (0/1), scalesBase (in st); b: famBase, memBase, chanFamBase.
struct U { a: vec4<i32>, b: vec4<i32> };
@group(0) @binding(0) var<storage, read> tab: array<i32>;
@group(0) @binding(1) var<storage, read> st: array<f32>;
@group(0) @binding(2) var<storage, read_write> sc: array<f32>;
@group(0) @binding(3) var<storage, read_write> res: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
fn sq(x: f32) -> f32 { return x * x; }
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ch = i32(gid.x);
  if (ch >= u.a.x) { return; }
  let scaled = u.a.z == 1;
  let sb = u.a.w;
  let f = tab[u.b.z + ch];
  let fb = u.b.x + 4 * f;
  let c = ch - tab[fb + 1];
  let ms = tab[fb + 2];
  let mc = tab[fb + 3];
  var s = 0.0;
  for (var m = ms; m < ms + mc; m = m + 1) {
    let mb = u.b.y + ${MEMBER_STRIDE} * m;
    let q = tab[mb];
    let I = tab[mb + 1];
    let O = tab[mb + 2];
    let other = tab[mb + 5];
    let weigh = scaled && other >= 0;
    if (tab[mb + 3] == 1) {
      for (var i = 0; i < I; i = i + 1) {
        var w = 1.0;
        if (weigh) { w = sq(st[sb + other + i]); }
        s = s + sc[q + i * O + c] * w;
      }
    } else {
      for (var o = 0; o < O; o = o + 1) {
        var w = 1.0;
        if (weigh) { w = sq(st[sb + other + o]); }
        s = s + sc[q + c * O + o] * w;
      }
    }
  }
  if (scaled) { s = s * sq(st[sb + ch]); }
  res[u.a.y + ch] = sqrt(s);
}`,
};

export interface Regions {
  g: number;
  d: number;
  p: number;
  tmp: number;
}

/** Offsets in the state vector. */
export function stateLayout(t: DpmTables): { chans: number; scales: number; length: number } {
  const chans = 4 * t.families.length;
  const scales = chans + 4 * t.totalChannels;
  return { chans, scales, length: scales + t.totalChannels };
}

/** One dispatch per level that has a decaying family, in level order. */
export function runCriteria(t: DpmTables, decaying: (f: number) => boolean, table: tf.TensorInfo, state: tf.TensorInfo, scratch: tf.TensorInfo, out: tf.TensorInfo, r: Regions, th: { tRate: number; tLen: number; eps: number; lr: number }): void {
  const sl = stateLayout(t);
  t.levels.forEach((fams, l) => {
    if (!fams.some(decaying)) return;
    rawDispatch(
      CRITERIA_SHADER,
      [table, state, scratch, out],
      [
        { type: 'float32', data: [th.tRate, th.tLen, th.eps, th.lr] },
        { type: 'int32', data: [r.g, r.d, r.p, r.tmp] },
        { type: 'int32', data: [t.famBase, t.memBase, sl.chans, sl.scales] },
        { type: 'int32', data: [t.levelBase[l], 0, 0, 0] },
      ],
      [fams.length],
    );
  });
}

/**
 * Norms of every family into out[offset..]: after the scales in `state` (the state vector), or
 * as they are (state null: the table is bound in its place and never read).
 */
export function runNorms(t: DpmTables, table: tf.TensorInfo, state: tf.TensorInfo | null, scratch: tf.TensorInfo, out: tf.TensorInfo, offset: number): void {
  rawDispatch(
    NORMS_SHADER,
    [table, state ?? table, scratch, out],
    [
      { type: 'int32', data: [t.totalChannels, offset, state ? 1 : 0, stateLayout(t).scales] },
      { type: 'int32', data: [t.famBase, t.memBase, t.chanFamBase, 0] },
    ],
    [Math.ceil(t.totalChannels / WG)],
  );
}
