import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { setupNodeBackend } from '../../../cli/node-backend';

/**
 * Vitest files that test WebGPU kernels call this in beforeAll: tfjs's real WebGPU backend on
 * Dawn for Node. Without a GPU (here and in CI) Dawn runs on SwiftShader's Vulkan driver, which
 * Debian's chromium package ships; .ci/run installs it and libvulkan1.
 */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export async function useWebGpuBackend(): Promise<void> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  await setupNodeBackend('webgpu');
  if (tf.getBackend() !== 'webgpu') throw new Error('WebGPU backend did not start');
}
