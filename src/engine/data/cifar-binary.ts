import { DataError, IMAGE_BYTES, IMAGE_SIZE, NUM_CLASSES, type ImageSplit } from './types';

/**
 * The official CIFAR-10 binary format: each record is 1 label byte followed by 3072 pixel
 * bytes: the red plane, then green, then blue, each 32x32 row-major. Resident data is NHWC
 * (RGB interleaved), so parsing is a planar-to-interleaved transpose.
 */

export const CIFAR_LABEL_BYTES = 1;
export const CIFAR_RECORD_BYTES = CIFAR_LABEL_BYTES + IMAGE_BYTES; // 3073
/** CIFAR-100's binary records carry a coarse and a fine label byte. */
const CIFAR100_RECORD_BYTES = 2 + IMAGE_BYTES; // 3074
const PLANE = IMAGE_SIZE * IMAGE_SIZE;

export const CIFAR10_TRAIN_FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
] as const;
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_META_FILE = 'batches.meta.txt';
/** Records per file in the official release. */
export const CIFAR10_RECORDS_PER_FILE = 10_000;

export const CIFAR10_CLASS_NAMES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

export type CifarMember =
  | { kind: 'train'; index: number }
  | { kind: 'test' }
  | { kind: 'meta' };

/** Classifies a file by its base name (any folder part is ignored); null if it is not a CIFAR-10 member. */
export function classifyMember(path: string): CifarMember | null {
  const base = baseName(path);
  const train = /^data_batch_([1-5])\.bin$/.exec(base);
  if (train) return { kind: 'train', index: Number(train[1]) };
  if (base === CIFAR10_TEST_FILE) return { kind: 'test' };
  if (base === CIFAR10_META_FILE) return { kind: 'meta' };
  return null;
}

/** Like classifyMember, but an unknown name is a DataError saying which names are expected. */
export function requireMember(path: string): CifarMember {
  const m = classifyMember(path);
  if (!m) {
    throw new DataError(
      path,
      `not a CIFAR-10 file name. Expected data_batch_1.bin … data_batch_5.bin, ${CIFAR10_TEST_FILE}, ` +
        `${CIFAR10_META_FILE}, or the official archive cifar-10-binary.tar.gz.`,
    );
  }
  return m;
}

export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

/** Throws a DataError unless `bytes` is a whole number of CIFAR-10 records. */
export function checkCifarSize(file: string, size: number): number {
  if (size === 0) {
    throw new DataError(file, 'the file is empty (0 bytes). Re-download or re-extract it.');
  }
  if (size % CIFAR_RECORD_BYTES !== 0) {
    if (size % CIFAR100_RECORD_BYTES === 0) {
      throw new DataError(
        file,
        `its size (${size} bytes) is a multiple of ${CIFAR100_RECORD_BYTES}, which looks like CIFAR-100 ` +
          `(two label bytes per record). Only CIFAR-10 (one label byte, ${CIFAR_RECORD_BYTES}-byte records) is supported.`,
      );
    }
    const whole = Math.floor(size / CIFAR_RECORD_BYTES);
    const left = size - whole * CIFAR_RECORD_BYTES;
    throw new DataError(
      file,
      `its size (${size} bytes) is not a multiple of the ${CIFAR_RECORD_BYTES}-byte CIFAR-10 record: ` +
        `${whole} whole records and ${left} bytes left over. The file is probably truncated or not ` +
        `a CIFAR-10 binary batch; re-download it.`,
    );
  }
  return size / CIFAR_RECORD_BYTES;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function badLabel(file: string, r: number, label: number): DataError {
  return new DataError(
    file,
    `record ${r} (byte offset ${r * CIFAR_RECORD_BYTES}) has label ${label}; CIFAR-10 labels are 0..9. ` +
      `The file is corrupt or from a different data set.`,
  );
}

/** Parses one CIFAR-10 binary batch into resident NHWC uint8 images and labels. */
export function parseCifarBatch(file: string, bytes: Uint8Array): ImageSplit {
  const count = checkCifarSize(file, bytes.length);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const label = bytes[r * CIFAR_RECORD_BYTES];
    if (label >= NUM_CLASSES) throw badLabel(file, r, label);
    labels[r] = label;
  }
  planarToInterleaved(bytes, images, count);
  return { images, labels, count };
}

