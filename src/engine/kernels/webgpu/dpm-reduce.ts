import * as tf from '@tensorflow/tfjs';
import { MAX_STORAGE_BUFFERS, MAX_WORKGROUPS_PER_DIMENSION, type ProgramUniform } from './backend-internals';
import { cachedShader, rawDispatch, tensorBindings, tensorCases, type RawShader } from './raw';

/**
 * Pass 1 of the batched DPM hooks: for many tensors at once, Q[q] = sum over s < S of
 * a[s*IO + q] * b[s*IO + q] (a tensor viewed as [S, IO]), written into one shared scratch
 * vector at each entry's offset. a = b gives a slot's squares (weights, gradients); a = x*,
 * b = the snapshot gives OTOv2's per-entry dot product. One dispatch serves up to 7 tensors
 * (WebGPU's default 8 storage buffers per stage, one of them the scratch) and 16 entries.
 */
export interface ReduceEntry {
  /** The tensors multiplied; null for an entry that must read as zero (a missing gradient). */
  a: tf.TensorInfo | null;
  b: tf.TensorInfo | null;
  S: number;
  IO: number;
  /** Where Q starts in the scratch vector. */
  out: number;
}

/** One binding is the scratch (reduce) or the scales (scale) vector. */
const MAX_TENSORS = MAX_STORAGE_BUFFERS - 1;
const MAX_ENTRIES = 16;
const WG = 64;

function reduceShader(k: number): RawShader {
  return cachedShader(`dpm-reduce-${k}`, () => {
    const bindings = tensorBindings(k, 'read');
    const cases = tensorCases(k, (i) => `return t${i}[i];`);
    return `
struct U { head: vec4<i32>, e: array<vec4<i32>, ${2 * MAX_ENTRIES}> };
${bindings}
@group(0) @binding(${k}) var<storage, read_write> sc: array<f32>;
@group(0) @binding(${k + 1}) var<uniform> u: U;
fn load(t: i32, i: i32) -> f32 {
  switch t {
${cases}
    default: { return 0.0; }
  }
}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = u.head.x;
  let n = u.head.y;
  let stride = i32(nwg.x) * ${WG};
  for (var t = i32(gid.x); t < total; t = t + stride) {
    var j = 0;
    loop {
      if (j + 1 >= n) { break; }
      if (t < u.e[2 * (j + 1) + 1].y) { break; }
      j = j + 1;
    }
    let d = u.e[2 * j];
    let a = d.x;
    let b = d.y;
    let S = d.z;
    let IO = d.w;
    let q = t - u.e[2 * j + 1].y;
    var acc = 0.0;
    if (a >= 0) {
      for (var s = 0; s < S; s = s + 1) {
        let i = s * IO + q;
        acc = acc + load(a, i) * load(b, i);
      }
    }
    sc[u.e[2 * j + 1].x + q] = acc;
  }
}`;
  });
}

/** Runs every entry, as few dispatches as the binding limit allows (entries sharing a tensor share its binding). */
export function runReduce(entries: readonly ReduceEntry[], scratch: tf.TensorInfo): void {
  let tensors: tf.TensorInfo[] = [];
  let rows: { a: number; b: number; S: number; IO: number; out: number }[] = [];
  const flush = (): void => {
    if (rows.length === 0) return;
    let start = 0;
    const uniforms: ProgramUniform = [];
    const e: number[][] = [];
    for (const r of rows) {
      e.push([r.a, r.b, r.S, r.IO], [r.out, start, 0, 0]);
      start += r.IO;
    }
    while (e.length < 2 * MAX_ENTRIES) e.push([0, 0, 0, 0]);
    uniforms.push({ type: 'int32', data: [start, rows.length, 0, 0] });
    for (const d of e) uniforms.push({ type: 'int32', data: d });
    // Entries that read as zero bind nothing, but the shader declares at least one input.
    const dummy = tensors.length ? null : tf.zeros([1]);
    rawDispatch(reduceShader(Math.max(1, tensors.length)), [...(dummy ? [dummy] : tensors), scratch], uniforms, [Math.min(MAX_WORKGROUPS_PER_DIMENSION, Math.ceil(start / WG))]);
    dummy?.dispose();
    tensors = [];
    rows = [];
  };
  for (const en of entries) {
    const need = [en.a, en.b].filter((t, i, all): t is tf.TensorInfo => t !== null && !tensors.includes(t) && all.indexOf(t) === i);
    if (tensors.length + need.length > MAX_TENSORS || rows.length >= MAX_ENTRIES) flush();
    const idx = (t: tf.TensorInfo | null): number => {
      if (!t) return -1;
      let i = tensors.indexOf(t);
      if (i < 0) i = tensors.push(t) - 1;
      return i;
    };
    rows.push({ a: idx(en.a), b: idx(en.b), S: en.S, IO: en.IO, out: en.out });
  }
  flush();
}
