import type { ModelDef } from '../../models/graph';
import { filterGradDims, gemmSerialMacs, inputGradDims, splitKPlan, sumGeometry, WORKGROUP, type ConvShape, type GemmDims } from './conv-grad-plan';

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
  /**
   * Whether training computes this conv's input gradient; false for a conv that reads the
   * network's input, which is not differentiated. Default true.
   */
  inputGrad?: boolean;
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
 * invocation per input element looping over k x k x outC, or, when both channel counts are
 * multiples of 4, its vec4 form: one invocation per 4 channels x 2 columns (8 elements).
 */
export function stockConvGradGeometry(c: ConvGradCase): ProgramGeometry[] {
  const oh = outSize(c.inH, c.stride);
  const ow = outSize(c.inW, c.stride);
  const programs: ProgramGeometry[] = [{ program: 'Conv2DBackpropFilter (stock)', invocations: c.k * c.k * c.inC * c.outC, serialMacs: c.batch * oh * ow }];
  if (c.inputGrad === false) return programs;
  const vec4 = c.inC % 4 === 0 && c.outC % 4 === 0;
  programs.push(
    vec4
      ? { program: 'Conv2DBackpropInput (stock, vec4)', invocations: c.batch * c.inH * Math.ceil(c.inW / 2) * (c.inC / 4), serialMacs: 8 * c.k * c.k * c.outC }
      : { program: 'Conv2DBackpropInput (stock)', invocations: c.batch * c.inH * c.inW * c.inC, serialMacs: c.k * c.k * c.outC },
  );
  return programs;
}

function convShape(c: ConvGradCase): ConvShape {
  return { batch: c.batch, inH: c.inH, inW: c.inW, inC: c.inC, outH: outSize(c.inH, c.stride), outW: outSize(c.inW, c.stride), outC: c.outC, kH: c.k, kW: c.k };
}

/** One split-K GEMM (conv-grad.ts) and, when its reduction is split, the sum of its partials. */
function splitKGeometry(name: string, d: GemmDims): ProgramGeometry[] {
  const p = splitKPlan(d);
  const gemm = { program: `${name} (split-K GEMM)`, invocations: p.tilesM * p.tilesN * p.splits * p.groups * WORKGROUP, serialMacs: gemmSerialMacs(p) };
  if (p.splits === 1) return [gemm];
  // The summing program adds, it does not multiply: its adds are counted as MACs here.
  const sum = sumGeometry(p);
  return [gemm, { program: `${name} (sum of ${p.splits} partials)`, invocations: sum.workgroups * WORKGROUP, serialMacs: sum.serialAdds }];
}

/** Our programs (conv-grad.ts), one entry per dispatch, from the plan they are dispatched with. */
export function convGradGeometry(c: ConvGradCase): ProgramGeometry[] {
  const shape = convShape(c);
  const programs = splitKGeometry('Conv2DBackpropFilter', filterGradDims(shape));
  if (c.inputGrad !== false) programs.push(...splitKGeometry('Conv2DBackpropInput', inputGradDims(shape)));
  return programs;
}

/**
 * Every conv of a model at a batch size, with the spatial size it sees (models are data:
 * this walks def.ops, reading channel counts from the parameter shapes).
 */
export function modelConvCases(def: ModelDef, batch: number): Array<ConvGradCase & { name: string }> {
  const size = new Map<string, [number, number]>([['input', [def.inputShape[0], def.inputShape[1]]]]);
  const sizeOf = (t: string): [number, number] => {
    const s = size.get(t);
    if (!s) throw new Error(`${def.name}: ${t} used before it is made`);
    return s;
  };
  const shapes = new Map(def.params.map((p) => [p.name, p.shape]));
  const cases: Array<ConvGradCase & { name: string }> = [];
  for (const op of def.ops) {
    switch (op.kind) {
      case 'conv': {
        const [h, w] = sizeOf(op.input);
        const shape = shapes.get(op.weight);
        if (!shape) throw new Error(`${def.name}: conv ${op.out} has no parameter ${op.weight}`);
        const [k, , inC, outC] = shape;
        cases.push({ name: op.weight, batch, inH: h, inW: w, inC, outC, k, stride: op.stride, inputGrad: op.input !== 'input' });
        size.set(op.out, [outSize(h, op.stride), outSize(w, op.stride)]);
        break;
      }
      case 'maxpool': {
        const [h, w] = sizeOf(op.input);
        size.set(op.out, [Math.floor(h / 2), Math.floor(w / 2)]);
        break;
      }
      case 'gap':
      case 'dense':
        size.set(op.out, [1, 1]);
        break;
      case 'add':
        size.set(op.out, sizeOf(op.a));
        break;
      default:
        size.set(op.out, sizeOf(op.input));
    }
  }
  return cases;
}
