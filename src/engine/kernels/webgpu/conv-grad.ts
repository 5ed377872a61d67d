import * as tf from '@tensorflow/tfjs';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { ProgramUniform, WebGpuBackendInternals } from './backend-internals';
import { filterGradDims, inputGradDims, planFits, splitKPlan, sumGeometry, WORKGROUP, type ConvShape, type SplitKPlan } from './conv-grad-plan';
import { fastWebGpu, stockWebGpuFallback } from './install';

/**
 * Both conv gradients as one split-K implicit GEMM (the plan and its reasons: conv-grad-plan.ts),
 * for NHWC input, HWIO filter, 'same' padding, dilation 1, float32. Anything else, and
 * everything while `fastWebGpu()` is off, runs tfjs's own kernel.
 *
 * Conv2DBackpropFilter: tfjs 4.22 runs one invocation per filter weight looping over
 * batch x outH x outW (ResNet-56 stage 1 at batch 128: 2,304 invocations of 131,072 serial
 * MACs each, so most of a large GPU idles). Ours, at batch 128: at most 4,016 serial MACs per
 * invocation and 9,216 or more invocations, in 2 dispatches (the GEMM, then the sum of its
 * partial tiles; 1 where the reduction fits one workgroup).
 *
 * Conv2DBackpropInput: ours too, chosen on these figures (batch 128, from conv-geometry.ts
 * and tfjs's dispatch code). tfjs's default, the naive direct program
 * (WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE = true), gives each invocation 8 input elements (vec4
 * form) and loops over kH x kW x outC with every operand read from global memory, no reuse
 * through workgroup memory: 4,608 serial MACs per invocation in ResNet-56's stage 3 and
 * 36,864 in VGG16-BN's 512-channel convs, where only 32,768 invocations run at 2 x 2. Its
 * matmul path (flag false) tiles, but each invocation runs the whole reduction for 16
 * outputs (9,216 serial MACs in ResNet-56's stage 3, 73,728 in VGG16-BN's 512-channel convs)
 * and at 2 x 2 spatial 7 of 8 rows of its 32-row tiles are padding. Ours: at most 2,352 serial
 * MACs and 1 dispatch per ResNet-56 input gradient, at most 3,760 and 1 or 2 dispatches for
 * VGG16-BN. SwiftShader cannot rank them (a CPU: each barrier is a switch between the
 * invocations it emulates, and tiling saves no memory bandwidth there). On it, at batch 8,
 * one call took: ResNet-56 stage 3 (64 -> 64 at 8 x 8) naive 629 ms, matmul 1,446 ms, ours
 * 2,353 ms; VGG16-BN 512 -> 512 at 2 x 2 naive 1,677 ms, matmul 27,875 ms, ours 5,639 ms
 * (filter gradient, stock vs ours: 3,865 vs 2,172 ms and 15,802 vs 5,050 ms). A GPU
 * measurement decides; until one exists the figures above do. The one cost ours takes on: for a
 * stride-2 conv, three of four input pixels take no tap of a given filter position, and
 * their zeros are multiplied (ResNet-56's 4 stride-2 convs; VGG16-BN has none). Removing the
 * Conv2DBackpropInput entry of WEBGPU_KERNELS restores tfjs's, should a GPU measure say so.
 */

type Kind = 'filter' | 'input';

const INPUTS: Record<Kind, [string, string]> = { filter: ['x', 'dy'], input: ['dy', 'W'] };

const GEMM_UNIFORMS =
  'M : i32, N : i32, R : i32, chunk : i32, steps : i32, inH : i32, inW : i32, inC : i32, outH : i32, outW : i32, outC : i32, kW : i32, strideH : i32, strideW : i32, padT : i32, padL : i32,';

/** A layout that is not flat, so tfjs's entry point calls our `main()` without an index. */
function tiledLayout(rank: number): WebGPUProgram['dispatchLayout'] {
  return { x: [rank - 1], y: Array.from({ length: rank - 1 }, (_v, i) => i) };
}

/**
 * WGSL that stages one tk-deep slice of A (As[aOff + kk * tm + mm]) and B (Bs[bOff + kk * tn + nn]) per
 * step: `prologue` runs once before the reduction loop, `stage` once per step with k0 (the
 * slice's first reduction index) and r1 (the chunk's end). Integer division is the costly
 * part of an implicit GEMM's gather on a GPU, so each invocation keeps its elements' fixed
 * coordinates from the prologue and divides only what changes per step.
 */
interface Staging {
  prologue: string;
  stage: string;
}

/**
 * Filter gradient. A[m, r] = x at the patch tap m = (kh, kw, ci) of output pixel
 * r = (b, oy, ox): ci is contiguous in x, so consecutive invocations take consecutive m, and
 * each invocation keeps one m (hoisted) and walks its r's by carrying (b, oy, ox) forward.
 * B[r, n] = dy[r, n], contiguous in n.
 */
