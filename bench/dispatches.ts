import * as tf from '@tensorflow/tfjs';
import { spatialSizes } from '../src/engine/cost';
import { defaultExperiment, type ModelName } from '../src/engine/experiment';
import { buildModelDef, disposeModel, initParams, type Model } from '../src/engine/models';
import { createPruning } from '../src/engine/pruning';
import type { PruningHooks } from '../src/engine/pruning/types';
import * as geometry from '../src/engine/kernels/webgpu/conv-geometry';
import type { ConvGradCase, ProgramGeometry } from '../src/engine/kernels/webgpu/conv-geometry';
import { requireWebGpu } from '../src/engine/kernels/webgpu/backend-internals';
import { countDispatches, type DispatchRecord } from '../src/engine/kernels/webgpu/dispatch-count';
import { fastWebGpu, setFastWebGpu } from '../src/engine/kernels/webgpu/install';
import { SgdMomentum } from '../src/engine/train/optimizer';
import { trainStep, type StepContext } from '../src/engine/train/step';
import { randomBatch, type BenchOptions, type FigureInput } from './common';
import { DPM_BENCH_NOTE, dpmBenchHooks } from './dpm-setup';

/**
 * How many GPU dispatches one training step launches, by kernel, plain and with DPM's hooks
 * (the dpm-overhead configuration), with our kernels and with stock tfjs in the same run.
 * Counts are a property of the programs, not of the device: SwiftShader counts what a GPU
 * runs, and they hardly depend on the batch, so counting defaults to batch 2. Also the worst
 * serial work of one conv-gradient invocation over every conv of ResNet-56 and VGG16-BN at
 * batch 128, computed from the programs' dispatch geometry (no GPU needed).
 */

/** Targets of issue #10 (ResNet-56). */
export const DISPATCH_TARGET = 1000;
export const DPM_EXTRA_TARGET = 0.1;
export const SERIAL_MACS_TARGET = 4096;
/** A dispatch this small leaves almost all of a GPU idle. */
export const SMALL_DISPATCH_WORKGROUPS = 4;

const GEOMETRY_MODELS: ModelName[] = ['resnet56', 'vgg16'];
const GEOMETRY_BATCH = 128;

type Kernels = 'fast' | 'stock';
type Variant = 'plain' | 'dpm';

export async function run(opts: BenchOptions): Promise<FigureInput[]> {
  const out = serialMacFigures();
  if (opts.backend !== 'webgpu') return out;
  const models: ModelName[] = opts.model ? [opts.model] : opts.quick ? ['tiny'] : GEOMETRY_MODELS;
  const batch = opts.batch ?? 2;
  const warmup = opts.warmup ?? 1;
  const was = fastWebGpu();
  try {
    for (const name of models) {
      const counted = new Map<string, number>();
      for (const variant of ['plain', 'dpm'] as const) {
        for (const kernels of ['fast', 'stock'] as const) {
          setFastWebGpu(kernels === 'fast');
          const records = await countOneStep(name, variant, batch, warmup);
          counted.set(`${variant}/${kernels}`, records.length);
          out.push(...stepFigures(records, { model: name, batch, variant, kernels, warmup }));
        }
      }
      for (const kernels of ['fast', 'stock'] as const) {
        const plain = counted.get(`plain/${kernels}`)!;
        const dpm = counted.get(`dpm/${kernels}`)!;
        out.push({
          figure: 'dpm_extra_dispatches',
          value: (dpm - plain) / plain,
          unit: 'fraction of a plain step',
          model: name,
          batch,
          kernels,
          note: `${dpm} with DPM hooks vs ${plain} plain; ${DPM_BENCH_NOTE}; target <= ${DPM_EXTRA_TARGET}`,
        });
      }
    }
  } finally {
    setFastWebGpu(was);
  }
  return out;
}

/** Builds the model and the step, runs `warmup` steps, then records every dispatch of one more. */
export async function countOneStep(name: ModelName, variant: Variant, batch: number, warmup: number): Promise<DispatchRecord[]> {
  const model = initParams(buildModelDef(name), 1);
  const optimizer = new SgdMomentum(0.9, 5e-4);
  const hooks = variant === 'dpm' ? dpmBenchHooks(model) : plainHooks(model);
  const ctx: StepContext = { model, optimizer, hooks };
  const { x, y } = randomBatch(batch, model.def.inputShape, model.def.numClasses);
  let step = 0;
  const oneStep = async () => {
    const r = await trainStep(ctx, x, y, 0.01, step++);
    // Reading the loss back keeps a step's work from spilling into the next one's count.
    await r.loss.data();
    tf.dispose([r.loss, r.correct]);
  };
  try {
    // The first steps create optimizer slots and (dpm) run the pruning point: not a steady step.
    for (let i = 0; i < warmup; i++) await oneStep();
    const { dispatches } = await countDispatches(requireWebGpu().device, oneStep);
    return dispatches;
  } finally {
    tf.dispose([x, y]);
    hooks.dispose();
    optimizer.dispose();
    disposeModel(model);
  }
}

