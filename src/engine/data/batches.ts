import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from './rng';
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_SIZE, type ImageSplit } from './types';

/**
 * Mini-batches for training and evaluation. The CPU only gathers uint8 rows and draws the
 * augmentation parameters from the seeded rng (so a seed fixes the run); casting,
 * normalisation, zero padding, cropping and flipping run as tensor ops on the device.
 *
 * x: float32 [n, 32, 32, 3], normalised per channel with the CIFAR-10 mean/std.
 * y: int32 [n] class indices (use tf.oneHot(y, 10) where a one-hot target is needed).
 */

/** Per-channel statistics of the CIFAR-10 training set, in [0, 1] pixel units. */
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465] as const;
export const CIFAR10_STD = [0.247, 0.2435, 0.2616] as const;
/** Zero padding on each side before the random 32x32 crop (the standard CIFAR recipe). */
export const AUGMENT_PAD = 4;

export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

/** A random permutation of 0..count-1: from a seed, or drawn from an existing rng. */
export function epochOrder(count: number, seedOrRng: number | Rng): Int32Array {
  const rng = typeof seedOrRng === 'number' ? createRng(seedOrRng) : seedOrRng;
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return rng.shuffle(order);
}

/** Copies the chosen records into one contiguous buffer (3 KB per image) and their labels. */
export function gatherRows(split: ImageSplit, indices: ArrayLike<number>): { pixels: Uint8Array; labels: Int32Array } {
  const n = indices.length;
  const pixels = new Uint8Array(n * IMAGE_BYTES);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = indices[i];
    if (!(r >= 0 && r < split.count)) throw new RangeError(`record index ${r} is outside 0..${split.count - 1}`);
    pixels.set(split.images.subarray(r * IMAGE_BYTES, (r + 1) * IMAGE_BYTES), i * IMAGE_BYTES);
    labels[i] = split.labels[r];
  }
  return { pixels, labels };
}

/** Per-image crop offsets (0..2*pad, into the padded image) and horizontal flips. */
export interface AugmentPlan {
  dy: Int32Array;
  dx: Int32Array;
  flip: Uint8Array;
}

/** Draws the plan in a fixed order (dy, dx, flip per image), so equal rng states give equal batches. */
export function drawAugmentation(n: number, rng: Rng, pad = AUGMENT_PAD): AugmentPlan {
  const dy = new Int32Array(n);
  const dx = new Int32Array(n);
  const flip = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    dy[i] = rng.int(2 * pad + 1);
    dx[i] = rng.int(2 * pad + 1);
    flip[i] = rng.next() < 0.5 ? 1 : 0;
  }
  return { dy, dx, flip };
}

/**
 * Zero-pads by `pad`, then takes each image's 32x32 window at (dy, dx), mirrored left-right
 * where flip is set, all in one cropAndResize: 'nearest' sampling with a 31-pixel box span
 * lands exactly on pixel centres, and a box with x1 > x2 is read mirrored.
 * Works on raw 0..255 pixels, so the padding is black as in the usual CIFAR recipe.
 */
export function augmentOnDevice(x: tf.Tensor4D, plan: AugmentPlan, pad = AUGMENT_PAD): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w] = x.shape;
    const padded = tf.pad(x, [
      [0, 0],
      [pad, pad],
      [pad, pad],
      [0, 0],
    ]);
    const ph = h + 2 * pad - 1;
    const pw = w + 2 * pad - 1;
    const boxes = new Float32Array(n * 4);
    const boxInd = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const y1 = plan.dy[i] / ph;
      const y2 = (plan.dy[i] + h - 1) / ph;
      const xa = plan.dx[i] / pw;
      const xb = (plan.dx[i] + w - 1) / pw;
      boxes.set(plan.flip[i] ? [y1, xb, y2, xa] : [y1, xa, y2, xb], i * 4);
      boxInd[i] = i;
    }
    return tf.image.cropAndResize(padded, tf.tensor2d(boxes, [n, 4]), tf.tensor1d(boxInd, 'int32'), [h, w], 'nearest', 0);
  });
}

/** (x / 255 - mean) / std per channel, as one multiply and one subtract. */
export function normalise(raw: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const scale = tf.tensor1d(CIFAR10_STD.map((s) => 1 / (255 * s)));
    const shift = tf.tensor1d(CIFAR10_MEAN.map((m, c) => m / CIFAR10_STD[c]));
    return tf.sub(tf.mul(raw, scale), shift);
  });
}

/** Uploads gathered rows as a float32 [n, 32, 32, 3] tensor of 0..255 values. */
function upload(pixels: Uint8Array, n: number): tf.Tensor4D {
  // tfjs has no uint8 dtype, so some widening is unavoidable; doing it here spares a cast kernel.
  return tf.tensor4d(Float32Array.from(pixels), [n, IMAGE_SIZE, IMAGE_SIZE, IMAGE_CHANNELS], 'float32');
}

export interface BatchOptions {
  augment: boolean;
  /** Required when augment is true: crop offsets and flips are drawn from it. */
  rng?: Rng;
}

/** A training batch of the given records. The caller disposes x and y. */
export function makeBatch(split: ImageSplit, indices: ArrayLike<number>, opts: BatchOptions): Batch {
  const n = indices.length;
  if (n === 0) throw new RangeError('makeBatch needs at least one index');
  const { pixels, labels } = gatherRows(split, indices);
  let plan: AugmentPlan | null = null;
  if (opts.augment) {
    if (!opts.rng) throw new Error('makeBatch: augment needs an rng (the run must stay reproducible)');
    plan = drawAugmentation(n, opts.rng);
  }
  return tf.tidy(() => {
    const raw = upload(pixels, n);
    const x = normalise(plan ? augmentOnDevice(raw, plan) : raw);
    return { x, y: tf.tensor1d(labels, 'int32') };
  });
}

/** Records [start, end) in order, without augmentation. The caller disposes x and y. */
export function makeEvalBatch(split: ImageSplit, start: number, end: number): Batch {
  const s = Math.max(0, start);
  const e = Math.min(split.count, end);
  if (e <= s) throw new RangeError(`empty evaluation range [${start}, ${end}) of ${split.count} records`);
  const indices = new Int32Array(e - s);
  for (let i = 0; i < indices.length; i++) indices[i] = s + i;
  return makeBatch(split, indices, { augment: false });
}

/** Fixed-order evaluation batches over the first `limit` records (default all). Dispose each batch. */
export function* evalBatches(
  split: ImageSplit,
  batchSize: number,
  limit = split.count,
): Generator<Batch & { start: number; end: number }> {
  const total = Math.min(limit, split.count);
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(total, start + batchSize);
    yield { ...makeEvalBatch(split, start, end), start, end };
  }
}
