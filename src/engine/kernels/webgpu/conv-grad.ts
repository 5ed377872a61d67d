import * as tf from '@tensorflow/tfjs';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { ProgramUniform, WebGpuBackendInternals } from './backend-internals';
import { filterGradDims, inputGradDims, planFits, splitKPlan, sumGeometry, TK, WORKGROUP, type ConvShape, type SplitKPlan } from './conv-grad-plan';
import { fastWebGpu, stockWebGpuFallback } from './install';

/**
 * Both conv gradients as one split-K implicit GEMM (the plan and its reasons: conv-grad-plan.ts),
 * for NHWC input, HWIO filter, 'same' padding, dilation 1, float32. Anything else, and
 * everything while `fastWebGpu()` is off, runs tfjs's own kernel.
 *
 * Conv2DBackpropFilter: tfjs 4.22 runs one invocation per filter weight looping over
 * batch x outH x outW (ResNet-56 stage 1 at batch 128: 2,304 invocations of 131,072 serial
 * MACs each, so most of a large GPU idles). Ours: at most 4,096 serial MACs per invocation.
 *
 * Conv2DBackpropInput: tfjs 4.22 runs its naive direct program (WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE
 * defaults to true): one invocation per input element (8 when channels are multiples of 4),
 * each looping over kH x kW x outC with no reuse through workgroup memory. That is
 * 4,608 MACs per element for VGG16-BN's 512-channel convs (36,864 per invocation in its
 * vec4 form), and its matmul path (flag false) is one tile per workgroup over the same whole
 * reduction. The same tiled, split-K program as the filter gradient bounds both: see
 * conv-geometry.ts for the figures per model. The one cost ours takes on: for a stride-2
 * conv, three of four reduction entries of the input gradient fall between strided outputs
 * and are multiplied as zeros; those are 2 to 4 convs per model.
 */

type Kind = 'filter' | 'input';

/** WGSL for A[m, r], B[r, n] and the element order each is staged in (coalesced reads). */
const OPERANDS: Record<Kind, { inputs: [string, string]; readA: string; readB: string; aRFastest: boolean; bRFastest: boolean }> = {
  // A: x patches, m = (kh, kw, ci), r = (b, oy, ox); ci is contiguous in x, so m runs fastest.
  // B: dy[r, n], contiguous in n.
  filter: {
    inputs: ['x', 'dy'],
    readA: `
      let ci = m % uniforms.inC;
      let kw = (m / uniforms.inC) % uniforms.kW;
      let kh = m / (uniforms.inC * uniforms.kW);
      let ox = r % uniforms.outW;
      let oy = (r / uniforms.outW) % uniforms.outH;
      let b = r / (uniforms.outW * uniforms.outH);
      let iy = oy * uniforms.strideH + kh - uniforms.padT;
      let ix = ox * uniforms.strideW + kw - uniforms.padL;
      if (iy < 0 || iy >= uniforms.inH || ix < 0 || ix >= uniforms.inW) { return 0.0; }
      return x[((b * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC + ci];`,
    readB: `return dy[r * uniforms.outC + n];`,
    aRFastest: false,
    bRFastest: false,
  },
  // A: dy gathered through the stride, m = (b, iy, ix), r = (kh, kw, co); co is contiguous.
  // B: W[kh, kw, n, co], contiguous in co: both stage with r fastest.
  input: {
    inputs: ['dy', 'W'],
    readA: `
      let ix = m % uniforms.inW;
      let iy = (m / uniforms.inW) % uniforms.inH;
      let b = m / (uniforms.inW * uniforms.inH);
      let co = r % uniforms.outC;
      let kw = (r / uniforms.outC) % uniforms.kW;
      let kh = r / (uniforms.outC * uniforms.kW);
      let ty = iy + uniforms.padT - kh;
      let tx = ix + uniforms.padL - kw;
      if (ty < 0 || tx < 0 || ty % uniforms.strideH != 0 || tx % uniforms.strideW != 0) { return 0.0; }
      let oy = ty / uniforms.strideH;
      let ox = tx / uniforms.strideW;
      if (oy >= uniforms.outH || ox >= uniforms.outW) { return 0.0; }
      return dy[((b * uniforms.outH + oy) * uniforms.outW + ox) * uniforms.outC + co];`,
    readB: `
      let co = r % uniforms.outC;
      let khw = r / uniforms.outC;
      return W[(khw * uniforms.inC + n) * uniforms.outC + co];`,
    aRFastest: true,
    bRFastest: true,
  },
};

const GEMM_UNIFORMS =
  'M : i32, N : i32, R : i32, chunk : i32, steps : i32, inH : i32, inW : i32, inC : i32, outH : i32, outW : i32, outC : i32, kW : i32, strideH : i32, strideW : i32, padT : i32, padL : i32,';

/** A layout that is not flat, so tfjs's entry point calls our `main()` without an index. */
function tiledLayout(rank: number): WebGPUProgram['dispatchLayout'] {
  return { x: [rank - 1], y: Array.from({ length: rank - 1 }, (_v, i) => i) };
}

/** Stages `count` elements of a TK x `tile` slice; `rFastest` picks which index is contiguous. */
function stageLoop(store: string, read: string, tile: number, rFastest: boolean, isA: boolean): string {
  const per = (TK * tile) / WORKGROUP;
  const kk = rFastest ? `e % ${TK}` : `e / ${tile}`;
  const mm = rFastest ? `e / ${TK}` : `e % ${tile}`;
  const [outer, limit] = isA ? ['m0', 'uniforms.M'] : ['n0', 'uniforms.N'];
  const args = isA ? `${outer} + mm, k0 + kk` : `k0 + kk, ${outer} + mm`;
  return `
      for (var i = 0; i < ${per}; i++) {
        let e = t + i * ${WORKGROUP};
        let kk = ${kk};
        let mm = ${mm};
        var v = 0.0;
        if (k0 + kk < r1 && ${outer} + mm < ${limit}) { v = ${read}(${args}); }
        ${store}[kk * ${tile} + mm] = v;
      }`;
}

