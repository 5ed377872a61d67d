import * as tf from '@tensorflow/tfjs';
import { requireWebGpu, type ProgramUniform, type WebGpuBackendInternals } from './backend-internals';

/**
 * Dispatches our own WGSL compute shader on tfjs's command encoder, in order with tfjs's own
 * programs, over any number of tfjs tensors bound read-write (within the device's 8 storage
 * buffers per stage). tfjs's program interface has one output per dispatch; this is how one
 * dispatch updates a weight and its momentum buffer together, or writes several outputs.
 *
 * The shader declares `@group(0) @binding(i) var<storage, read_write> ...` for buffers[i] (or
 * `read` for inputs it does not write), and, when `uniforms` is given,
 * `@group(0) @binding(buffers.length) var<uniform> u: U;` whose layout follows WGSL's rules as
 * tfjs's makeUniforms packs them. Entry point: `main`.
 *
 * Writing into a tensor in place is safe only when nothing else shares its buffer: see
 * `makeExclusive`.
 */
export interface RawShader {
  /** Unique per distinct WGSL source: the pipeline cache key. */
  key: string;
  code: string;
}

const shaders = new Map<string, RawShader>();

/** The shader for `key`, its WGSL built once: programs generated per size share one source per key. */
export function cachedShader(key: string, build: () => string): RawShader {
  let s = shaders.get(key);
  if (!s) shaders.set(key, (s = { key, code: build() }));
  return s;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function pipelineFor(b: WebGpuBackendInternals, shader: RawShader): GPUComputePipeline {
  let cache = pipelines.get(b.device);
  if (!cache) pipelines.set(b.device, (cache = new Map()));
  let p = cache.get(shader.key);
  if (!p) {
    p = b.device.createComputePipeline({ label: shader.key, layout: 'auto', compute: { module: b.device.createShaderModule({ code: shader.code }), entryPoint: 'main' } });
    cache.set(shader.key, p);
  }
  return p;
}


export function rawDispatch(shader: RawShader, buffers: tf.TensorInfo[], uniforms: ProgramUniform | null, workgroups: [number, number?, number?]): void {
  const b = requireWebGpu();
  const [x, y = 1, z = 1] = workgroups;
  if (x === 0 || y === 0 || z === 0) return;
  const entries: GPUBindGroupEntry[] = buffers.map((t, i) => {
    b.uploadToGPU(t.dataId);
    const data = b.tensorMap.get(t.dataId);
    if (!data || !(data.resource instanceof GPUBuffer)) throw new Error(`rawDispatch ${shader.key}: binding ${i} has no GPU buffer`);
    // tfjs keeps a CPU copy of a tensor it has read back and serves later reads from it; a
    // binding may be written here, so the GPU buffer becomes the only truth.
    data.values = null;
    return { binding: i, resource: { buffer: data.resource } };
  });
  if (uniforms) entries.push({ binding: buffers.length, resource: b.makeUniforms(uniforms) });
  const pipeline = pipelineFor(b, shader);
  const bindGroup = b.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  // Buffers used by commands not yet submitted must outlive a dispose until the submit.
  for (const t of buffers) b.commandQueueOwnedIds.add(t.dataId);
  b.ensureCommandEncoderReady();
  if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder!.beginComputePass();
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(x, y, z);
  b.dispatchCountInPass++;
  // Submit in batches as tfjs's own programs do, so the GPU starts early on long steps.
  if (b.dispatchCountInPass >= tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}

/** A new float32 (or int32) tensor on the GPU whose contents a raw shader will write. */
export function rawOutput(shape: number[], dtype: 'float32' | 'int32' = 'float32'): tf.TensorInfo {
  const b = requireWebGpu();
  const info = b.makeTensorInfo(shape, dtype);
  b.uploadToGPU(info.dataId);
  return info;
}

/**
 * tfjs shares one buffer between a tensor and its clones and reshapes (they only count
 * references). Before a shader writes a variable in place, the variable must own its buffer,
 * else the write would change every tensor that shares it (a DPM snapshot, say). Returns
 * whether a copy was needed.
 */
export function makeExclusive(v: tf.Variable, copy: (v: tf.Variable) => tf.Tensor): boolean {
  const b = requireWebGpu();
  if (b.refCount(v.dataId) <= 1) return false;
  const fresh = copy(v);
  v.assign(fresh);
  fresh.dispose();
  return true;
}

/** WGSL declarations of k tensors `t0 … t{k-1}` bound at 0 … k-1. */
export function tensorBindings(k: number, access: 'read' | 'read_write'): string {
  return Array.from({ length: k }, (_v, i) => `@group(0) @binding(${i}) var<storage, ${access}> t${i}: array<f32>;`).join('\n');
}

/**
 * The cases of a WGSL `switch t` over those tensors, `body(i)` for tensor i: WGSL has no
 * arrays of buffers, so this is how a shader bound to several tensors picks one at run time.
 */
export function tensorCases(k: number, body: (i: number) => string): string {
  return Array.from({ length: k }, (_v, i) => `    case ${i}: { ${body(i)} }`).join('\n');
}