function filterStaging(tm: number, tn: number, tk: number): Staging {
  const aStep = WORKGROUP / tm;
  const bStep = WORKGROUP / tn;
  return {
    prologue: `
      let aCol = t % ${tm};
      let mA = m0 + aCol;
      let aRow = mA < uniforms.M;
      let ci = mA % uniforms.inC;
      let kwA = (mA / uniforms.inC) % uniforms.kW;
      let khA = mA / (uniforms.inC * uniforms.kW);
      let aK = t / ${tm};
      let bCol = t % ${tn};
      let nB = n0 + bCol;
      let bK = t / ${tn};`,
    stage: `
        var rA = k0 + aK;
        var ox = rA % uniforms.outW;
        var oy = (rA / uniforms.outW) % uniforms.outH;
        var bA = rA / (uniforms.outW * uniforms.outH);
        for (var i = 0; i < ${tk / aStep}; i++) {
          var v = 0.0;
          let iy = oy * uniforms.strideH + khA - uniforms.padT;
          let ix = ox * uniforms.strideW + kwA - uniforms.padL;
          if (aRow && rA < r1 && iy >= 0 && iy < uniforms.inH && ix >= 0 && ix < uniforms.inW) {
            v = x[((bA * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC + ci];
          }
          As[aOff + (aK + i * ${aStep}) * ${tm} + aCol] = v;
          rA += ${aStep};
          ox += ${aStep};
          while (ox >= uniforms.outW) { ox -= uniforms.outW; oy += 1; }
          while (oy >= uniforms.outH) { oy -= uniforms.outH; bA += 1; }
        }
        for (var i = 0; i < ${tk / bStep}; i++) {
          let kk = bK + i * ${bStep};
          let rB = k0 + kk;
          var v = 0.0;
          if (nB < uniforms.N && rB < r1) { v = dy[rB * uniforms.outC + nB]; }
          Bs[bOff + kk * ${tn} + bCol] = v;
        }`,
  };
}

/**
 * Input gradient. A[m, r] = dy at the output pixel that tap r = (kh, kw, co) of input pixel
 * m = (b, iy, ix) comes from, if any; B[r, n] = W[kh, kw, n, co]. co is contiguous in both,
 * so consecutive invocations take consecutive r: each invocation has one r per step (divided
 * once) and fixed m's, decomposed in the prologue. The strides are compile-time constants,
 * so the divisibility test compiles to shifts.
 */
function inputStaging(tm: number, tn: number, tk: number, strideH: number, strideW: number): Staging {
  const mStep = WORKGROUP / tk;
  const perA = tm / mStep;
  return {
    prologue: `
      let kR = t % ${tk};
      let mSub = t / ${tk};
      var mB : array<i32, ${perA}>;
      var mIy : array<i32, ${perA}>;
      var mIx : array<i32, ${perA}>;
      for (var i = 0; i < ${perA}; i++) {
        let m = m0 + mSub + i * ${mStep};
        mIx[i] = m % uniforms.inW;
        // Rows past M get a row no tap reaches, so they stage zeros.
        mIy[i] = select(-1073741824, (m / uniforms.inW) % uniforms.inH, m < uniforms.M);
        mB[i] = m / (uniforms.inW * uniforms.inH);
      }`,
    stage: `
        let r = k0 + kR;
        let rOk = r < r1;
        let co = r % uniforms.outC;
        let khw = r / uniforms.outC;
        let kw = khw % uniforms.kW;
        let kh = khw / uniforms.kW;
        for (var i = 0; i < ${perA}; i++) {
          var v = 0.0;
          let py = mIy[i] + uniforms.padT - kh;
          let px = mIx[i] + uniforms.padL - kw;
          if (rOk && py >= 0 && px >= 0) {
            let oy = py / ${strideH};
            let ox = px / ${strideW};
            if (oy * ${strideH} == py && ox * ${strideW} == px && oy < uniforms.outH && ox < uniforms.outW) {
              v = dy[((mB[i] * uniforms.outH + oy) * uniforms.outW + ox) * uniforms.outC + co];
            }
          }
          As[aOff + kR * ${tm} + mSub + i * ${mStep}] = v;
        }
        for (var i = 0; i < ${tn / mStep}; i++) {
          let n = n0 + mSub + i * ${mStep};
          var v = 0.0;
          if (rOk && n < uniforms.N) { v = W[(khw * uniforms.inC + n) * uniforms.outC + co]; }
          Bs[bOff + kR * ${tn} + mSub + i * ${mStep}] = v;
        }`,
  };
}

