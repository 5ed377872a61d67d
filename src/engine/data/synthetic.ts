import { createRng, deriveSeed, type Rng } from './rng';
import { IMAGE_BYTES, IMAGE_SIZE, NUM_CLASSES, type Dataset, type ImageSplit } from './types';

/**
 * The built-in data set: ten classes of 32x32 RGB textures, generated from a seed.
 *
 * Classes come in pairs that share a colour palette and a blob position and differ only in
 * stripe orientation (or checker vs rings). Every image has a random phase, so the mean
 * image of a class is nearly flat: a linear classifier on raw pixels can find the pair from
 * colour and blob but must guess within it (~50-60%), while a small CNN that learns oriented
 * filters separates all ten. Jitter, noise and occluding rectangles keep it from being trivial.
 */

type Pattern = 'h' | 'v' | 'diag' | 'anti' | 'checker' | 'rings';
type RGB = readonly [number, number, number];

interface ClassSpec {
  name: string;
  pattern: Pattern;
  /** Stripe cycles across the 32-pixel image. */
  cycles: number;
  palette: { bg: RGB; fg: RGB; blob: RGB };
  /** Blob centre in pixels. */
  blob: readonly [number, number];
}

const WARM = { bg: [90, 40, 30], fg: [230, 150, 60], blob: [250, 235, 120] } as const;
const COOL = { bg: [20, 50, 100], fg: [90, 170, 230], blob: [230, 240, 255] } as const;
const GREEN = { bg: [30, 80, 40], fg: [140, 210, 110], blob: [60, 40, 20] } as const;
const VIOLET = { bg: [60, 30, 90], fg: [190, 120, 220], blob: [255, 200, 230] } as const;
const SLATE = { bg: [70, 80, 85], fg: [170, 200, 190], blob: [200, 60, 60] } as const;

const CLASSES: readonly ClassSpec[] = [
  { name: 'stripes-h', pattern: 'h', cycles: 3, palette: WARM, blob: [9, 9] },
  { name: 'stripes-v', pattern: 'v', cycles: 3, palette: WARM, blob: [9, 9] },
  { name: 'stripes-diag', pattern: 'diag', cycles: 3, palette: COOL, blob: [9, 23] },
  { name: 'stripes-anti', pattern: 'anti', cycles: 3, palette: COOL, blob: [9, 23] },
  { name: 'fine-h', pattern: 'h', cycles: 6, palette: GREEN, blob: [23, 9] },
  { name: 'fine-v', pattern: 'v', cycles: 6, palette: GREEN, blob: [23, 9] },
  { name: 'fine-diag', pattern: 'diag', cycles: 6, palette: VIOLET, blob: [23, 23] },
  { name: 'fine-anti', pattern: 'anti', cycles: 6, palette: VIOLET, blob: [23, 23] },
  { name: 'checker', pattern: 'checker', cycles: 4, palette: SLATE, blob: [16, 16] },
  { name: 'rings', pattern: 'rings', cycles: 4, palette: SLATE, blob: [16, 16] },
];

export const SYNTHETIC_CLASS_NAMES: readonly string[] = CLASSES.map((c) => c.name);

const ANGLE: Record<'h' | 'v' | 'diag' | 'anti', number> = {
  h: Math.PI / 2, // wave varies along y: horizontal stripes
  v: 0,
  diag: Math.PI / 4,
  anti: (3 * Math.PI) / 4,
};

const clampByte = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v + 0.5) | 0;

function jitterColour(c: RGB, rng: Rng, amount: number, gain: number): [number, number, number] {
  return [
    (c[0] + (rng.next() - 0.5) * 2 * amount) * gain,
    (c[1] + (rng.next() - 0.5) * 2 * amount) * gain,
    (c[2] + (rng.next() - 0.5) * 2 * amount) * gain,
  ];
}

