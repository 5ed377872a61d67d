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
 * Each workgroup of 64 invocations computes a TM x TN output tile over one chunk of the
 * reduction, staging TK-deep slices of A and B in workgroup memory; each invocation holds a
 * 4 x 4 block of the tile, so it does 16 x chunk multiply-adds. The chunk is capped so that
 * this stays within MAX_SERIAL_MACS; when the reduction needs several chunks, each writes a
 * partial tile and a second program sums the partials (S adds per output).
 */

export const WORKGROUP = 64;
/** Reduction depth staged in workgroup memory per barrier. */
export const TK = 16;
/** Outputs one invocation accumulates (a 4 x 4 register block). */
export const OUTPUTS_PER_INVOCATION = 16;
export const MAX_SERIAL_MACS = 4096;
const MAX_CHUNK = MAX_SERIAL_MACS / OUTPUTS_PER_INVOCATION;
/** Below this many workgroups a large GPU idles; split the reduction further to reach it... */
const TARGET_WORKGROUPS = 1024;
/** ...but not into chunks so short that the partial sums cost more than the MACs. */
const MIN_CHUNK = 64;
/** WebGPU's default maxComputeWorkgroupsPerDimension. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

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
  /** Reduction chunks: workgroups along z; > 1 means a second, summing program runs. */
  splits: number;
  /** Reduction length per chunk, a multiple of TK. */
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

export function splitKPlan(d: GemmDims): SplitKPlan {
  const { tm, tn } = tileFor(d.N);
  const tilesM = ceilDiv(d.M, tm);
  const tilesN = ceilDiv(d.N, tn);
  let splits = ceilDiv(d.R, MAX_CHUNK);
  while (tilesM * tilesN * splits < TARGET_WORKGROUPS && ceilDiv(d.R, splits * 2) >= MIN_CHUNK) splits *= 2;
  // Only for reductions far beyond any CIFAR model at batch 128 (R > 16.7 M) would the cap on
  // z need longer chunks than MAX_CHUNK.
  splits = Math.min(splits, MAX_WORKGROUPS_PER_DIM);
  const chunk = ceilDiv(ceilDiv(d.R, splits), TK) * TK;
  splits = ceilDiv(d.R, chunk);
  return { ...d, tm, tn, tilesM, tilesN, splits, chunk, sumLanes: sumLanesFor(splits) };
}

/** About 16 partials per lane, 1 to 64 lanes (a power of 2, so lanes tile a workgroup). */
function sumLanesFor(splits: number): number {
  let lanes = 1;
  while (lanes < WORKGROUP && splits >= lanes * 32) lanes *= 2;
  return lanes;
}

/** The summing program's shape: workgroups, and the adds one invocation does in sequence. */
export function sumGeometry(p: SplitKPlan): { workgroups: number; serialAdds: number } {
  const outputsPerWorkgroup = WORKGROUP / p.sumLanes;
  return { workgroups: ceilDiv(p.M * p.N, outputsPerWorkgroup), serialAdds: ceilDiv(p.splits, p.sumLanes) + (p.sumLanes > 1 ? p.sumLanes : 0) };
}

/** Whether the dispatch fits WebGPU's per-dimension workgroup limit. */
export function planFits(p: SplitKPlan): boolean {
  return p.tilesM <= MAX_WORKGROUPS_PER_DIM && p.tilesN <= MAX_WORKGROUPS_PER_DIM && p.splits <= MAX_WORKGROUPS_PER_DIM;
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