/** Transposes `count` records' pixel planes into NHWC `images`; word stores need a little-endian host. */
export function planarToInterleaved(bytes: Uint8Array, images: Uint8Array, count: number, useWords = LITTLE_ENDIAN): void {
  if (useWords && images.byteOffset % 4 === 0) transposeWords(bytes, images, count);
  else transposeBytes(bytes, images, count);
}

/**
 * Planar to interleaved, four pixels (12 output bytes) per three 32-bit stores: a quarter
 * of the stores of a byte loop. Records are 3073 bytes, so only the output is word-aligned.
 */
function transposeWords(bytes: Uint8Array, images: Uint8Array, count: number): void {
  const words = new Uint32Array(images.buffer, images.byteOffset, images.length >>> 2);
  for (let r = 0; r < count; r++) {
    const rOff = r * CIFAR_RECORD_BYTES + CIFAR_LABEL_BYTES;
    const gOff = rOff + PLANE;
    const bOff = gOff + PLANE;
    let w = r * (IMAGE_BYTES >>> 2);
    for (let p = 0; p < PLANE; p += 4) {
      const ri = rOff + p;
      const gi = gOff + p;
      const bi = bOff + p;
      words[w] = bytes[ri] | (bytes[gi] << 8) | (bytes[bi] << 16) | (bytes[ri + 1] << 24);
      words[w + 1] = bytes[gi + 1] | (bytes[bi + 1] << 8) | (bytes[ri + 2] << 16) | (bytes[gi + 2] << 24);
      words[w + 2] = bytes[bi + 2] | (bytes[ri + 3] << 8) | (bytes[gi + 3] << 16) | (bytes[bi + 3] << 24);
      w += 3;
    }
  }
}

function transposeBytes(bytes: Uint8Array, images: Uint8Array, count: number): void {
  for (let r = 0; r < count; r++) {
    const rOff = r * CIFAR_RECORD_BYTES + CIFAR_LABEL_BYTES;
    const gOff = rOff + PLANE;
    const bOff = gOff + PLANE;
    let o = r * IMAGE_BYTES;
    for (let p = 0; p < PLANE; p++) {
      images[o] = bytes[rOff + p];
      images[o + 1] = bytes[gOff + p];
      images[o + 2] = bytes[bOff + p];
      o += 3;
    }
  }
}

/** The inverse of parseCifarBatch: NHWC images + labels to official binary records. */
export function encodeCifarBatch(split: ImageSplit): Uint8Array {
  const out = new Uint8Array(split.count * CIFAR_RECORD_BYTES);
  const { images, labels } = split;
  for (let r = 0; r < split.count; r++) {
    const base = r * CIFAR_RECORD_BYTES;
    out[base] = labels[r];
    const rOff = base + CIFAR_LABEL_BYTES;
    const gOff = rOff + PLANE;
    const bOff = gOff + PLANE;
    let i = r * IMAGE_BYTES;
    for (let p = 0; p < PLANE; p++) {
      out[rOff + p] = images[i];
      out[gOff + p] = images[i + 1];
      out[bOff + p] = images[i + 2];
      i += 3;
    }
  }
  return out;
}

/**
 * Reads batches.meta.txt (one class name per line). Returns null, with a reason, when it
 * does not hold exactly ten names, so the caller can fall back to the standard names.
 */
export function parseClassNames(bytes: Uint8Array): { names: string[] } | { problem: string } {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const names = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (names.length !== NUM_CLASSES) {
    return { problem: `expected ${NUM_CLASSES} class names, one per line, found ${names.length}` };
  }
  if (names.some((n) => n.length > 64)) return { problem: 'a class name is longer than 64 characters' };
  return { names };
}

/** Concatenates splits in order (one copy). */
export function concatSplits(splits: ImageSplit[]): ImageSplit {
  if (splits.length === 1) return splits[0];
  const count = splits.reduce((n, s) => n + s.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const s of splits) {
    images.set(s.images.subarray(0, s.count * IMAGE_BYTES), at * IMAGE_BYTES);
    labels.set(s.labels.subarray(0, s.count), at);
    at += s.count;
  }
  return { images, labels, count };
}

/** A view of records [start, start + count) of a split (no copy). */
export function sliceSplit(split: ImageSplit, start: number, count: number): ImageSplit {
  const n = Math.max(0, Math.min(count, split.count - start));
  return {
    images: split.images.subarray(start * IMAGE_BYTES, (start + n) * IMAGE_BYTES),
    labels: split.labels.subarray(start, start + n),
    count: n,
  };
}