function plainHooks(model: Model): PruningHooks {
  return createPruning({ model, config: { ...defaultExperiment().prune, pruner: 'none' }, totalSteps: 1, emit: () => undefined });
}

interface StepTag {
  model: ModelName;
  batch: number;
  variant: Variant;
  kernels: Kernels;
  warmup: number;
}

export function stepFigures(records: readonly DispatchRecord[], tag: StepTag): FigureInput[] {
  const byKernel = new Map<string, number>();
  for (const r of records) byKernel.set(r.kernel, (byKernel.get(r.kernel) ?? 0) + 1);
  const breakdown = Object.fromEntries([...byKernel].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  const small = records.filter((r) => workgroups(r) <= SMALL_DISPATCH_WORKGROUPS).length;
  const { model, batch, variant, kernels, warmup } = tag;
  const base = { model, batch, variant, kernels };
  const how = `one training step after ${warmup} warm-up${variant === 'dpm' ? `; ${DPM_BENCH_NOTE}` : ''}`;
  return [
    { ...base, figure: 'dispatches_per_step', value: records.length, unit: 'dispatches', breakdown, note: `${how}; target for resnet56 plain <= ${DISPATCH_TARGET}` },
    { ...base, figure: `dispatches_with_at_most_${SMALL_DISPATCH_WORKGROUPS}_workgroups`, value: small, unit: 'dispatches', note: how },
  ];
}

function workgroups(r: DispatchRecord): number {
  return r.workgroups[0] * r.workgroups[1] * r.workgroups[2];
}

/** Every conv of a model as its gradient programs see it. */
export function convCases(name: ModelName, batch: number): Array<{ conv: string; c: ConvGradCase }> {
  const def = buildModelDef(name);
  const hw = spatialSizes(def);
  const shapes = new Map(def.params.map((p) => [p.name, p.shape]));
  const out: Array<{ conv: string; c: ConvGradCase }> = [];
  for (const op of def.ops) {
    if (op.kind !== 'conv') continue;
    const [k, , inC, outC] = shapes.get(op.weight)!;
    const inSize = hw.get(op.input)!;
    // The image needs no gradient, so the first conv runs no input-gradient program; geometry
    // helpers that know the flag (convGradGeometry) leave that program out.
    const c = { batch, inH: inSize, inW: inSize, inC, outC, k, stride: op.stride, inputGrad: op.input !== 'input' };
    out.push({ conv: op.out, c });
  }
  return out;
}

export interface WorstInvocation {
  conv: string;
  c: ConvGradCase;
  program: ProgramGeometry;
}

/** The program invocation that does the most serial multiply-adds over every conv's gradients. */
export function worstInvocation(name: ModelName, batch: number, geometryOf: (c: ConvGradCase) => ProgramGeometry[]): WorstInvocation {
  let worst: WorstInvocation | null = null;
  for (const { conv, c } of convCases(name, batch)) {
    for (const program of geometryOf(c)) {
      // Ties go to the program with fewer invocations: less of the GPU busy for as long.
      const worse = !worst || program.serialMacs > worst.program.serialMacs || (program.serialMacs === worst.program.serialMacs && program.invocations < worst.program.invocations);
      if (worse) worst = { conv, c, program };
    }
  }
  if (!worst) throw new Error(`${name} has no convolutions`);
  return worst;
}

/**
 * Our conv gradient kernels' geometry, once src/engine/kernels/webgpu/conv-geometry.ts has
 * it (`convGradGeometry`); until then only the stock figure is printed.
 */
export function ourConvGradGeometry(): ((c: ConvGradCase) => ProgramGeometry[]) | null {
  const mod: object = geometry;
  if (!('convGradGeometry' in mod) || typeof mod.convGradGeometry !== 'function') return null;
  return mod.convGradGeometry as (c: ConvGradCase) => ProgramGeometry[];
}

function serialMacFigures(): FigureInput[] {
  const sources: Array<[Kernels, (c: ConvGradCase) => ProgramGeometry[]]> = [['stock', geometry.stockConvGradGeometry]];
  const ours = ourConvGradGeometry();
  if (ours) sources.push(['fast', ours]);
  const out: FigureInput[] = [];
  for (const name of GEOMETRY_MODELS) {
    for (const [kernels, geometryOf] of sources) {
      const w = worstInvocation(name, GEOMETRY_BATCH, geometryOf);
      const { c } = w;
      out.push({
        figure: 'max_serial_macs_per_invocation',
        value: w.program.serialMacs,
        unit: 'MACs',
        model: name,
        batch: GEOMETRY_BATCH,
        kernels,
        note:
          `worst over every conv's gradient programs: ${w.program.program} of ${w.conv} ` +
          `(${c.inH}x${c.inW}x${c.inC} -> ${c.outC}, ${c.k}x${c.k}, stride ${c.stride}), ${w.program.invocations} invocations; ` +
          `computed from the dispatch geometry, no GPU run; target <= ${SERIAL_MACS_TARGET}`,
      });
    }
  }
  return out;
}
