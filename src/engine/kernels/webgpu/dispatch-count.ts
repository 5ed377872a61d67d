/**
 * Counts GPU dispatches: every `dispatchWorkgroups` recorded on any compute pass while `fn`
 * runs, by the label the recorder gives it. The counts depend on the program, not on the
 * device, so SwiftShader counts what an NVIDIA GPU would run.
 */
export interface DispatchRecord {
  /** The pipeline's label (tfjs: the program class; ours: the shader key), else "unlabelled". */
  kernel: string;
  workgroups: [number, number, number];
}

type Encoder = GPUComputePassEncoder & { __dpmPipeline?: GPUComputePipeline };

let active: DispatchRecord[] | null = null;
let patched = false;

function patch(device: GPUDevice): void {
  if (patched) return;
  const proto = Object.getPrototypeOf(device.createCommandEncoder().beginComputePass()) as Encoder;
  const setPipeline = proto.setPipeline;
  const dispatch = proto.dispatchWorkgroups;
  proto.setPipeline = function (this: Encoder, p: GPUComputePipeline) {
    this.__dpmPipeline = p;
    return setPipeline.call(this, p);
  };
  proto.dispatchWorkgroups = function (this: Encoder, x: number, y?: number, z?: number) {
    active?.push({ kernel: pipelineLabel(this.__dpmPipeline), workgroups: [x, y ?? 1, z ?? 1] });
    return dispatch.call(this, x, y, z);
  };
  patched = true;
}

/** tfjs labels its pipelines with the program's class name; rawDispatch with the shader key. */
function pipelineLabel(p: GPUComputePipeline | undefined): string {
  return p?.label || 'unlabelled';
}

export async function countDispatches<T>(device: GPUDevice, fn: () => Promise<T> | T): Promise<{ result: T; dispatches: DispatchRecord[] }> {
  patch(device);
  const prev = active;
  const mine: DispatchRecord[] = [];
  active = mine;
  try {
    const result = await fn();
    return { result, dispatches: mine };
  } finally {
    active = prev;
  }
}
