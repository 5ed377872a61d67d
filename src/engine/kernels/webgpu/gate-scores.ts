import * as tf from '@tensorflow/tfjs';
import { MAX_STORAGE_BUFFERS, type ProgramUniform } from './backend-internals';
import { cachedShader, makeExclusive, rawDispatch, tensorBindings, tensorCases, type RawShader } from './raw';

/**
 * Gate Decorator's per-step score accumulation (pruning/gate.ts), batched: for every gate of a
 * family in order, acc[c] = acc[c] + |gate[c] * dL/dgate[c]|. tfjs ops cost three dispatches
 * per gate (mul, abs, add); here one dispatch serves as many gates as its 8 storage buffers
 * hold (a gate and its gradient, plus its family's accumulator once per run of gates of that
 * family): ResNet-56's 57 gates take 24 dispatches instead of 171.
 *
 * Bit-for-bit what the ops compute: the same f32 product (kept from fusing into the add, as in
 * sgd.ts), its absolute value, and the adds in the same order, gate after gate.
 */
export interface GateTerm {
  /** The family's accumulator, updated in place. */
  acc: tf.Variable;
  gate: tf.TensorInfo;
  grad: tf.TensorInfo;
}

/** A run of consecutive terms of one family: one invocation per channel adds them in order. */
interface Segment {
  acc: number;
  terms: Array<[number, number]>;
  C: number;
}

/** Each term binds two buffers and each segment its accumulator: 3 terms or 2 segments at most. */
const MAX_TERMS = Math.floor((MAX_STORAGE_BUFFERS - 1) / 2);
const MAX_SEGMENTS = Math.floor(MAX_STORAGE_BUFFERS / 3);
const WG = 64;

function gateShader(k: number): RawShader {
  return cachedShader(`gate-scores-${k}`, () => {
    return `
// head: segments, zero (see exact); seg: acc binding, first term, terms, C; start of each segment's invocations; term: gate, grad bindings.
struct U { head: vec4<i32>, seg: array<vec4<i32>, ${MAX_SEGMENTS}>, start: vec4<i32>, term: array<vec4<i32>, ${MAX_TERMS}> };
${tensorBindings(k, 'read_write')}
@group(0) @binding(${k}) var<uniform> u: U;
fn load(t: i32, i: i32) -> f32 {
  switch t {
${tensorCases(k, (i) => `return t${i}[i];`)}
    default: { return 0.0; }
  }
}
fn store(t: i32, i: i32, x: f32) {
  switch t {
${tensorCases(k, (i) => `t${i}[i] = x;`)}
    default: {}
  }
}
// Rounds a product to f32 where it stands, as tfjs's Multiply program does.
fn exact(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ u32(u.head.y)); }
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = i32(gid.x);
  var j = 0;
  loop {
    if (j + 1 >= u.head.x) { break; }
    if (t < u.start[j + 1]) { break; }
    j = j + 1;
  }
  let sg = u.seg[j];
  let c = t - u.start[j];
  if (c >= sg.w) { return; }
  var s = load(sg.x, c);
  for (var m = sg.y; m < sg.y + sg.z; m = m + 1) {
    let tm = u.term[m];
    s = s + abs(exact(load(tm.x, c) * load(tm.y, c)));
  }
  store(sg.x, c, s);
}`;
  });
}

/** Adds every term into its accumulator, in order, in as few dispatches as the bindings allow. */
export function accumulateGateScores(terms: readonly GateTerm[]): void {
  let tensors: tf.TensorInfo[] = [];
  let segments: Segment[] = [];
  let termCount = 0;
  const flush = (): void => {
    if (segments.length === 0) return;
    const seg: number[][] = [];
    const term: number[][] = [];
    const start: number[] = [];
    let total = 0;
    for (const sgm of segments) {
      seg.push([sgm.acc, term.length, sgm.terms.length, sgm.C]);
      start.push(total);
      total += sgm.C;
      for (const [g, d] of sgm.terms) term.push([g, d, 0, 0]);
    }
    while (seg.length < MAX_SEGMENTS) seg.push([0, 0, 0, 0]);
    while (start.length < 4) start.push(total);
    while (term.length < MAX_TERMS) term.push([0, 0, 0, 0]);
    const uniforms: ProgramUniform = [
      { type: 'int32', data: [segments.length, 0, 0, 0] },
      ...seg.map((d) => ({ type: 'int32' as const, data: d })),
      { type: 'int32', data: start },
      ...term.map((d) => ({ type: 'int32' as const, data: d })),
    ];
    rawDispatch(gateShader(tensors.length), tensors, uniforms, [Math.ceil(total / WG)]);
    tensors = [];
    segments = [];
    termCount = 0;
  };
  for (const tm of terms) {
    if (tm.gate.shape.length !== 1 || tm.grad.shape[0] !== tm.acc.shape[0] || tm.gate.shape[0] !== tm.acc.shape[0]) {
      throw new Error(`accumulateGateScores: gate ${tm.gate.shape}, gradient ${tm.grad.shape}, accumulator ${tm.acc.shape}`);
    }
    const last = segments.at(-1);
    const sameFamily = last !== undefined && tensors[last.acc] === tm.acc;
    const need = sameFamily ? 2 : 3;
    if (tensors.length + need > MAX_STORAGE_BUFFERS || termCount >= MAX_TERMS || (!sameFamily && segments.length >= MAX_SEGMENTS)) flush();
    const bind = (t: tf.TensorInfo): number => tensors.push(t) - 1;
    let sgm = segments.at(-1);
    if (!sgm || tensors[sgm.acc] !== tm.acc) {
      // Written in place: a clone of the accumulator (a score tensor) keeps its values.
      makeExclusive(tm.acc, (x) => tf.add(x, 0));
      sgm = { acc: bind(tm.acc), terms: [], C: tm.acc.shape[0] };
      segments.push(sgm);
    }
    sgm.terms.push([bind(tm.gate), bind(tm.grad)]);
    termCount++;
  }
  flush();
}
