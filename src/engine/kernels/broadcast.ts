import type * as tf from '@tensorflow/tfjs';
import { cpuData, fallback, type CpuBackend } from './cpu-backend';

/**
 * Binary ops whose smaller operand broadcasts over the leading axes of the larger one
 * ([B,H,W,C] with [C] or [1,1,1,C]: every batch-norm and per-channel scale, forward and
 * backward). tfjs's CPU kernels compute three index vectors per element for any broadcast
 * (~3 M elements/s); this is a flat loop with a modulo. Other shapes go to tfjs's kernel.
 */
const OPS = {
  Add: (a: number, b: number) => a + b,
  Sub: (a: number, b: number) => a - b,
  Multiply: (a: number, b: number) => a * b,
  RealDiv: (a: number, b: number) => a / b,
} as const;
export type BroadcastOpName = keyof typeof OPS;
export const BROADCAST_OPS = Object.keys(OPS) as BroadcastOpName[];

/** True when `small` (leading 1s ignored) equals the trailing axes of `big`. */
export function trailingBroadcast(big: readonly number[], small: readonly number[]): boolean {
  if (small.length > big.length) return false;
  let i = 0;
  while (i < small.length && small[i] === 1) i++;
  const tail = small.slice(i);
  const offset = big.length - tail.length;
  return tail.every((d, j) => d === big[offset + j]);
}

export function broadcastKernel(name: BroadcastOpName): tf.KernelFunc {
  const op = OPS[name];
  return (args) => {
    const a = args.inputs.a as tf.TensorInfo;
    const b = args.inputs.b as tf.TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(name, args);
    const aBig = trailingBroadcast(a.shape, b.shape);
    const bBig = !aBig && trailingBroadcast(b.shape, a.shape);
    if (!aBig && !bBig) return fallback(name, args);
    const av = cpuData(args.backend, a);
    const bv = cpuData(args.backend, b);
    const shape = aBig ? a.shape : b.shape;
    const out = new Float32Array(aBig ? av.length : bv.length);
    if (aBig) {
      const n = bv.length;
      for (let i = 0; i < out.length; i++) out[i] = op(av[i], bv[i % n]);
    } else {
      const n = av.length;
      for (let i = 0; i < out.length; i++) out[i] = op(av[i % n], bv[i]);
    }
    return (args.backend as CpuBackend).makeTensorInfo(shape, 'float32', out);
  };
}
