import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../engine/backend';
import type { BackendName } from '../engine/experiment';
import { installFastCpuKernels } from '../engine/kernels/install';
import { errorMessage } from '../engine/error-message';

/** A failure to set up a backend in Node, with what to do about it. */
export class BackendSetupError extends Error {}

/**
 * Node has no WebGPU of its own: the `webgpu` package (Dawn) provides navigator.gpu over a
 * Vulkan driver. Without a GPU, SwiftShader's Vulkan driver (shipped with Chromium) works too.
 */
export async function setupNodeBackend(name: BackendName): Promise<BackendName> {
  if (name === 'cpu') {
    installFastCpuKernels();
    await tf.setBackend('cpu');
    return 'cpu';
  }
  if (name === 'webgl') throw new BackendSetupError('the webgl backend needs a browser; in Node use --backend webgpu or --backend cpu');
  let gpu: GPU;
  try {
    const dawn = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU; globals: object };
    Object.assign(globalThis, dawn.globals);
    gpu = dawn.create([]);
  } catch (e) {
    throw new BackendSetupError(`could not load Dawn for Node (the "webgpu" package): ${errorMessage(e)}. Is libvulkan1 installed?`);
  }
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  const choice = await selectBackend('webgpu');
  if (choice.backend !== 'webgpu') {
    throw new BackendSetupError(
      'no WebGPU adapter: Dawn found no Vulkan driver. Install libvulkan1 and your GPU vendor\'s Vulkan driver; ' +
        'without a GPU, point VK_ICD_FILENAMES at SwiftShader (e.g. /usr/lib/chromium/vk_swiftshader_icd.json) — slow — or use --backend cpu',
    );
  }
  return 'webgpu';
}