export class SplitKConvGradProgram implements WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: WebGPUProgram['dispatchLayout'];
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms = GEMM_UNIFORMS;

  private readonly staging: Staging;

  constructor(
    kind: Kind,
    private readonly plan: SplitKPlan,
    strides: [number, number],
    outputShape: number[],
  ) {
    this.variableNames = [...INPUTS[kind]];
    this.outputShape = outputShape;
    this.dispatchLayout = tiledLayout(outputShape.length);
    this.dispatch = [plan.tilesM, plan.tilesN, plan.splits];
    this.workgroupSize = [WORKGROUP * plan.groups, 1, 1];
    this.staging = kind === 'filter' ? filterStaging(plan.tm, plan.tn, plan.tk) : inputStaging(plan.tm, plan.tn, plan.tk, strides[0], strides[1]);
    const variant = `${plan.tm}x${plan.tn}_g${plan.groups}_k${plan.tk}`;
    this.shaderKey = kind === 'filter' ? `dpmConvGrad_filter_${variant}` : `dpmConvGrad_input_${variant}_s${strides[0]}x${strides[1]}`;
  }

  getUserCode(): string {
    const { tm, tn, tk, groups } = this.plan;
    const cols = tn / 4;
    // Groups 1.. hand their tiles to group 0 through As, which is free once the loop is done.
    const combine =
      groups === 1
        ? ''
        : `
      for (var h = 1; h < ${groups}; h++) {
        workgroupBarrier();
        if (g == h) {
          for (var i = 0; i < 4; i++) { for (var j = 0; j < 4; j++) { As[t * 16 + i * 4 + j] = acc[i][j]; } }
        }
        workgroupBarrier();
        if (g == 0) {
          for (var i = 0; i < 4; i++) {
            acc[i] = acc[i] + vec4<f32>(As[t * 16 + i * 4], As[t * 16 + i * 4 + 1], As[t * 16 + i * 4 + 2], As[t * 16 + i * 4 + 3]);
          }
        }
      }`;
    return `
    var<workgroup> As: array<f32, ${groups * tk * tm}>;
    var<workgroup> Bs: array<f32, ${groups * tk * tn}>;

    fn main() {
      let t = i32(localIndex) % ${WORKGROUP};
      let g = i32(localIndex) / ${WORKGROUP};
      let aOff = g * ${tk * tm};
      let bOff = g * ${tk * tn};
      let m0 = i32(workgroupId.x) * ${tm};
      let n0 = i32(workgroupId.y) * ${tn};
      let rStart = (i32(workgroupId.z) * ${groups} + g) * uniforms.chunk;
      let r1 = min(rStart + uniforms.chunk, uniforms.R);
      let tx = t % ${cols};
      let ty = t / ${cols};
      var acc : array<vec4<f32>, 4>;${this.staging.prologue}
      // The trip count is a uniform, so every barrier is in uniform control flow.
      for (var step = 0; step < uniforms.steps; step++) {
        let k0 = rStart + step * ${tk};
        ${this.staging.stage}
        workgroupBarrier();
        for (var kk = 0; kk < ${tk}; kk++) {
          let a = vec4<f32>(As[aOff + kk * ${tm} + ty * 4], As[aOff + kk * ${tm} + ty * 4 + 1], As[aOff + kk * ${tm} + ty * 4 + 2], As[aOff + kk * ${tm} + ty * 4 + 3]);
          let b = vec4<f32>(Bs[bOff + kk * ${tn} + tx * 4], Bs[bOff + kk * ${tn} + tx * 4 + 1], Bs[bOff + kk * ${tn} + tx * 4 + 2], Bs[bOff + kk * ${tn} + tx * 4 + 3]);
          acc[0] = fma(vec4<f32>(a.x), b, acc[0]);
          acc[1] = fma(vec4<f32>(a.y), b, acc[1]);
          acc[2] = fma(vec4<f32>(a.z), b, acc[2]);
          acc[3] = fma(vec4<f32>(a.w), b, acc[3]);
        }
        workgroupBarrier();
      }${combine}
      // Workgroup z writes its partial tile into slab z (the whole output when there is one).
      let base = i32(workgroupId.z) * uniforms.M * uniforms.N;
      for (var i = 0; i < 4; i++) {
        let m = m0 + ty * 4 + i;
        if (g == 0 && m < uniforms.M) {
          for (var j = 0; j < 4; j++) {
            let n = n0 + tx * 4 + j;
            if (n < uniforms.N) { result[base + m * uniforms.N + n] = acc[i][j]; }
          }
        }
      }
    }`;
  }
}

/**
 * Sums the split-K partial slabs: out[i] = sum over s of partial[s][i]. `lanes` invocations
 * share each output, each summing every lanes-th slab, then one adds their results.
 */
