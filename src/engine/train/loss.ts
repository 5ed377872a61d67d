import * as tf from '@tensorflow/tfjs';
import { fastWebGpu } from '../kernels/webgpu/install';
import { FUSED_LOSS_MAX_CLASSES, softmaxCrossEntropyAndCorrect } from '../kernels/webgpu/softmax-xent';

/**
 * The training loss (mean softmax cross-entropy against the labels, as PyTorch's
 * CrossEntropyLoss) and the number of correctly classified images. On WebGPU one fused
 * dispatch (see kernels/webgpu/softmax-xent); elsewhere tfjs's own ops.
 */
export function lossAndCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number): { loss: tf.Scalar; correct: tf.Scalar } {
  if (fastWebGpu() && labels.dtype === 'int32' && numClasses === logits.shape[1] && numClasses <= FUSED_LOSS_MAX_CLASSES && logits.shape[0] > 0) {
    return softmaxCrossEntropyAndCorrect(logits, labels);
  }
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
  const loss = tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, numClasses), logits) as tf.Scalar);
  return { loss, correct };
}
