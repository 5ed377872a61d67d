import * as tf from '@tensorflow/tfjs';
import { rawDispatch, rawOutput, type RawShader } from './raw';

const WORKGROUP = 256;

const SHADER: RawShader = {
  key: 'softmax-xent-correct',
  code: `
struct U { n: u32, c: u32 };
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> correct: array<f32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<uniform> u: U;

var<workgroup> lossParts: array<f32, ${WORKGROUP}>;
var<workgroup> hitParts: array<u32, ${WORKGROUP}>;

// One workgroup: the batch is small (rows x classes), and one group can finish the mean.
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) t: u32) {
  var lossSum = 0.0;
  var hits = 0u;
  for (var r = t; r < u.n; r = r + ${WORKGROUP}u) {
    let base = r * u.c;
    var m = logits[base];
    var best = 0u;
    for (var j = 1u; j < u.c; j = j + 1u) {
      let x = logits[base + j];
      if (x > m) { m = x; best = j; }
    }
    var s = 0.0;
    for (var j = 0u; j < u.c; j = j + 1u) { s = s + exp(logits[base + j] - m); }
    let lse = m + log(s);
    let y = labels[r];
    for (var j = 0u; j < u.c; j = j + 1u) {
      dlogits[base + j] = exp(logits[base + j] - lse) - select(0.0, 1.0, i32(j) == y);
    }
    if (y >= 0 && u32(y) < u.c) {
      lossSum = lossSum + (lse - logits[base + u32(y)]);
      hits = hits + select(0u, 1u, best == u32(y));
    }
  }
  lossParts[t] = lossSum;
  hitParts[t] = hits;
  workgroupBarrier();
  for (var half = ${WORKGROUP / 2}u; half > 0u; half = half / 2u) {
    if (t < half) {
      lossParts[t] = lossParts[t] + lossParts[t + half];
      hitParts[t] = hitParts[t] + hitParts[t + half];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    loss[0] = lossParts[0] / f32(u.n);
    correct[0] = f32(hitParts[0]);
  }
}`,
};

/** dx = (dy / N) * dlogits: tfjs's mean reaches each row as dy / N (its RealDiv alone would be a dispatch). */
const BACKWARD: RawShader = {
  key: 'softmax-xent-grad',
  code: `
struct U { size: u32, n: u32 };
@group(0) @binding(0) var<storage, read> dlogits: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> u: U;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < u.size) { dx[gid.x] = (dy[0] / f32(u.n)) * dlogits[gid.x]; }
}`,
};

/** tfjs's argMax switches to a strided rule (other ties) from 32 classes on; we follow the plain one. */
export const FUSED_LOSS_MAX_CLASSES = 31;

/**
 * Mean softmax cross-entropy of `logits` [N, C] against int32 class `labels` [N], and the number
 * of rows classified correctly: the training step's loss and accuracy in one dispatch, and the
 * loss's gradient in one more (stock tfjs: ~23 dispatches for logSumExp, the one-hot product,
 * two sums, argMax, equal, sum, and a backward pass through exp, sub and mul for the labels
 * as well as the logits). The loss is differentiable with respect to the logits; `correct` is
 * not. The caller disposes both.
 *
 * Computes what `tf.losses.softmaxCrossEntropy(tf.oneHot(labels, C), logits)` does (default
 * reduction: the mean over rows) with the same per-element f32 operations:
 *   m_i = max_j x_ij,  lse_i = m_i + log(sum_j exp(x_ij - m_i)),
 *   loss = (sum_i (lse_i - x_i,y_i)) / N         (a label outside [0, C) contributes 0),
 *   dloss/dx_ij = (dy / N) * (exp(x_ij - lse_i) - [j == y_i]),
 * and `correct` = sum_i [argmax_j x_ij == y_i] with the first maximum winning a tie, as tfjs's
 * plain argMax program (used below 32 classes) decides. The sums over classes and rows run in
 * another order than tfjs's reduction programs, so loss and gradient agree with stock within
 * float rounding, not bit for bit; `correct` is exact.
 */
export function softmaxCrossEntropyAndCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): { loss: tf.Scalar; correct: tf.Scalar } {
  const [n, c] = logits.shape;
  if (labels.dtype !== 'int32' || labels.shape[0] !== n || c > FUSED_LOSS_MAX_CLASSES || n === 0) {
    throw new Error(`softmaxCrossEntropyAndCorrect: logits ${logits.shape}, labels ${labels.shape} ${labels.dtype}`);
  }
  let correct: tf.Scalar | null = null;
  const lossOf = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const outs = [rawOutput([]), rawOutput([]), rawOutput([n, c])];
    rawDispatch(SHADER, [x, labels, ...outs], [{ type: 'uint32', data: [n] }, { type: 'uint32', data: [c] }], [1]);
    const [loss, hits, dlogits] = outs.map((o) => tf.engine().makeTensorFromTensorInfo(o));
    correct = tf.keep(hits as tf.Scalar);
    save([dlogits]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
      const dx = rawOutput([n, c]);
      rawDispatch(BACKWARD, [saved[0], dy, dx], [{ type: 'uint32', data: [n * c] }, { type: 'uint32', data: [n] }], [Math.ceil((n * c) / WORKGROUP)]);
      return tf.engine().makeTensorFromTensorInfo(dx);
    };
    return { value: loss, gradFunc };
  });
  const loss = lossOf(logits) as tf.Scalar;
  return { loss, correct: correct as unknown as tf.Scalar };
}
