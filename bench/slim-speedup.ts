import * as tf from '@tensorflow/tfjs';
import { countCost } from '../src/engine/cost';
import type { ModelName } from '../src/engine/experiment';
import { buildModelDef, disposeModel, forward, initParams, type Model } from '../src/engine/models';
import { groupImportance, selectToTarget, slimModel } from '../src/engine/pruning';
import { median, randomBatch, settle, timeWindows, windowNote, withOverrides, type BenchOptions, type FigureInput, type TimingPlan } from './common';

/**
 * Does removing channels buy real speed? Prunes a model's channel families down to a FLOPs
 * target with the pruning module's own selection, slims it into a physically smaller model
 * (slimModel: the same path the app takes after a run), and compares inference images/s of
 * the slim and the dense model with the FLOPs ratio. Speed-up / FLOPs reduction near 1 means
 * the backend turns saved MACs into saved time; the target is >= 0.8.
 */

export const DEFAULT_TARGET = 0.5;
export const EFFICIENCY_TARGET = 0.8;
/** Channel multiple of the aligned variant. */
export const ALIGN = 4;

interface Plan extends TimingPlan {
  models: ModelName[];
  batch: number;
  target: number;
  note?: string;
}

export function planFor(opts: BenchOptions): Plan {
  let p: Omit<Plan, 'target'>;
  if (opts.quick) {
    p = { models: ['tiny'], batch: 4, warmup: 1, windows: 2, stepsPerWindow: 1, note: 'quick mode: tiny sizes, proves the code path only' };
  } else if (opts.backend === 'cpu') {
    p = { models: ['tiny', 'resnet20'], batch: 8, warmup: 1, windows: 3, stepsPerWindow: 1, note: 'cpu backend: tiny and resnet20 at batch 8 by default' };
  } else {
    p = { models: ['resnet56', 'vgg16'], batch: 128, warmup: 5, windows: 5, stepsPerWindow: 10 };
  }
  return withOverrides({ ...p, target: opts.target ?? DEFAULT_TARGET }, opts);
}

export async function run(opts: BenchOptions): Promise<FigureInput[]> {
  const plan = planFor(opts);
  if (!(plan.target > 0 && plan.target < 1)) throw new Error(`slim-speedup: --target must be in (0, 1), got ${plan.target}`);
  const out: FigureInput[] = [];
  for (const name of plan.models) out.push(...(await measureModel(name, plan)));
  return out;
}

/**
 * Channels to keep per family so the model's FLOPs fall to `target` of the dense ones: every
 * family ranked by its group L2 importance, each losing about the same share (layer scope),
 * at least one channel left in each. With `align` > 1, each family then takes back its most
 * important removed channels until its count is a multiple of `align` (tfjs's WebGPU convs
 * run vectorised only on channel counts divisible by 4).
 */
export async function keepForTarget(model: Model, target: number, align = 1): Promise<Map<string, number[]>> {
  const def = model.def;
  const scores: Float32Array[] = [];
  for (const fam of def.families) {
    const s = groupImportance(model, fam, 2, ['out', 'in']);
    scores.push((await s.data()) as Float32Array);
    s.dispose();
  }
  const chosen = selectToTarget({
    def,
    available: def.families.map((f) => new Array<boolean>(f.channels).fill(true)),
    staying: def.families.map((f) => f.channels),
    scores,
    minKeep: def.families.map(() => 1),
    scope: 'layer',
    targetKind: 'flops',
    target,
  });
  const removed = def.families.map(() => new Set<number>());
  for (const c of chosen) removed[c.family].add(c.channel);
  return new Map(
    def.families.map((f, i) => {
      const kept = Array.from({ length: f.channels }, (_v, c) => c).filter((c) => !removed[i].has(c));
      const want = Math.min(f.channels, Math.ceil(kept.length / align) * align);
      const back = [...removed[i]].sort((a, b) => scores[i][b] - scores[i][a]).slice(0, want - kept.length);
      return [f.id, [...kept, ...back].sort((a, b) => a - b)];
    }),
  );
}

