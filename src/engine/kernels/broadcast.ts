import * as tf from '@tensorflow/tfjs';
import { cpuData, fallback, type CpuBackend } from './cpu-backend';

/**
 * Float32 binary ops with any broadcast ([B,H,W,C] with [C] in batch norm, [kh,kw,C,1] when a
 * per-channel scale meets a conv's input axis). tfjs's CPU kernels compute three index
 * vectors per element for any broadcast (~3 M elements/s); this walks the output once with an
 * odometer that moves both operands' offsets by their strides (0 along broadcast axes).
 */
const OPS = {
  Add: (a: number, b: number) => a + b,
  Sub: (a: number, b: number) => a - b,
  Multiply: (a: number, b: number) => a * b,
  RealDiv: (a: number, b: number) => a / b,
} as const;
export type BroadcastOpName = keyof typeof OPS;
export const BROADCAST_OPS = Object.keys(OPS) as BroadcastOpName[];

/** Element strides of `shape` seen from an output of rank `rank`: 0 where it broadcasts. */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1, d = out.length - 1; i >= 0; i--, d--) {
    strides[d] = shape[i] === 1 && out[d] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/**
 * The flat loops, one per op: a shared loop calling `op` through a closure is a megamorphic
 * call V8 does not inline (about 3x slower on 131k-element batch-norm tensors).
 */
function flat(name: BroadcastOpName, a: Float32Array, b: Float32Array, out: Float32Array): void {
  const n = out.length;
  const na = a.length;
  const nb = b.length;
  if (na === n && nb === n) {
    if (name === 'Add') for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
    else if (name === 'Sub') for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
    else if (name === 'Multiply') for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
    else for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
    return;
  }
  if (name === 'Add') for (let i = 0; i < n; i++) out[i] = a[i % na] + b[i % nb];
  else if (name === 'Sub') for (let i = 0; i < n; i++) out[i] = a[i % na] - b[i % nb];
  else if (name === 'Multiply') for (let i = 0; i < n; i++) out[i] = a[i % na] * b[i % nb];
  else for (let i = 0; i < n; i++) out[i] = a[i % na] / b[i % nb];
}

/** True when `small` (leading 1s ignored) equals the trailing axes of `big`: a flat modulo loop. */
export function trailingBroadcast(big: readonly number[], small: readonly number[]): boolean {
  if (small.length > big.length) return false;
  let i = 0;
  while (i < small.length && small[i] === 1) i++;
  const offset = big.length - (small.length - i);
  for (let j = i; j < small.length; j++) if (small[j] !== big[offset + j - i]) return false;
  return true;
}

export function broadcastKernel(name: BroadcastOpName): tf.KernelFunc {
  const op = OPS[name];
  return (args) => {
    const a = args.inputs.a as tf.TensorInfo;
    const b = args.inputs.b as tf.TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(name, args);
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const av = cpuData(args.backend, a);
    const bv = cpuData(args.backend, b);
    const out = new Float32Array(shape.reduce((p, d) => p * d, 1));
    const rank = shape.length;
    const aFull = av.length === out.length;
    const bFull = bv.length === out.length;
    if (rank === 0 || (aFull && (bFull || trailingBroadcast(shape, b.shape))) || (bFull && trailingBroadcast(shape, a.shape))) {
      // Same shapes, or one operand repeats as the other's trailing block (batch norm's [C]).
      flat(name, av, bv, out);
    } else {
      const sa = broadcastStrides(a.shape, shape);
      const sb = broadcastStrides(b.shape, shape);
      const pos = new Array<number>(rank).fill(0);
      const last = rank - 1;
      const inner = shape[last];
      let ia = 0;
      let ib = 0;
      for (let i = 0; i < out.length; ) {
        // The innermost axis in one run, then carry into the outer axes.
        const da = sa[last];
        const db = sb[last];
        for (let k = 0; k < inner; k++, i++) out[i] = op(av[ia + k * da], bv[ib + k * db]);
        for (let d = last - 1; d >= 0; d--) {
          pos[d]++;
          ia += sa[d];
          ib += sb[d];
          if (pos[d] < shape[d]) break;
          ia -= sa[d] * shape[d];
          ib -= sb[d] * shape[d];
          pos[d] = 0;
        }
      }
    }
    return (args.backend as CpuBackend).makeTensorInfo(shape, 'float32', out);
  };
}
