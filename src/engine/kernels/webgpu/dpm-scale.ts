import * as tf from '@tensorflow/tfjs';
import { MAX_STORAGE_BUFFERS, MAX_WORKGROUPS_PER_DIMENSION, type ProgramUniform } from './backend-internals';
import { cachedShader, makeExclusive, rawDispatch, tensorBindings, tensorCases, type RawShader } from './raw';

/**
 * The last pass of the batched DPM hooks: every scaled tensor, viewed as [S, I, O], is
 * multiplied in place by scale_I[i] * scale_O[o], the scales of the families owning its two
 * channel axes (read from a vector of scales; -1: no family there, or one left alone). A conv
 * shared by two families gets both scales in one write. Up to 7 tensors per dispatch.
 */
export interface ScaleTarget {
  v: tf.Variable;
  IO: number;
  O: number;
  /** Offsets of the I-axis and O-axis scales in the scales vector, -1 for none. */
  sI: number;
  sO: number;
}

/** One binding is the scratch (reduce) or the scales (scale) vector. */
const MAX_TENSORS = MAX_STORAGE_BUFFERS - 1;
const WG = 64;

function scaleShader(k: number): RawShader {
  return cachedShader(`dpm-scale-${k}`, () => {
    const bindings = tensorBindings(k, 'read_write');
    const cases = tensorCases(k, (i) => `t${i}[i] = t${i}[i] * s;`);
    return `
struct U { head: vec4<i32>, e: array<vec4<i32>, ${2 * MAX_TENSORS}> };
${bindings}
@group(0) @binding(${k}) var<storage, read> sc: array<f32>;
@group(0) @binding(${k + 1}) var<uniform> u: U;
fn scaleAt(t: i32, i: i32, s: f32) {
  switch t {
${cases}
    default: {}
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
      if (t < u.e[2 * (j + 1)].w) { break; }
      j = j + 1;
    }
    let d = u.e[2 * j];
    let e = t - d.w;
    let q = e % d.y;
    var s = 1.0;
    let sI = u.e[2 * j + 1].x;
    let sO = u.e[2 * j + 1].y;
    if (sI >= 0) { s = s * sc[sI + q / d.z]; }
    if (sO >= 0) { s = s * sc[sO + q % d.z]; }
    scaleAt(j, e, s);
  }
}`;
  });
}

/** Scales every target in place, 7 to a dispatch; a target sharing its buffer is un-shared first. */
export function runScale(targets: readonly ScaleTarget[], scales: tf.TensorInfo): void {
  for (let g = 0; g < targets.length; g += MAX_TENSORS) {
    const group = targets.slice(g, g + MAX_TENSORS);
    const e: number[][] = [];
    let start = 0;
    for (const t of group) {
      makeExclusive(t.v, (x) => tf.add(x, 0));
      e.push([t.v.size, t.IO, t.O, start], [t.sI, t.sO, 0, 0]);
      start += t.v.size;
    }
    while (e.length < 2 * MAX_TENSORS) e.push([0, 0, 0, 0]);
    const uniforms: ProgramUniform = [{ type: 'int32', data: [start, group.length, 0, 0] }, ...e.map((d) => ({ type: 'int32' as const, data: d }))];
    rawDispatch(scaleShader(group.length), [...group.map((t) => t.v), scales], uniforms, [Math.min(MAX_WORKGROUPS_PER_DIMENSION, Math.ceil(start / WG))]);
  }
}