export class SumPartialsProgram implements WebGPUProgram {
  variableNames = ['partial'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: WebGPUProgram['dispatchLayout'];
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;
  uniforms = 'splits : i32,';

  constructor(
    outputShape: number[],
    private readonly lanes: number,
    workgroups: number,
  ) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_v, i) => i) };
    this.dispatch = [workgroups, 1, 1];
    this.shaderKey = `dpmConvGradSumPartials_${lanes}`;
  }

  getUserCode(): string {
    const per = WORKGROUP / this.lanes;
    // The flat index tfjs passes is workgroup * 64 + local index, also when it reshapes a
    // dispatch past 65,535 workgroups into two dimensions.
    return `
    var<workgroup> laneSums: array<f32, ${WORKGROUP}>;

    fn main(index : i32) {
      let t = index % ${WORKGROUP};
      let o = (index / ${WORKGROUP}) * ${per} + t % ${per};
      let lane = t / ${per};
      var s = 0.0;
      if (o < uniforms.size) {
        for (var k = lane; k < uniforms.splits; k += ${this.lanes}) { s = s + partial[k * uniforms.size + o]; }
      }
      laneSums[t] = s;
      workgroupBarrier();
      if (lane == 0 && o < uniforms.size) {
        var total = 0.0;
        for (var l = 0; l < ${this.lanes}; l++) { total = total + laneSums[l * ${per} + t]; }
        setOutputAtIndex(o, total);
      }
    }`;
  }
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

interface ConvAttrs {
  strides: number | [number, number];
  pad: unknown;
  dataFormat?: string;
  dimRoundingMode?: string | null;
}

/** The conv when our programs handle it, else null (the caller falls back to tfjs's kernel). */
function handledConv(xShape: number[], filterShape: number[], attrs: ConvAttrs, dtypes: tf.DataType[]): { conv: ConvShape; info: tf.backend_util.Conv2DInfo } | null {
  if (!fastWebGpu()) return null;
  if (attrs.pad !== 'same' || (attrs.dataFormat ?? 'NHWC') !== 'NHWC' || attrs.dimRoundingMode != null) return null;
  if (dtypes.some((d) => d !== 'float32')) return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    'same',
  );
  const conv: ConvShape = {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
  };
  return { conv, info };
}

function gemmUniforms(plan: SplitKPlan, info: tf.backend_util.Conv2DInfo): ProgramUniform {
  const i32 = (v: number) => ({ type: 'int32' as const, data: [v] });
  return [
    plan.M, plan.N, plan.R, plan.chunk, plan.chunk / plan.tk,
    info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels, info.filterWidth,
    info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ].map(i32);
}

/** One GEMM dispatch, plus the summing one when the reduction is split. */
function runSplitK(backend: WebGpuBackendInternals & tf.KernelBackend, kind: Kind, plan: SplitKPlan, info: tf.backend_util.Conv2DInfo, inputs: [tf.TensorInfo, tf.TensorInfo], outShape: number[]): tf.TensorInfo {
  const uniforms = gemmUniforms(plan, info);
  const strides: [number, number] = [info.strideHeight, info.strideWidth];
  if (plan.splits === 1) return backend.runWebGPUProgram(new SplitKConvGradProgram(kind, plan, strides, outShape), inputs, 'float32', uniforms);
  const partial = backend.runWebGPUProgram(new SplitKConvGradProgram(kind, plan, strides, [plan.splits, plan.M * plan.N]), inputs, 'float32', uniforms);
  const out = backend.runWebGPUProgram(new SumPartialsProgram(outShape, plan.sumLanes, sumGeometry(plan).workgroups), [partial], 'float32', [{ type: 'int32', data: [plan.splits] }]);
  backend.disposeData(partial.dataId);
  return out;
}

export function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const handled = handledConv(x.shape, attrs.filterShape, attrs, [x.dtype, dy.dtype]);
  const plan = handled && splitKPlan(filterGradDims(handled.conv));
  const backend = args.backend as unknown as WebGpuBackendInternals & tf.KernelBackend;
  if (!handled || !plan || !planFits(plan, backend.device.limits.maxStorageBufferBindingSize)) return stockWebGpuFallback('Conv2DBackpropFilter', args) as tf.TensorInfo;
  return runSplitK(backend, 'filter', plan, handled.info, [x, dy], attrs.filterShape);
}

export function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const handled = handledConv(attrs.inputShape, filter.shape, attrs, [dy.dtype, filter.dtype]);
  const plan = handled && splitKPlan(inputGradDims(handled.conv));
  const backend = args.backend as unknown as WebGpuBackendInternals & tf.KernelBackend;
  if (!handled || !plan || !planFits(plan, backend.device.limits.maxStorageBufferBindingSize)) return stockWebGpuFallback('Conv2DBackpropInput', args) as tf.TensorInfo;
  return runSplitK(backend, 'input', plan, handled.info, [dy, filter], attrs.inputShape);
}
