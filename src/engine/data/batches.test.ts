import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUGMENT_PAD,
  CIFAR10_MEAN,
  CIFAR10_STD,
  augmentOnDevice,
  drawAugmentation,
  epochOrder,
  evalBatches,
  makeBatch,
  makeEvalBatch,
  type AugmentPlan,
} from './batches';
import { createRng } from './rng';
import { syntheticDataset } from './synthetic';
import { IMAGE_BYTES, type ImageSplit } from './types';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const data = syntheticDataset({ trainSize: 64, testSize: 23, seed: 4 });

/** The crop/flip the device should do, computed directly on the uint8 image. */
function cpuAugment(img: Uint8Array, dy: number, dx: number, flip: boolean): Float32Array {
  const out = new Float32Array(IMAGE_BYTES);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const sx = (flip ? 31 - x : x) + dx - AUGMENT_PAD;
      const sy = y + dy - AUGMENT_PAD;
      if (sx < 0 || sx > 31 || sy < 0 || sy > 31) continue;
      for (let c = 0; c < 3; c++) out[(y * 32 + x) * 3 + c] = img[(sy * 32 + sx) * 3 + c];
    }
  }
  return out;
}

const denormalise = (v: number, c: number) => (v * CIFAR10_STD[c] + CIFAR10_MEAN[c]) * 255;

function imageOf(split: ImageSplit, i: number): Uint8Array {
  return split.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES);
}

describe('epochOrder', () => {
  it('is a seeded permutation', () => {
    const a = epochOrder(50, 3);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...epochOrder(50, 3)]).toEqual([...a]);
    expect([...epochOrder(50, createRng(4))]).not.toEqual([...a]);
  });
});

describe('augmentOnDevice', () => {
  // Every pixel distinct, so any misplaced read shows.
  const img = Uint8Array.from({ length: IMAGE_BYTES }, (_, i) => 1 + (Math.floor(i / 3) % 250));
  const run = (plan: AugmentPlan) =>
    tf.tidy(() => augmentOnDevice(tf.tensor4d(Float32Array.from(img), [1, 32, 32, 3]), plan).dataSync().slice());

  it('is the identity at the centre offset without flip', () => {
    const out = run({ dy: Int32Array.of(4), dx: Int32Array.of(4), flip: Uint8Array.of(0) });
    expect(Array.from(out)).toEqual(Array.from(img));
  });

  it('mirrors left-right when flipped', () => {
    const out = run({ dy: Int32Array.of(4), dx: Int32Array.of(4), flip: Uint8Array.of(1) });
    for (const [y, x] of [
      [0, 0],
      [5, 3],
      [31, 31],
    ]) {
      expect(out[(y * 32 + x) * 3]).toBe(img[(y * 32 + (31 - x)) * 3]);
    }
  });

  it('shifts with zero padding at the corner offsets', () => {
    const out = run({ dy: Int32Array.of(0), dx: Int32Array.of(8), flip: Uint8Array.of(0) });
    // Output row y reads input row y-4; output column x reads input column x+4.
    expect(out[(0 * 32 + 10) * 3]).toBe(0);
    expect(out[(4 * 32 + 0) * 3]).toBe(img[(0 * 32 + 4) * 3]);
    expect(out[(10 * 32 + 27) * 3 + 2]).toBe(img[(6 * 32 + 31) * 3 + 2]);
    expect(out[(10 * 32 + 28) * 3]).toBe(0);
  });

  it('matches a direct CPU crop for random plans over a batch', () => {
    const n = 12;
    const plan = drawAugmentation(n, createRng(11));
    const x = tf.tensor4d(Float32Array.from(data.train.images.subarray(0, n * IMAGE_BYTES)), [n, 32, 32, 3]);
    const out = augmentOnDevice(x, plan).dataSync();
    x.dispose();
    for (let i = 0; i < n; i++) {
      const want = cpuAugment(imageOf(data.train, i), plan.dy[i], plan.dx[i], plan.flip[i] === 1);
      expect(Array.from(out.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES))).toEqual(Array.from(want));
    }
    expect(new Set(plan.flip).size).toBe(2);
  });
});