export class SplitKConvGradProgram implements WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: WebGPUProgram['dispatchLayout'];
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  uniforms = GEMM_UNIFORMS;

  constructor(
    private readonly kind: Kind,
    private readonly plan: SplitKPlan,
    outputShape: number[],
  ) {
    this.variableNames = [...OPERANDS[kind].inputs];
    this.outputShape = outputShape;
    this.dispatchLayout = tiledLayout(outputShape.length);
    this.dispatch = [plan.tilesM, plan.tilesN, plan.splits];
    this.shaderKey = `dpmConvGrad_${kind}_${plan.tm}x${plan.tn}`;
  }

  getUserCode(): string {
    const { tm, tn } = this.plan;
    const op = OPERANDS[this.kind];
    const cols = tn / 4;
    return `
    var<workgroup> As: array<f32, ${TK * tm}>;
    var<workgroup> Bs: array<f32, ${TK * tn}>;

    fn readA(m : i32, r : i32) -> f32 {${op.readA}
    }
    fn readB(r : i32, n : i32) -> f32 {${op.readB}
    }

    fn main() {
      let t = i32(localIndex);
      let m0 = i32(workgroupId.x) * ${tm};
      let n0 = i32(workgroupId.y) * ${tn};
      let rStart = i32(workgroupId.z) * uniforms.chunk;
      let r1 = min(rStart + uniforms.chunk, uniforms.R);
      let tx = t % ${cols};
      let ty = t / ${cols};
      var acc : array<vec4<f32>, 4>;
      // The trip count is a uniform, so every barrier is in uniform control flow.
      for (var step = 0; step < uniforms.steps; step++) {
        let k0 = rStart + step * ${TK};
        ${stageLoop('As', 'readA', tm, op.aRFastest, true)}
        ${stageLoop('Bs', 'readB', tn, op.bRFastest, false)}
        workgroupBarrier();
        for (var kk = 0; kk < ${TK}; kk++) {
          let a = vec4<f32>(As[kk * ${tm} + ty * 4], As[kk * ${tm} + ty * 4 + 1], As[kk * ${tm} + ty * 4 + 2], As[kk * ${tm} + ty * 4 + 3]);
          let b = vec4<f32>(Bs[kk * ${tn} + tx * 4], Bs[kk * ${tn} + tx * 4 + 1], Bs[kk * ${tn} + tx * 4 + 2], Bs[kk * ${tn} + tx * 4 + 3]);
          acc[0] = fma(vec4<f32>(a.x), b, acc[0]);
          acc[1] = fma(vec4<f32>(a.y), b, acc[1]);
          acc[2] = fma(vec4<f32>(a.z), b, acc[2]);
          acc[3] = fma(vec4<f32>(a.w), b, acc[3]);
        }
        workgroupBarrier();
      }
      // Split z writes its partial tile into slab z (the whole output when there is one split).
      let base = i32(workgroupId.z) * uniforms.M * uniforms.N;
      for (var i = 0; i < 4; i++) {
        let m = m0 + ty * 4 + i;
        if (m < uniforms.M) {
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
    plan.M, plan.N, plan.R, plan.chunk, plan.chunk / TK,
    info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels, info.filterWidth,
    info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ].map(i32);
}

/** One GEMM dispatch, plus the summing one when the reduction is split. */
function runSplitK(backend: WebGpuBackendInternals & tf.KernelBackend, kind: Kind, plan: SplitKPlan, info: tf.backend_util.Conv2DInfo, inputs: [tf.TensorInfo, tf.TensorInfo], outShape: number[]): tf.TensorInfo {
  const uniforms = gemmUniforms(plan, info);
  if (plan.splits === 1) return backend.runWebGPUProgram(new SplitKConvGradProgram(kind, plan, outShape), inputs, 'float32', uniforms);
  const partial = backend.runWebGPUProgram(new SplitKConvGradProgram(kind, plan, [plan.splits, plan.M * plan.N]), inputs, 'float32', uniforms);
  const out = backend.runWebGPUProgram(new SumPartialsProgram(outShape, plan.sumLanes, sumGeometry(plan).workgroups), [partial], 'float32', [{ type: 'int32', data: [plan.splits] }]);
  backend.disposeData(partial.dataId);
  return out;
}

export function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const handled = handledConv(x.shape, attrs.filterShape, attrs, [x.dtype, dy.dtype]);
  const plan = handled && splitKPlan(filterGradDims(handled.conv));
  if (!handled || !plan || !planFits(plan)) return stockWebGpuFallback('Conv2DBackpropFilter', args) as tf.TensorInfo;
  const backend = args.backend as unknown as WebGpuBackendInternals & tf.KernelBackend;
  return runSplitK(backend, 'filter', plan, handled.info, [x, dy], attrs.filterShape);
}

export function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const handled = handledConv(attrs.inputShape, filter.shape, attrs, [dy.dtype, filter.dtype]);
  const plan = handled && splitKPlan(inputGradDims(handled.conv));
  if (!handled || !plan || !planFits(plan)) return stockWebGpuFallback('Conv2DBackpropInput', args) as tf.TensorInfo;
  const backend = args.backend as unknown as WebGpuBackendInternals & tf.KernelBackend;
  return runSplitK(backend, 'input', plan, handled.info, [dy, filter], attrs.inputShape);
}
