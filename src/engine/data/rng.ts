/**
 * A small seeded PRNG (mulberry32). Everything random in a run (synthetic images, epoch
 * order, crop offsets, flips) draws from one of these, so a seed reproduces a run exactly,
 * and the whole generator state is one uint32 that a checkpoint can store and restore.
 */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). n must be a positive integer. */
  int(n: number): number;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T;
  /** The generator's full state (a uint32). */
  state(): number;
  /** Continues from a state returned by `state()`. */
  restore(state: number): void;
}

/** Derives the initial state from a seed so that nearby seeds give unrelated streams. */
function scramble(seed: number): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function createRng(seed: number): Rng {
  let s = scramble(seed);
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => {
    if (!(n > 0) || !Number.isInteger(n)) throw new RangeError(`rng.int needs a positive integer, got ${n}`);
    return Math.floor(next() * n);
  };
  return {
    next,
    int,
    shuffle(array) {
      const a = array as { length: number; [i: number]: unknown };
      for (let i = a.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
      }
      return array;
    },
    state: () => s,
    restore(state: number) {
      s = state >>> 0;
    },
  };
}

/** A child seed for an independent stream (e.g. the test split of a generated set). */
export function deriveSeed(seed: number, stream: number): number {
  return scramble((seed >>> 0) ^ Math.imul(stream + 1, 0x27d4eb2f));
}
