import { gzipSync } from 'fflate';
import { CIFAR10_CLASS_NAMES, CIFAR10_META_FILE, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, encodeCifarBatch } from './cifar-binary';
import { encodeIdx } from './idx';
import { deriveSeed } from './rng';
import { generateSyntheticSplit } from './synthetic';

/**
 * Writes archives in the official CIFAR-10 layout (cifar-10-binary.tar.gz holding
 * cifar-10-batches-bin/…), filled with deterministic synthetic images, so that tests, e2e
 * and benchmarks exercise the real loading path without the real (undownloadable) data.
 */

export interface TarEntry {
  name: string;
  bytes: Uint8Array;
  /** '0' regular file (default), '5' directory, '2' symlink; anything else is written as given. */
  type?: string;
}

const BLOCK = 512;
const enc = new TextEncoder();

function writeString(h: Uint8Array, at: number, len: number, s: string): void {
  const b = enc.encode(s);
  if (b.length > len) throw new RangeError(`tar field too long (${b.length} > ${len}): ${s}`);
  h.set(b, at);
}

function writeOctal(h: Uint8Array, at: number, len: number, v: number): void {
  writeString(h, at, len, v.toString(8).padStart(len - 1, '0') + '\0');
}

/** A ustar archive (with the two end-of-archive blocks). Names over 100 bytes use the prefix field. */
export function writeTar(entries: TarEntry[]): Uint8Array {
  const total = entries.reduce((n, e) => n + BLOCK + Math.ceil(e.bytes.length / BLOCK) * BLOCK, 2 * BLOCK);
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of entries) {
    const h = out.subarray(at, at + BLOCK);
    let name = e.name;
    let prefix = '';
    if (enc.encode(name).length > 100) {
      const cut = name.lastIndexOf('/', 155);
      if (cut <= 0) throw new RangeError(`tar member name too long: ${name}`);
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
    }
    writeString(h, 0, 100, name);
    writeOctal(h, 100, 8, 0o644);
    writeOctal(h, 108, 8, 0);
    writeOctal(h, 116, 8, 0);
    writeOctal(h, 124, 12, e.bytes.length);
    writeOctal(h, 136, 12, 0);
    h.fill(0x20, 148, 156);
    h[156] = (e.type ?? '0').charCodeAt(0);
    writeString(h, 257, 6, 'ustar\0');
    writeString(h, 263, 2, '00');
    writeString(h, 345, 155, prefix);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += h[i];
    writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    out.set(e.bytes, at + BLOCK);
    at += BLOCK + Math.ceil(e.bytes.length / BLOCK) * BLOCK;
  }
  return out;
}

/** gzip with a fixed header (mtime 0), so the same input gives the same bytes. */
export function gzipDeterministic(bytes: Uint8Array, level: 0 | 1 | 6 | 9 = 6): Uint8Array {
  return gzipSync(bytes, { level, mtime: 0 });
}

export interface FixtureOptions {
  /** Records in each of data_batch_1..5 (default 20). */
  recordsPerBatch?: number;
  /** Records in test_batch (default: recordsPerBatch). */
  testRecords?: number;
  /** Which train batches to include (1-based; default all five). */
  trainBatches?: number[];
  includeTest?: boolean;
  includeMeta?: boolean;
  seed?: number;
}

export const FIXTURE_DIR = 'cifar-10-batches-bin';

/** The fixture's members as loose files (folder part included), in archive order. */
export function makeCifarFixtureFiles(opts: FixtureOptions = {}): { name: string; bytes: Uint8Array }[] {
  const per = opts.recordsPerBatch ?? 20;
  const testRecords = opts.testRecords ?? per;
  const seed = opts.seed ?? 1;
  const batches = opts.trainBatches ?? [1, 2, 3, 4, 5];
  const files: { name: string; bytes: Uint8Array }[] = [];
  if (opts.includeMeta ?? true) {
    files.push({ name: `${FIXTURE_DIR}/${CIFAR10_META_FILE}`, bytes: enc.encode(CIFAR10_CLASS_NAMES.join('\n') + '\n\n') });
  }
  for (const b of batches) {
    const split = generateSyntheticSplit(per, deriveSeed(seed, 10 + b));
    files.push({ name: `${FIXTURE_DIR}/${CIFAR10_TRAIN_FILES[b - 1]}`, bytes: encodeCifarBatch(split) });
  }
  if (opts.includeTest ?? true) {
    const split = generateSyntheticSplit(testRecords, deriveSeed(seed, 20));
    files.push({ name: `${FIXTURE_DIR}/${CIFAR10_TEST_FILE}`, bytes: encodeCifarBatch(split) });
  }
  return files;
}

/** cifar-10-binary.tar.gz in the official layout, deterministic for given options. */
export function makeCifarFixtureArchive(opts: FixtureOptions = {}): Uint8Array {
  const files = makeCifarFixtureFiles(opts);
  // The official archive also carries a readme.html, which loaders must step over.
  const readme = { name: `${FIXTURE_DIR}/readme.html`, bytes: enc.encode('<p>Generated CIFAR-10 fixture (synthetic images).</p>\n') };
  const entries: TarEntry[] = [{ name: `${FIXTURE_DIR}/`, bytes: new Uint8Array(0), type: '5' }, ...files, readme];
  return gzipDeterministic(writeTar(entries));
}

/**
 * The four Fashion-MNIST IDX files (gzipped as released unless `gzip` is false), holding
 * deterministic 28×28 grey images: image i is filled with the value (7·i + label) mod 256
 * inside a border, so tests can check every pixel's place after padding.
 */
export function makeFashionMnistFixtureFiles(opts: { train?: number; test?: number; gzip?: boolean } = {}): { name: string; bytes: Uint8Array }[] {
  const train = opts.train ?? 20;
  const test = opts.test ?? 10;
  const gz = opts.gzip ?? true;
  const files: { name: string; bytes: Uint8Array }[] = [];
  for (const [prefix, n] of [['train', train], ['t10k', test]] as const) {
    const labels = new Uint8Array(n).map((_, i) => (i * 3) % 10);
    const pixels = new Uint8Array(n * 28 * 28);
    for (let i = 0; i < n; i++) {
      for (let y = 1; y < 27; y++) for (let x = 1; x < 27; x++) pixels[i * 784 + y * 28 + x] = (7 * i + labels[i]) % 256;
    }
    const suffix = gz ? '.gz' : '';
    files.push({ name: `${prefix}-images-idx3-ubyte${suffix}`, bytes: maybeGzip(encodeIdx([n, 28, 28], pixels), gz) });
    files.push({ name: `${prefix}-labels-idx1-ubyte${suffix}`, bytes: maybeGzip(encodeIdx([n], labels), gz) });
  }
  return files;
}

function maybeGzip(bytes: Uint8Array, gz: boolean): Uint8Array {
  return gz ? gzipDeterministic(bytes) : bytes;
}
