import * as tf from '@tensorflow/tfjs';
import type { BackendName } from './experiment';
import { installFastCpuKernels } from './kernels/install';
import { installWebGpuKernels } from './kernels/webgpu/install';
import { errorMessage } from './error-message';

export interface BackendChoice {
  backend: BackendName;
  /** Why the preferred backend was not used, and what the user loses. */
  notice?: string;
}

const LOSS: Record<BackendName, string> = {
  webgpu: '',
  webgl: 'WebGL has no compute shaders: training is several times slower than on WebGPU',
  cpu: 'the CPU backend is very slow: use the tiny model and a small data set',
};

/**
 * Picks the first backend that works, starting from the preferred one and falling back
 * webgpu -> webgl -> cpu. Runs in the worker; tfjs's WebGPU backend is loaded only when tried.
 */
export async function selectBackend(preferred: BackendName): Promise<BackendChoice> {
  const order: BackendName[] = [preferred, ...(['webgpu', 'webgl', 'cpu'] as const).filter((b) => b !== preferred)];
  const reasons: string[] = [];
  for (const name of order) {
    const why = await tryBackend(name);
    if (why === null) {
      if (name === preferred) return { backend: name };
      return { backend: name, notice: `${reasons.join('; ')}. Running on ${name}: ${LOSS[name]}.` };
    }
    reasons.push(`${name} unavailable (${why})`);
  }
  throw new Error(`no tfjs backend works here: ${reasons.join('; ')}`);
}

/** null when the backend is now active, else the reason it is not usable. */
async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    if (name === 'webgpu') {
      const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
      if (!gpu) return 'navigator.gpu is missing: this browser has no WebGPU, or it is turned off';
      const adapter = await gpu.requestAdapter();
      if (!adapter) return 'no WebGPU adapter: the GPU is blocklisted or the driver is missing';
      await import('@tensorflow/tfjs-backend-webgpu');
    }
    if (name === 'webgl' && typeof OffscreenCanvas === 'undefined' && typeof document === 'undefined') {
      return 'no OffscreenCanvas in this worker';
    }
    if (name === 'cpu') installFastCpuKernels();
    const ok = await tf.setBackend(name);
    if (ok && name === 'webgpu') installWebGpuKernels();
    if (!ok) return `tfjs could not initialise ${name}`;
    await tf.ready();
    // A tiny op proves the backend really computes (some WebGL contexts fail only on first use).
    const probe = tf.tidy(() => tf.sum(tf.mul(tf.ones([4]), 2)));
    const v = (await probe.data())[0];
    probe.dispose();
    return v === 8 ? null : `${name} computed a wrong result in a self-test`;
  } catch (e) {
    return errorMessage(e);
  }
}

/**
 * Calls `onLost` if the WebGPU device goes away (driver reset, GPU unplugged, tab in the
 * background too long on some systems). tfjs does not surface this itself.
 */
export function watchDeviceLoss(onLost: (message: string) => void): void {
  if (tf.getBackend() !== 'webgpu') return;
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  void device?.lost.then((info) => onLost(`the GPU device was lost (${info.reason || 'unknown reason'}): ${info.message}`));
}
