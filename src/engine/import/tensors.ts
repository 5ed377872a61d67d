import { DataError } from '../data/types';

/**
 * A tensor read from a checkpoint, in the checkpoint's own layout (PyTorch: NCHW / OIHW,
 * linear [out, in]), converted to float32. Integer tensors (BatchNorm's num_batches_tracked)
 * are kept as numbers too, marked `isFloat: false`, so nothing mistakes them for weights.
 */
export interface SourceTensor {
  shape: number[];
  /** The dtype as the file named it (safetensors' names: F32, F16, BF16, F64, I64, ...). */
  dtype: string;
  isFloat: boolean;
  data: Float32Array;
}

/** Ordered name -> tensor, as PyTorch's state_dict() orders them. */
export type StateDict = Map<string, SourceTensor>;

/**
 * Larger files are refused before a byte is read: the biggest checkpoint we import (VGG16-BN
 * with its optimizer state) is ~180 MB, and a browser tab that reads 2 GB dies.
 */
export const MAX_CHECKPOINT_BYTES = 512 * 1024 * 1024;

export function checkCheckpointSize(file: string, bytes: number): void {
  if (bytes > MAX_CHECKPOINT_BYTES) {
    throw new DataError(file, `${(bytes / 2 ** 20).toFixed(0)} MB is larger than the ${MAX_CHECKPOINT_BYTES / 2 ** 20} MB a checkpoint may have; the CIFAR networks we import are under 100 MB (save only the model's state_dict)`);
  }
}

export interface DtypeInfo {
  bytes: number;
  isFloat: boolean;
  /** Reads `count` elements starting at byte `offset` (little-endian) into float32. */
  read(view: DataView, offset: number, count: number): Float32Array;
}

const halfToFloat = (h: number): number => {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
};

function reader(bytes: number, isFloat: boolean, get: (v: DataView, o: number) => number): DtypeInfo {
  return {
    bytes,
    isFloat,
    read(view, offset, count) {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = get(view, offset + i * bytes);
      return out;
    },
  };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Element types by safetensors name; PyTorch storages map onto these (see torch-zip.ts). */
export const DTYPES: Record<string, DtypeInfo> = {
  F32: reader(4, true, (v, o) => v.getFloat32(o, true)),
  F64: reader(8, true, (v, o) => v.getFloat64(o, true)),
  F16: reader(2, true, (v, o) => halfToFloat(v.getUint16(o, true))),
  BF16: reader(2, true, (v, o) => {
    u32[0] = v.getUint16(o, true) << 16;
    return f32[0];
  }),
  I64: reader(8, false, (v, o) => Number(v.getBigInt64(o, true))),
  I32: reader(4, false, (v, o) => v.getInt32(o, true)),
  I16: reader(2, false, (v, o) => v.getInt16(o, true)),
  I8: reader(1, false, (v, o) => v.getInt8(o)),
  U8: reader(1, false, (v, o) => v.getUint8(o)),
  BOOL: reader(1, false, (v, o) => (v.getUint8(o) ? 1 : 0)),
};

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
