import { MAX_WORKGROUPS_PER_DIMENSION } from './backend-internals';
/**
 * How our conv gradient programs split their work: one split-K implicit GEMM per gradient.
 * Both the kernels (conv-grad.ts) and the geometry report (conv-geometry.ts) take their
 * numbers from `splitKPlan`, so the reported figures are what is dispatched.
 *
 * Filter gradient: dW[m, n] = sum_r A[m, r] B[r, n] with m = (kh, kw, ci), n = co and the
 * reduction r = (b, oy, ox) over batch x output pixels (A: input patches, B: dy).
 * Input gradient: dx[m, n] = sum_r A[m, r] B[r, n] with m = (b, iy, ix), n = ci and
 * r = (kh, kw, co) (A: dy gathered through the stride, B: the filter).
 *
 * A group of 64 invocations computes a TM x TN output tile over one chunk of the reduction,
 * staging tk-deep slices of A and B in workgroup memory; each invocation holds a 4 x 4 block
 * of the tile, so it does 16 x chunk multiply-adds. The chunk is capped so that this stays
 * within MAX_SERIAL_MACS. A workgroup holds 1, 2 or 4 groups over consecutive chunks, which
 * add up their tiles in workgroup memory; when the reduction needs more chunks than that,
 * workgroups along z each write a partial tile and a second program sums the partials.
 */

/** Invocations per group: one group computes one output tile over one reduction chunk. */
export const WORKGROUP = 64;
/** Outputs one invocation accumulates (a 4 x 4 register block). */
export const OUTPUTS_PER_INVOCATION = 16;
export const MAX_SERIAL_MACS = 4096;
/** Below this many invocations a large GPU idles; split the reduction further to reach it... */
const TARGET_INVOCATIONS = 65536;
/** ...but not into chunks so short that the partial sums cost more than the MACs. */
const MIN_CHUNK = 64;

/** A GEMM's sizes: output rows M, output columns N, reduction length R. */
export interface GemmDims {
  M: number;
  N: number;
  R: number;
}

export interface SplitKPlan extends GemmDims {
  /** Output tile per workgroup (TM x TN, TM * TN = 64 invocations x 16 outputs). */
  tm: number;
  tn: number;
  tilesM: number;
  tilesN: number;
  /**
   * Groups of 64 invocations per workgroup (1, 2 or 4), each over its own chunk of the
   * reduction; they add their tiles through workgroup memory at the end. This keeps a
   * reduction of up to 4 chunks (ResNet-56's input gradients: 144 to 576) in one dispatch.
   */
  groups: number;
  /** Reduction depth staged in workgroup memory per barrier (smaller with 4 groups, to fit 16 KiB). */
  tk: number;
  /** Workgroups along z, each over groups x chunk; > 1 means a second, summing program runs. */
  splits: number;
  /** Reduction length per group, a multiple of tk. */
  chunk: number;
  /**
   * Invocations summing each output's partials (lanes of one workgroup, combined through
   * workgroup memory): with hundreds of partials and few outputs (ResNet-56 stage 1: 512
   * partials of 2,304 weights) one adder per output would leave the GPU nearly idle.
   */
  sumLanes: number;
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** Narrow outputs (16 channels or fewer) get a 64 x 16 tile, so no invocation computes padding. */
function tileFor(N: number): { tm: number; tn: number } {
  return N <= 16 ? { tm: 64, tn: 16 } : { tm: 32, tn: 32 };
}

/**
 * The longest chunk within MAX_SERIAL_MACS: 16 multiply-adds per reduction index, plus the
 * 16 adds group 0 does per other group when the groups combine.
 */
function maxChunk(groups: number, tk: number): number {
  return Math.floor((MAX_SERIAL_MACS / OUTPUTS_PER_INVOCATION - (groups - 1)) / tk) * tk;
}

/** Serial multiply-adds (and the combining adds) of one GEMM invocation. */
export function gemmSerialMacs(p: SplitKPlan): number {
  return OUTPUTS_PER_INVOCATION * (p.chunk + p.groups - 1);
}

export function splitKPlan(d: GemmDims): SplitKPlan {
  const { tm, tn } = tileFor(d.N);
  const tilesM = ceilDiv(d.M, tm);
  const tilesN = ceilDiv(d.N, tn);
  // The fewest groups that cover the reduction in one workgroup, else 4.
  const tkFor = (g: number) => (g > 2 ? 8 : 16);
  const groups = [1, 2, 4].find((g) => g * maxChunk(g, tkFor(g)) >= d.R) ?? 4;
  const tk = tkFor(groups);
  const perWorkgroup = groups * maxChunk(groups, tk);
  let splits = ceilDiv(d.R, perWorkgroup);
  const invocations = (n: number) => tilesM * tilesN * n * groups * WORKGROUP;
  while (invocations(splits) < TARGET_INVOCATIONS && ceilDiv(d.R, splits * 2 * groups) >= MIN_CHUNK) splits *= 2;
  // Only for reductions far beyond any CIFAR model at batch 128 (R > 64 M) would the cap on z
  // need longer chunks than maxChunk.
  splits = Math.min(splits, MAX_WORKGROUPS_PER_DIMENSION);
  const chunk = ceilDiv(ceilDiv(d.R, splits * groups), tk) * tk;
  splits = ceilDiv(d.R, chunk * groups);
  return { ...d, tm, tn, tilesM, tilesN, groups, tk, splits, chunk, sumLanes: sumLanesFor(splits) };
}

/** About 8 partials per lane, 1 to 64 lanes (a power of 2, so lanes tile a workgroup). */
function sumLanesFor(splits: number): number {
  let lanes = 1;
  while (lanes < WORKGROUP && splits >= lanes * 16) lanes *= 2;
  return lanes;
}

/** The summing program's shape: workgroups, and the adds one invocation does in sequence. */
export function sumGeometry(p: SplitKPlan): { workgroups: number; serialAdds: number } {
  const outputsPerWorkgroup = WORKGROUP / p.sumLanes;
  return { workgroups: ceilDiv(p.M * p.N, outputsPerWorkgroup), serialAdds: ceilDiv(p.splits, p.sumLanes) + (p.sumLanes > 1 ? p.sumLanes : 0) };
}

/**
 * Whether the plan can run: within WebGPU's per-dimension workgroup limit, its partial slabs
 * within one storage binding (`maxBinding` bytes, the device's limit) and i32 indexing.
 */
export function planFits(p: SplitKPlan, maxBinding: number): boolean {
  const slab = p.splits * p.M * p.N;
  return p.tilesM <= MAX_WORKGROUPS_PER_DIMENSION && p.tilesN <= MAX_WORKGROUPS_PER_DIMENSION && p.splits <= MAX_WORKGROUPS_PER_DIMENSION && slab < 2 ** 31 && slab * 4 <= maxBinding;
}

/** The conv as the gradients see it (any padding: it does not change the GEMM sizes). */
export interface ConvShape {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
}

export function filterGradDims(c: ConvShape): GemmDims {
  return { M: c.kH * c.kW * c.inC, N: c.outC, R: c.batch * c.outH * c.outW };
}

export function inputGradDims(c: ConvShape): GemmDims {
  return { M: c.batch * c.inH * c.inW, N: c.inC, R: c.kH * c.kW * c.outC };
}
