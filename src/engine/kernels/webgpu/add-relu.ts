import * as tf from '@tensorflow/tfjs';
import { requireWebGpu } from './backend-internals';
import { rawDispatch, rawOutput, type RawShader } from './raw';
import { workgroupGrid } from './sgd';

/**
 * relu(a + b), the residual join of a ResNet block, in one dispatch forward and one backward
 * (stock tfjs: Add, Relu; Step, Multiply). Bit-for-bit tfjs's result: the same f32 add, tfjs's
 * relu `select(s, 0, s < 0)` (NaN and -0 pass through), and its gradient dy * step(s), where
 * step(s) = 1 for s > 0, NaN for NaN, else 0; the output has the same sign and NaN-ness as s,
 * so the backward pass reads the output instead of keeping s. Both inputs get that gradient, as
 * they do from tfjs's Add.
 */
// workgroupGrid's size.
const WORKGROUP = 256;

const FORWARD: RawShader = {
  key: 'add-relu',
  code: `
struct U { size: u32 };
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> u: U;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (i >= u.size) { return; }
  let s = a[i] + b[i];
  y[i] = select(s, 0.0, s < 0.0);
}`,
};

const BACKWARD: RawShader = {
  key: 'add-relu-grad',
  code: `
struct U { size: u32 };
@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> u: U;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (i >= u.size) { return; }
  let s = y[i];
  var step = select(0.0, 1.0, s > 0.0);
  if (s != s) { step = s; }
  dx[i] = dy[i] * step;
}`,
};

/** relu(a + b) for two float32 tensors of one shape (no broadcasting). */
export function addRelu<T extends tf.Tensor>(a: T, b: T): T {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`addRelu: ${a.dtype}${JSON.stringify(a.shape)} + ${b.dtype}${JSON.stringify(b.shape)}`);
  }
  const size = a.size;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, z, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const out = rawOutput(x.shape);
    rawDispatch(FORWARD, [x, z, out], [{ type: 'uint32', data: [size] }], workgroupGrid(size, requireWebGpu().device.limits.maxComputeWorkgroupsPerDimension));
    const y = tf.engine().makeTensorFromTensorInfo(out);
    save([y]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const dx = rawOutput(x.shape);
      rawDispatch(BACKWARD, [saved[0], dy, dx], [{ type: 'uint32', data: [size] }], workgroupGrid(size, requireWebGpu().device.limits.maxComputeWorkgroupsPerDimension));
      const g = tf.engine().makeTensorFromTensorInfo(dx);
      // One gradient for both inputs, as tfjs's Add gives; the second is a free clone.
      return [g, tf.clone(g)];
    };
    return { value: y, gradFunc };
  });
  return op(a, b) as T;
}
