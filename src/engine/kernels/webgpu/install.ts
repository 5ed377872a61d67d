import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilter, conv2dBackpropInput } from './conv-grad';

/**
 * Our WebGPU kernels and fused ops, and the one switch between them and stock tfjs 4.22.
 *
 * Registered kernels (by tfjs kernel name) replace tfjs's for backend 'webgpu' and fall back
 * to tfjs's own for any case they do not handle. Fused ops (batch norm + ReLU, the optimizer,
 * the DPM hooks) are called by the engine directly when `fastWebGpu()` is true. Turning the
 * switch off runs stock tfjs everywhere: benchmarks compare both in one process, tests check
 * ours against tfjs's.
 */
export const WEBGPU_KERNELS: Record<string, tf.KernelFunc> = {
  // Called through arrows so that this table never reads a kernel module's binding while the
  // two modules (each imports the other) are still being evaluated.
  [tf.Conv2DBackpropFilter]: (args) => conv2dBackpropFilter(args),
  [tf.Conv2DBackpropInput]: (args) => conv2dBackpropInput(args),
};

const originals = new Map<string, tf.KernelFunc>();
let enabled = true;

/** Registers our kernels for 'webgpu' (idempotent). Call once the WebGPU backend is loaded. */
export function installWebGpuKernels(): void {
  for (const [name, kernelFunc] of Object.entries(WEBGPU_KERNELS)) {
    if (originals.has(name)) continue;
    const existing = tf.getKernel(name, 'webgpu');
    if (!existing) continue;
    originals.set(name, existing.kernelFunc);
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc });
  }
}

/** tfjs's own WebGPU kernel: the fallback, and the reference tests compare against. */
export function originalWebGpuKernel(name: string): tf.KernelFunc | undefined {
  return originals.get(name);
}

export function stockWebGpuFallback(name: string, args: Parameters<tf.KernelFunc>[0]): ReturnType<tf.KernelFunc> {
  const k = originals.get(name);
  if (!k) throw new Error(`${name}: tfjs's own WebGPU kernel was not kept, so this case cannot run`);
  return k(args);
}

/** Whether our kernels and fused ops run: on the WebGPU backend, unless switched off. */
export function fastWebGpu(): boolean {
  return enabled && tf.getBackend() === 'webgpu';
}

/** Switches between our kernels (true, the default) and stock tfjs 4.22 (false). */
export function setFastWebGpu(on: boolean): void {
  enabled = on;
}
