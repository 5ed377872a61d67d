import type * as tf from '@tensorflow/tfjs';

/** The parts of tfjs's MathBackendCPU the fast kernels use (it is not exported with types). */
export interface CpuBackend {
  data: { get(id: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The tensor's values, held by the CPU backend as one flat typed array. */
export function cpuData(backend: unknown, t: tf.TensorInfo): Float32Array {
  return (backend as CpuBackend).data.get(t.dataId).values as Float32Array;
}

/** The kernels tfjs registered before ours, by kernel name: the path for cases we do not speed up. */
export const originals = new Map<string, tf.KernelFunc>();

export function fallback(name: string, args: Parameters<tf.KernelFunc>[0]): ReturnType<tf.KernelFunc> {
  const k = originals.get(name);
  if (!k) throw new Error(`${name}: tfjs's own CPU kernel was not kept, so this case cannot run`);
  return k(args);
}
