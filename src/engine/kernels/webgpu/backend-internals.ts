import * as tf from '@tensorflow/tfjs';

/**
 * The parts of tfjs-backend-webgpu 4.22's WebGPUBackend that our kernels use and its typings
 * keep private. Kept in one place so a tfjs upgrade that moves them breaks here, loudly.
 */
export interface WebGpuBackendInternals {
  device: GPUDevice;
  tensorMap: {
    get(dataId: object): { resource: GPUBuffer | GPUTexture | null; values: unknown; refCount: number; shape: number[]; dtype: tf.DataType } | undefined;
  };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  makeUniforms(uniforms: ProgramUniform): GPUBufferBinding;
  refCount(dataId: object): number;
  runWebGPUProgram(program: unknown, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: ProgramUniform, output?: tf.TensorInfo): tf.TensorInfo;
}

/**
 * WebGPU's default limits, which tfjs 4.22's device has: it requests higher values for some
 * limits, not for these. Every kernel sizes its dispatches and bindings by them.
 */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;
/** Storage buffers one dispatch may bind (maxStorageBuffersPerShaderStage). */
export const MAX_STORAGE_BUFFERS = 8;

/** A program's own uniforms, as tfjs's makeUniforms takes them (each field 1 to 6 numbers). */
export type ProgramUniform = Array<{ type: 'float32' | 'int32' | 'uint32'; data: number[] }>;

/** The active backend when it is tfjs's WebGPU backend, else null. */
export function webgpuBackend(): WebGpuBackendInternals | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return tf.backend() as unknown as WebGpuBackendInternals;
}

export function requireWebGpu(): WebGpuBackendInternals {
  const b = webgpuBackend();
  if (!b) throw new Error(`this kernel needs the webgpu backend (active: ${tf.getBackend()})`);
  return b;
}