describe('makeBatch', () => {
  it('gives normalised float32 NHWC images and int32 labels', () => {
    const idx = Int32Array.of(5, 0, 63, 17);
    const { x, y } = makeBatch(data.train, idx, { augment: false });
    expect(x.shape).toEqual([4, 32, 32, 3]);
    expect(x.dtype).toBe('float32');
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual([...idx].map((i) => data.train.labels[i]));
    const xs = x.dataSync();
    for (let c = 0; c < 3; c++) {
      expect(denormalise(xs[c + 3 * 7], c)).toBeCloseTo(data.train.images[5 * IMAGE_BYTES + 3 * 7 + c], 3);
      expect(denormalise(xs[2 * IMAGE_BYTES + c], c)).toBeCloseTo(data.train.images[63 * IMAGE_BYTES + c], 3);
    }
    const lo = Math.min(...CIFAR10_MEAN.map((m, c) => -m / CIFAR10_STD[c]));
    const hi = Math.max(...CIFAR10_MEAN.map((m, c) => (1 - m) / CIFAR10_STD[c]));
    expect(tf.min(x).dataSync()[0]).toBeGreaterThanOrEqual(lo - 1e-5);
    expect(tf.max(x).dataSync()[0]).toBeLessThanOrEqual(hi + 1e-5);
    tf.dispose([x, y]);
  });

  it('augments deterministically from the rng, exactly as the drawn plan says', () => {
    const idx = Int32Array.from({ length: 16 }, (_, i) => i * 3);
    const a = makeBatch(data.train, idx, { augment: true, rng: createRng(21) });
    const b = makeBatch(data.train, idx, { augment: true, rng: createRng(21) });
    const c = makeBatch(data.train, idx, { augment: true, rng: createRng(22) });
    const av = a.x.dataSync();
    expect(Array.from(b.x.dataSync())).toEqual(Array.from(av));
    expect(Array.from(c.x.dataSync())).not.toEqual(Array.from(av));
    const plan = drawAugmentation(16, createRng(21));
    for (const i of [0, 7, 15]) {
      const want = cpuAugment(imageOf(data.train, idx[i]), plan.dy[i], plan.dx[i], plan.flip[i] === 1);
      for (let p = 0; p < IMAGE_BYTES; p += 97) {
        expect(denormalise(av[i * IMAGE_BYTES + p], p % 3)).toBeCloseTo(want[p], 3);
      }
    }
    tf.dispose([a.x, a.y, b.x, b.y, c.x, c.y]);
  });

  it('needs an rng to augment and refuses bad indices', () => {
    expect(() => makeBatch(data.train, [0], { augment: true })).toThrow(/rng/);
    expect(() => makeBatch(data.train, [64], { augment: false })).toThrow(RangeError);
  });

  it('leaves no tensors behind across 20 batches', () => {
    const rng = createRng(1);
    const order = epochOrder(data.train.count, rng);
    const warm = makeBatch(data.train, order.subarray(0, 8), { augment: true, rng });
    tf.dispose([warm.x, warm.y]);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 20; s++) {
      const { x, y } = makeBatch(data.train, order.subarray((s * 8) % 56, ((s * 8) % 56) + 8), { augment: true, rng });
      tf.dispose([x, y]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('evaluation batches', () => {
  it('cover every record once, in order, unaugmented', () => {
    const seen: number[] = [];
    for (const { x, y, start, end } of evalBatches(data.test, 10)) {
      expect(x.shape[0]).toBe(end - start);
      seen.push(...y.dataSync());
      tf.dispose([x, y]);
    }
    expect(seen).toEqual([...data.test.labels]);
    const { x, y } = makeEvalBatch(data.test, 20, 99);
    expect(x.shape[0]).toBe(3);
    expect(denormalise(x.dataSync()[0], 0)).toBeCloseTo(data.test.images[20 * IMAGE_BYTES], 3);
    tf.dispose([x, y]);
  });
});
