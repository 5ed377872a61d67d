import { DataError, IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_SIZE, NUM_CLASSES, type ImageSplit } from './types';

/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte
 * magic (two zero bytes, the element type, the number of dimensions), each dimension as a
 * big-endian uint32, then the elements row-major. Images are idx3 (count × rows × cols of
 * unsigned bytes), labels idx1 (count unsigned bytes).
 *
 * Grey images become the engine's resident form (32×32×3 NHWC, see types.ts) by centring
 * them on a black 32×32 canvas and repeating the grey value in all three channels, so every
 * model, checkpoint and augmentation works unchanged (docs/data.md says why).
 */

/** The element-type byte of unsigned 8-bit data, the only type (Fashion-)MNIST uses. */
export const IDX_UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = { 0x09: 'signed bytes', 0x0b: '16-bit integers', 0x0c: '32-bit integers', 0x0d: 'floats', 0x0e: 'doubles' };

export interface IdxArray {
  dims: number[];
  /** The elements (a view into the input, no copy). */
  data: Uint8Array;
}

/** True when `bytes` starts like an uncompressed IDX file of unsigned bytes. */
export function looksLikeIdx(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] === IDX_UBYTE && (bytes[3] === 1 || bytes[3] === 3);
}

/**
 * Reads an IDX header and checks the element count against the bytes present. `rank` is the
 * number of dimensions the caller expects (3 for images, 1 for labels).
 */
export function parseIdx(file: string, bytes: Uint8Array, rank: 1 | 3): IdxArray {
  const what = rank === 3 ? 'an IDX image file (idx3-ubyte)' : 'an IDX label file (idx1-ubyte)';
  if (bytes.length === 0) throw new DataError(file, 'the file is empty (0 bytes). Re-download it.');
  if (bytes.length < 4) throw new DataError(file, `only ${bytes.length} bytes: too short for ${what}, whose header alone is ${4 + 4 * rank} bytes. Re-download it.`);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new DataError(file, 'this is gzip data inside gzip data (compressed twice?). Give the .gz file as downloaded or the file it unpacks to.');
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(file, `not ${what}: it does not start with the IDX signature (two zero bytes). It may be an HTML error page or another format; re-download it.`);
  }
  const type = bytes[2];
  if (type !== IDX_UBYTE) {
    throw new DataError(file, `the IDX data holds ${TYPE_NAMES[type] ?? `element type 0x${type.toString(16)}`}; Fashion-MNIST files hold unsigned bytes (type 0x08).`);
  }
  const ndims = bytes[3];
  if (ndims !== rank) {
    const other = ndims === 1 ? ' (this is a label file)' : ndims === 3 ? ' (this is an image file)' : '';
    throw new DataError(file, `the IDX header says ${ndims} dimension(s)${other}; expected ${what} with ${rank}. Check that images and labels are not swapped.`);
  }
  const header = 4 + 4 * ndims;
  if (bytes.length < header) throw new DataError(file, `the file ends inside its ${header}-byte header (${bytes.length} bytes). Re-download it.`);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) {
    const o = 4 + 4 * d;
    dims.push(((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0);
  }
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  const expected = dims[0] * per;
  const body = bytes.length - header;
  if (body < expected) {
    const whole = per > 0 ? Math.floor(body / per) : 0;
    throw new DataError(
      file,
      `the header announces ${dims[0]} item(s) (${expected} bytes) but only ${body} bytes follow (${whole} whole item(s)). The file is truncated; re-download it.`,
    );
  }
  if (body > expected) {
    throw new DataError(file, `${body - expected} byte(s) follow the ${dims[0]} item(s) the header announces. The file is corrupt or not an IDX file; re-download it.`);
  }
  return { dims, data: bytes.subarray(header, header + expected) };
}

/** Parses an idx3-ubyte image file into resident 32×32×3 images (labels left zero). */
export function parseIdxImages(file: string, bytes: Uint8Array): ImageSplit {
  const { dims, data } = parseIdx(file, bytes, 3);
  const [count, rows, cols] = dims;
  if (rows < 1 || cols < 1 || rows > IMAGE_SIZE || cols > IMAGE_SIZE) {
    throw new DataError(file, `its images are ${rows}×${cols}; images from 1×1 to ${IMAGE_SIZE}×${IMAGE_SIZE} can be used (Fashion-MNIST's are 28×28).`);
  }
  const images = new Uint8Array(count * IMAGE_BYTES);
  padGrey(data, images, count, rows, cols);
  return { images, labels: new Uint8Array(count), count };
}

/** Parses an idx1-ubyte label file; every label must be 0..9. */
export function parseIdxLabels(file: string, bytes: Uint8Array): Uint8Array {
  const { data } = parseIdx(file, bytes, 1);
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= NUM_CLASSES) {
      throw new DataError(file, `label ${i} (byte offset ${8 + i}) is ${data[i]}; labels are 0..9. The file is corrupt or from a data set with more classes.`);
    }
  }
  return data.slice();
}

/**
 * Centres each rows×cols grey image on a zero 32×32 canvas, the value repeated in R, G and B.
 * Odd margins put the extra row/column at the bottom/right.
 */
export function padGrey(src: Uint8Array, images: Uint8Array, count: number, rows: number, cols: number): void {
  const top = (IMAGE_SIZE - rows) >> 1;
  const left = (IMAGE_SIZE - cols) >> 1;
  const per = rows * cols;
  for (let i = 0; i < count; i++) {
    const base = i * IMAGE_BYTES;
    for (let y = 0; y < rows; y++) {
      const s = i * per + y * cols;
      let o = base + ((top + y) * IMAGE_SIZE + left) * IMAGE_CHANNELS;
      for (let x = 0; x < cols; x++) {
        const v = src[s + x];
        images[o] = v;
        images[o + 1] = v;
        images[o + 2] = v;
        o += 3;
      }
    }
  }
}

/** Writes an IDX file of unsigned bytes (tests and fixtures use it to make official-format files). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = IDX_UBYTE;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    const o = 4 + 4 * i;
    out[o] = (d >>> 24) & 255;
    out[o + 1] = (d >>> 16) & 255;
    out[o + 2] = (d >>> 8) & 255;
    out[o + 3] = d & 255;
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}
