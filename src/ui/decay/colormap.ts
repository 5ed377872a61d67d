/** 256-entry RGB lookup tables for the map and its colour bar. */
export interface ColorScale {
  name: string;
  /** r,g,b triples, 256 entries. */
  lut: Uint8Array;
  /** CSS linear-gradient (left = 0, right = 1) for the legend bar. */
  gradient: string;
}

function buildScale(name: string, anchors: readonly string[]): ColorScale {
  const rgb = anchors.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (rgb.length - 1);
    const k = Math.min(rgb.length - 2, Math.floor(t));
    const f = t - k;
    for (let ch = 0; ch < 3; ch++) lut[i * 3 + ch] = Math.round(rgb[k][ch] * (1 - f) + rgb[k + 1][ch] * f);
  }
  const stops = anchors.map((a, i) => `${a} ${Math.round((i / (anchors.length - 1)) * 100)}%`).join(', ');
  return { name, lut, gradient: `linear-gradient(to right, ${stops})` };
}

/** Decay: 0 (pruned) is near-black, 1 (untouched) pale yellow — inferno's anchors. */
export const DECAY_SCALE = buildScale('inferno', ['#000004', '#57106e', '#bc3754', '#f98e09', '#fcffa4']);
/** Norm: viridis, so the two modes are never confused at a glance. */
export const NORM_SCALE = buildScale('viridis', ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725']);

/** Cells with no data: the page background, a shade darker. */
export const EMPTY_RGB: readonly [number, number, number] = [238, 240, 243];

/** Index into a LUT for t in [0, 1] (clamped). */
export function lutIndex(t: number): number {
  if (!(t > 0)) return 0;
  if (t >= 1) return 255;
  return Math.round(t * 255);
}
