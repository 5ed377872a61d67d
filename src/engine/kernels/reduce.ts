import * as tf from '@tensorflow/tfjs';
import { broadcastStrides } from './broadcast';
import { cpuData, fallback, type CpuBackend } from './cpu-backend';

/**
 * Sum and Mean of a float32 tensor over any axes (batch-norm moments, the gradients of every
 * broadcast, per-channel group norms over a conv's input axis). tfjs's CPU kernels first
 * transpose the reduced axes to the end, element by element; this walks the input once,
 * adding each element into its output slot (float64 accumulators).
 */
export function reduceKernel(name: 'Sum' | 'Mean'): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype !== 'float32') return fallback(name, args);
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = new Set(tf.util.parseAxisParam(axis, x.shape));
    const kept = x.shape.map((d, i) => (axes.has(i) ? 1 : d));
    const outShape = keepDims ? kept : x.shape.filter((_d, i) => !axes.has(i));
    const xv = cpuData(args.backend, x);
    const width = kept.reduce((p, d) => p * d, 1);
    const acc = new Float64Array(width);
    if (rank === 0) {
      acc[0] = xv[0];
    } else {
      const so = broadcastStrides(kept, x.shape);
      const pos = new Array<number>(rank).fill(0);
      const last = rank - 1;
      const inner = x.shape[last];
      const dl = so[last];
      let io = 0;
      for (let i = 0; i < xv.length; ) {
        for (let k = 0; k < inner; k++, i++) acc[io + k * dl] += xv[i];
        for (let d = last - 1; d >= 0; d--) {
          pos[d]++;
          io += so[d];
          if (pos[d] < x.shape[d]) break;
          io -= so[d] * x.shape[d];
          pos[d] = 0;
        }
      }
    }
    const count = xv.length / Math.max(1, width);
    const scale = name === 'Mean' ? 1 / Math.max(1, count) : 1; // tfjs's mean of nothing is 0
    const out = new Float32Array(width);
    for (let c = 0; c < width; c++) out[c] = acc[c] * scale;
    return (args.backend as CpuBackend).makeTensorInfo(outShape, 'float32', out);
  };
}