async function measureModel(name: ModelName, plan: Plan): Promise<FigureInput[]> {
  const dense = initParams(buildModelDef(name), 1);
  const keep = await keepForTarget(dense, plan.target);
  const slim = slimModel(dense, keep);
  const aligned = slimModel(dense, await keepForTarget(dense, plan.target, ALIGN));
  const { x, y } = randomBatch(plan.batch, dense.def.inputShape, dense.def.numClasses);
  y.dispose(); // inference needs no labels
  try {
    const denseCost = countCost(dense.def);
    const slimCost = countCost(slim.def);
    const alignedCost = countCost(aligned.def);
    const counted = countCost(dense.def, new Map([...keep].map(([id, k]) => [id, k.length])));
    if (counted.flops !== slimCost.flops) throw new Error(`slim-speedup: slimmed ${name} has ${slimCost.flops} MACs but its masked count is ${counted.flops}`);
    // Interleaved windows: load on a shared machine drifts, and drift must hit both models alike.
    const dRates: number[] = [];
    const sRates: number[] = [];
    const aRates: number[] = [];
    for (let w = 0; w < plan.windows; w++) {
      const one: TimingPlan = { warmup: w === 0 ? plan.warmup : 0, windows: 1, stepsPerWindow: plan.stepsPerWindow };
      const images = plan.batch * plan.stepsPerWindow;
      dRates.push(images / (await timeInference(dense, x, one)));
      sRates.push(images / (await timeInference(slim, x, one)));
      aRates.push(images / (await timeInference(aligned, x, one)));
    }
    const dIps = median(dRates);
    const sIps = median(sRates);
    const aIps = median(aRates);
    const flopsReduction = denseCost.flops / slimCost.flops;
    const speedup = sIps / dIps;
    const aReduction = denseCost.flops / alignedCost.flops;
    const aSpeedup = aIps / dIps;
    const tag = { model: name, batch: plan.batch };
    const note = [plan.note, `kept ${(plan.target * 100).toFixed(0)}% FLOPs target, layer-wise L2 selection`, windowNote(plan, dRates, 'images/s (dense)')]
      .filter(Boolean)
      .join('; ');
    return [
      { ...tag, figure: 'dense inference images/s', value: dIps, unit: 'images/s', note },
      { ...tag, figure: 'slim inference images/s', value: sIps, unit: 'images/s' },
      { ...tag, figure: 'dense MACs', value: denseCost.flops, unit: 'MACs/image' },
      { ...tag, figure: 'slim MACs', value: slimCost.flops, unit: 'MACs/image' },
      { ...tag, figure: 'slim params', value: slimCost.params, unit: 'params' },
      { ...tag, figure: 'FLOPs reduction', value: flopsReduction, unit: 'x' },
      { ...tag, figure: 'measured speed-up', value: speedup, unit: 'x' },
      { ...tag, figure: 'speed-up / FLOPs reduction', value: speedup / flopsReduction, unit: `ratio (target >= ${EFFICIENCY_TARGET})` },
      { ...tag, figure: `slim x${ALIGN} inference images/s`, value: aIps, unit: 'images/s', note: `slim x${ALIGN}: every family's kept count rounded up to a multiple of ${ALIGN}` },
      { ...tag, figure: `slim x${ALIGN} FLOPs reduction`, value: aReduction, unit: 'x' },
      { ...tag, figure: `slim x${ALIGN} measured speed-up`, value: aSpeedup, unit: 'x' },
      { ...tag, figure: `slim x${ALIGN} speed-up / FLOPs reduction`, value: aSpeedup / aReduction, unit: `ratio (target >= ${EFFICIENCY_TARGET})` },
    ];
  } finally {
    x.dispose();
    disposeModel(aligned);
    disposeModel(slim);
    disposeModel(dense);
  }
}

async function timeInference(model: Model, x: tf.Tensor4D, plan: TimingPlan): Promise<number> {
  let last: tf.Tensor | null = null;
  const step = async () => {
    last?.dispose();
    last = forward(model, x, false);
  };
  const seconds = await timeWindows(plan, step, async () => {
    if (last) await settle(last);
  });
  (last as tf.Tensor | null)?.dispose();
  return seconds[0];
}
