/**
 * How the conv gradient kernels split their work: per program dispatched, how many
 * invocations run and the most multiply-adds one invocation does serially. A GPU is fast
 * only when the first is large and the second small; the `dispatches` benchmark reports the
 * worst case over every conv of a model (target: <= 4,096 serial MACs per invocation).
 *
 * The geometry is computed from the same numbers the programs are dispatched with, so it
 * describes what runs, not a model of it.
 */
export interface ConvGradCase {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outC: number;
  /** Square kernel size. */
  k: number;
  stride: number;
}

export interface ProgramGeometry {
  /** Kernel or program name, e.g. "Conv2DBackpropFilter (stock)". */
  program: string;
  invocations: number;
  serialMacs: number;
}

/** 'same' padding, as the models use it. */
export function outSize(inSize: number, stride: number): number {
  return Math.ceil(inSize / stride);
}

/**
 * tfjs-backend-webgpu 4.22's programs: Conv2DDerFilterProgram runs one invocation per filter
 * weight looping over batch x outH x outW; the naive Conv2DDerInputProgram runs one
 * invocation per input element looping over k x k x outC.
 */
export function stockConvGradGeometry(c: ConvGradCase): ProgramGeometry[] {
  const oh = outSize(c.inH, c.stride);
  const ow = outSize(c.inW, c.stride);
  return [
    { program: 'Conv2DBackpropFilter (stock)', invocations: c.k * c.k * c.inC * c.outC, serialMacs: c.batch * oh * ow },
    { program: 'Conv2DBackpropInput (stock)', invocations: c.batch * c.inH * c.inW * c.inC, serialMacs: c.k * c.k * c.outC },
  ];
}
