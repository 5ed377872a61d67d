import * as tf from '@tensorflow/tfjs';
import { cpuData, fallback, type CpuBackend } from './cpu-backend';

/**
 * Sum and Mean over the leading axes of a float32 tensor (batch-norm moments and the
 * gradients of every per-channel broadcast reduce [B,H,W,C] over [0,1,2]). tfjs's CPU
 * kernels first transpose the reduced axes to the end, element by element; this sums rows
 * in place, in float64.
 */
function leadingAxes(axis: number | number[], rank: number): number | null {
  const axes = tf.util.parseAxisParam(axis, new Array<number>(rank).fill(1)).slice().sort((p, q) => p - q);
  if (axes.length === 0 || axes.length >= rank) return null;
  return axes.every((d, i) => d === i) ? axes.length : null;
}

export function leadingReduceKernel(name: 'Sum' | 'Mean'): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const k = x.dtype === 'float32' ? leadingAxes(axis, x.shape.length) : null;
    if (k === null) return fallback(name, args);
    const xv = cpuData(args.backend, x);
    const rows = x.shape.slice(0, k).reduce((p, d) => p * d, 1);
    const inner = x.shape.slice(k);
    const width = inner.reduce((p, d) => p * d, 1);
    const acc = new Float64Array(width);
    for (let r = 0; r < rows; r++) {
      const off = r * width;
      for (let c = 0; c < width; c++) acc[c] += xv[off + c];
    }
    const out = new Float32Array(width);
    const scale = name === 'Mean' ? 1 / Math.max(1, rows) : 1;
    for (let c = 0; c < width; c++) out[c] = acc[c] * scale;
    const shape = keepDims ? [...new Array<number>(k).fill(1), ...inner] : inner;
    return (args.backend as CpuBackend).makeTensorInfo(shape, 'float32', out);
  };
}