/** Draws one image of class `cls` into `out` at byte offset `at` (NHWC, 3072 bytes). */
export function renderSyntheticImage(cls: number, rng: Rng, out: Uint8Array, at: number): void {
  const spec = CLASSES[cls];
  const S = IMAGE_SIZE;
  const gain = 0.8 + 0.4 * rng.next();
  const bg = jitterColour(spec.palette.bg, rng, 30, gain);
  const fg = jitterColour(spec.palette.fg, rng, 30, gain);
  const blobC = jitterColour(spec.palette.blob, rng, 30, 1);
  const phase = rng.next() * 2 * Math.PI;
  const k = (2 * Math.PI * spec.cycles * (0.85 + 0.3 * rng.next())) / S;
  let cosA = 0;
  let sinA = 0;
  if (spec.pattern !== 'checker' && spec.pattern !== 'rings') {
    const a = ANGLE[spec.pattern] + (rng.next() - 0.5) * 0.35;
    cosA = Math.cos(a);
    sinA = Math.sin(a);
  }
  const ringX = 16 + (rng.next() - 0.5) * 12;
  const ringY = 16 + (rng.next() - 0.5) * 12;
  const bx = spec.blob[0] + (rng.next() - 0.5) * 10;
  const by = spec.blob[1] + (rng.next() - 0.5) * 10;
  const br = 3.5 + rng.next() * 3;
  const br2 = br * br;
  const contrast = 0.6 + 0.6 * rng.next();
  const noise = 10 + rng.next() * 20;
  const occlude = rng.next() < 0.5;
  const ow = occlude ? 6 + rng.int(9) : 0;
  const oh = occlude ? 6 + rng.int(9) : 0;
  const ox = occlude ? rng.int(S - ow + 1) : 0;
  const oy = occlude ? rng.int(S - oh + 1) : 0;
  const oc = occlude ? [rng.int(256), rng.int(256), rng.int(256)] : [0, 0, 0];

  // The plane wave is separable: sin(u + v) = sin u cos v + cos u sin v, with per-column
  // and per-row tables, so there is no trig per pixel except for rings.
  const sx = new Float64Array(S);
  const cx = new Float64Array(S);
  const sy = new Float64Array(S);
  const cy = new Float64Array(S);
  const checker = spec.pattern === 'checker';
  const rings = spec.pattern === 'rings';
  const kx = checker ? k : k * cosA;
  const ky = checker ? k : k * sinA;
  const yPhase = checker ? phase * 1.7 : 0;
  for (let i = 0; i < S; i++) {
    sx[i] = Math.sin(kx * i + phase);
    cx[i] = Math.cos(kx * i + phase);
    sy[i] = Math.sin(ky * i + yPhase);
    cy[i] = Math.cos(ky * i + yPhase);
  }

  let o = at;
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let r: number;
      let g: number;
      let b: number;
      if (occlude && x >= ox && x < ox + ow && y >= oy && y < oy + oh) {
        r = oc[0];
        g = oc[1];
        b = oc[2];
      } else {
        let s: number;
        if (checker) s = sx[x] * sy[y];
        else if (rings) s = Math.sin(k * Math.sqrt((x - ringX) * (x - ringX) + (y - ringY) * (y - ringY)) + phase);
        else s = sx[x] * cy[y] + cx[x] * sy[y];
        let v = 0.5 + contrast * s;
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        r = bg[0] + (fg[0] - bg[0]) * v;
        g = bg[1] + (fg[1] - bg[1]) * v;
        b = bg[2] + (fg[2] - bg[2]) * v;
        const dx = x - bx;
        const dy = y - by;
        const d2 = dx * dx + dy * dy;
        if (d2 < br2) {
          const alpha = 0.85 * (1 - (d2 / br2) * 0.5);
          r += (blobC[0] - r) * alpha;
          g += (blobC[1] - g) * alpha;
          b += (blobC[2] - b) * alpha;
        }
      }
      // One draw gives three 10-bit noise values: a third of the rng calls for the same noise.
      const bits = (rng.next() * 1073741824) | 0;
      out[o] = clampByte(r + ((bits & 1023) / 1024 - 0.5) * noise);
      out[o + 1] = clampByte(g + (((bits >>> 10) & 1023) / 1024 - 0.5) * noise);
      out[o + 2] = clampByte(b + ((bits >>> 20) / 1024 - 0.5) * noise);
      o += 3;
    }
  }
}

/** `count` images with exactly balanced classes (up to remainder) in a seeded random order. */
export function generateSyntheticSplit(count: number, seed: number): ImageSplit {
  const rng = createRng(seed);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % NUM_CLASSES;
  rng.shuffle(labels);
  const images = new Uint8Array(count * IMAGE_BYTES);
  for (let i = 0; i < count; i++) renderSyntheticImage(labels[i], rng, images, i * IMAGE_BYTES);
  return { images, labels, count };
}

export interface SyntheticOptions {
  trainSize: number;
  /** Defaults to a fifth of trainSize (at least 10). */
  testSize?: number;
  seed: number;
}

/** The built-in data set. Same seed, same bytes; train and test come from independent streams. */
export function syntheticDataset(opts: SyntheticOptions): Dataset {
  const testSize = opts.testSize ?? Math.max(NUM_CLASSES, Math.round(opts.trainSize / 5));
  return {
    name: 'synthetic',
    classNames: [...SYNTHETIC_CLASS_NAMES],
    train: generateSyntheticSplit(opts.trainSize, deriveSeed(opts.seed, 0)),
    test: generateSyntheticSplit(testSize, deriveSeed(opts.seed, 1)),
  };
}
