import { describe, expect, it } from 'vitest';
import { SYNTHETIC_CLASS_NAMES, syntheticDataset } from './synthetic';
import { IMAGE_BYTES, NUM_CLASSES } from './types';

describe('syntheticDataset', () => {
  it('gives the same bytes for the same seed and different bytes for another', () => {
    const a = syntheticDataset({ trainSize: 200, testSize: 50, seed: 5 });
    const b = syntheticDataset({ trainSize: 200, testSize: 50, seed: 5 });
    const c = syntheticDataset({ trainSize: 200, testSize: 50, seed: 6 });
    expect(Buffer.compare(a.train.images, b.train.images)).toBe(0);
    expect(Buffer.compare(a.test.images, b.test.images)).toBe(0);
    expect([...a.train.labels]).toEqual([...b.train.labels]);
    expect(Buffer.compare(a.train.images, c.train.images)).not.toBe(0);
    // Train and test are independent streams, not copies.
    expect(Buffer.compare(a.train.images.subarray(0, 50 * IMAGE_BYTES), a.test.images)).not.toBe(0);
  });

  it('has balanced classes, sizes, names and a default test size', () => {
    const d = syntheticDataset({ trainSize: 500, seed: 1 });
    expect(d.name).toBe('synthetic');
    expect(d.classNames).toEqual([...SYNTHETIC_CLASS_NAMES]);
    expect(d.classNames).toHaveLength(NUM_CLASSES);
    expect(d.train.count).toBe(500);
    expect(d.test.count).toBe(100);
    expect(d.train.images.length).toBe(500 * IMAGE_BYTES);
    const counts = new Array(NUM_CLASSES).fill(0);
    for (const l of d.train.labels) counts[l]++;
    expect(counts).toEqual(new Array(NUM_CLASSES).fill(50));
    // Shuffled, not in class order.
    expect([...d.train.labels.subarray(0, 10)]).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('paired classes differ in stripe orientation, not in mean colour', () => {
    // stripes-h (0) vs stripes-v (1): similar mean colour; vertical neighbours differ less for h.
    const d = syntheticDataset({ trainSize: 400, seed: 2 });
    const stats = [0, 1].map((cls) => {
      let mean = 0;
      let dV = 0;
      let dH = 0;
      let n = 0;
      for (let i = 0; i < d.train.count; i++) {
        if (d.train.labels[i] !== cls) continue;
        n++;
        const img = d.train.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES);
        for (let y = 0; y < 31; y++) {
          for (let x = 0; x < 31; x++) {
            const p = (y * 32 + x) * 3 + 1;
            mean += img[p];
            dV += Math.abs(img[p] - img[p + 96]);
            dH += Math.abs(img[p] - img[p + 3]);
          }
        }
      }
      return { mean: mean / n / 961, ratio: dV / dH };
    });
    expect(Math.abs(stats[0].mean - stats[1].mean)).toBeLessThan(15);
    expect(stats[0].ratio).toBeGreaterThan(1.3); // horizontal stripes: change along y
    expect(stats[1].ratio).toBeLessThan(1 / 1.3);
  });
});
