import * as tf from '@tensorflow/tfjs';
import { makeEvalBatch } from '../data/batches';
import type { ImageSplit } from '../data/types';
import { forward, type Model } from '../models/graph';
import { yieldToEventLoop } from './control';

export interface EvalResult {
  loss: number;
  acc: number;
}

/**
 * Mean cross-entropy and accuracy over a split, in eval mode (BN running statistics). Sums stay
 * on the device and are read once at the end, so evaluation costs one GPU->CPU sync.
 */
export async function evaluate(
  model: Model,
  split: ImageSplit,
  batchSize: number,
  onProgress?: (fraction: number) => void,
): Promise<EvalResult> {
  if (split.count === 0) return { loss: NaN, acc: NaN };
  let lossSum = tf.scalar(0);
  let correct = tf.scalar(0);
  for (let start = 0; start < split.count; start += batchSize) {
    const end = Math.min(split.count, start + batchSize);
    const next = tf.tidy(() => {
      const { x, y } = makeEvalBatch(split, start, end);
      const logits = forward(model, x, false);
      const l = tf.losses.softmaxCrossEntropy(tf.oneHot(y, logits.shape[1]), logits, undefined, undefined, tf.Reduction.SUM);
      const c = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
      return [tf.add(lossSum, l) as tf.Scalar, tf.add(correct, c) as tf.Scalar];
    });
    lossSum.dispose();
    correct.dispose();
    [lossSum, correct] = next;
    onProgress?.(end / split.count);
    // Let the worker's message queue breathe between batches (pause/stop stay responsive).
    await yieldToEventLoop();
  }
  const [l, c] = await Promise.all([lossSum.data(), correct.data()]);
  lossSum.dispose();
  correct.dispose();
  return { loss: l[0] / split.count, acc: c[0] / split.count };
}
