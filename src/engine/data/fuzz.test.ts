import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeCifarFixtureArchive, makeCifarFixtureFiles, makeFashionMnistFixtureFiles, writeTar } from './fixture';
import { loadFiles } from './load-files';
import { DataError } from './types';

/**
 * Damaged input must end in a Dataset or a DataError: never a TypeError, RangeError, an
 * out-of-memory allocation, or a hang.
 */

const opts = { recordsPerBatch: 2, testRecords: 2, seed: 8 };
const archive = makeCifarFixtureArchive(opts);
const tar = writeTar(makeCifarFixtureFiles(opts));
const bin = makeCifarFixtureFiles({ ...opts, trainBatches: [1], includeTest: false, includeMeta: false })[0].bytes;

function damage(base: Uint8Array, cut: number, flips: [number, number][]): Uint8Array {
  const out = base.slice(0, Math.min(base.length, cut));
  for (const [pos, xor] of flips) if (out.length > 0) out[pos % out.length] ^= xor;
  return out;
}

// Fashion-MNIST: one damaged member at a time, the other three intact (a lone file cannot load).
const fashionGz = makeFashionMnistFixtureFiles({ train: 4, test: 2 });
const fashionRaw = makeFashionMnistFixtureFiles({ train: 4, test: 2, gzip: false });

function outcome(name: string, bytes: Uint8Array): 'dataset' | 'data-error' {
  try {
    const fashion = name.includes('ubyte') ? [...fashionGz, ...fashionRaw].filter((f) => f.name.replace(/\.gz$/, '') !== name.replace(/\.gz$/, '') && f.name.endsWith('.gz') === name.endsWith('.gz')) : [];
    const { dataset } = loadFiles([...fashion, { name, bytes }], { maxBytes: 4 * 1024 * 1024 });
    expect(dataset.train.count).toBeGreaterThan(0);
    expect(dataset.train.images.length).toBe(dataset.train.count * 3072);
    return 'dataset';
  } catch (e) {
    if (e instanceof DataError) return 'data-error';
    throw e;
  }
}

const damageArb = (len: number) =>
  fc.tuple(
    fc.oneof(fc.constant(len), fc.nat({ max: len })),
    fc.array(fc.tuple(fc.nat({ max: len * 2 }), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
  );

describe('fuzz: truncations and byte flips', () => {
  for (const [name, base] of [
    ['cifar-10-binary.tar.gz', archive],
    ['cifar-10-binary.tar', tar],
    ['data_batch_1.bin', bin],
    ...[...fashionGz, ...fashionRaw].map((f) => [f.name, f.bytes] as const),
  ] as const) {
    it(`${name}: always a Dataset or a DataError`, () => {
      const seen = new Set<string>();
      fc.assert(
        fc.property(damageArb(base.length), ([cut, flips]) => {
          seen.add(outcome(name, damage(base, cut, flips)));
        }),
        { numRuns: 150, seed: 20240601 },
      );
      expect(seen.has('data-error')).toBe(true);
    });
  }

  it('undamaged inputs load', () => {
    expect(outcome('a.tar.gz', archive)).toBe('dataset');
    expect(outcome('a.tar', tar)).toBe('dataset');
    expect(outcome('data_batch_1.bin', bin)).toBe('dataset');
    for (const f of [...fashionGz, ...fashionRaw]) expect(outcome(f.name, f.bytes)).toBe('dataset');
  });
});
