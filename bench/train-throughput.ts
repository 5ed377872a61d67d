import * as tf from '@tensorflow/tfjs';
import { defaultExperiment, type ModelName } from '../src/engine/experiment';
import { buildModelDef, disposeModel, initParams, trainableVars, type Model } from '../src/engine/models';
import { createPruning } from '../src/engine/pruning';
import { SgdMomentum } from '../src/engine/train/optimizer';
import { trainStep, type StepContext } from '../src/engine/train/step';
import { median, randomBatch, settle, timeWindows, windowNote, withOverrides, type BenchOptions, type FigureInput, type TimingPlan } from './common';

/**
 * Training throughput: images/s of one full training step (forward, backward, SGD momentum +
 * weight decay update) through the engine's own trainStep, with no pruning, on a fixed batch.
 */

const GPU_MODELS: ModelName[] = ['resnet56', 'resnet20', 'vgg16'];
// Even with the fast CPU kernels ResNet-20 takes seconds per step; ResNet-56 or VGG16 far longer.
const CPU_MODELS: ModelName[] = ['tiny', 'resnet20'];

interface Plan extends TimingPlan {
  models: ModelName[];
  batch: number;
  note?: string;
}

export function planFor(opts: BenchOptions): Plan {
  let p: Plan;
  if (opts.quick) {
    p = { models: ['tiny'], batch: 2, warmup: 0, windows: 1, stepsPerWindow: 1, note: 'quick mode: tiny sizes, proves the code path only' };
  } else if (opts.backend === 'cpu') {
    p = {
      models: CPU_MODELS,
      batch: 2,
      warmup: 1,
      windows: 2,
      stepsPerWindow: 1,
      note: 'cpu backend: tiny and resnet20 at batch 2, two one-step windows by default (pass --batch for more); not comparable with GPU figures',
    };
  } else {
    p = { models: GPU_MODELS, batch: 128, warmup: 5, windows: 5, stepsPerWindow: 10 };
  }
  return withOverrides(p, opts);
}

export async function run(opts: BenchOptions): Promise<FigureInput[]> {
  const plan = planFor(opts);
  const out: FigureInput[] = [];
  for (const name of plan.models) out.push(...(await measureModel(name, plan)));
  return out;
}

async function measureModel(name: ModelName, plan: Plan): Promise<FigureInput[]> {
  const model = initParams(buildModelDef(name), 1);
  const optimizer = new SgdMomentum(0.9, 5e-4);
  const base = defaultExperiment();
  const totalSteps = plan.warmup + plan.windows * plan.stepsPerWindow + 1;
  const hooks = createPruning({ model, config: { ...base.prune, pruner: 'none' }, totalSteps, emit: () => undefined });
  const ctx: StepContext = { model, optimizer, hooks };
  const { x, y } = randomBatch(plan.batch, model.def.inputShape, model.def.numClasses);
  let step = 0;
  const oneStep = async () => {
    const r = await trainStep(ctx, x, y, 0.01, step++);
    tf.dispose([r.loss, r.correct]);
  };
  // The classifier bias is the last variable the optimizer writes: reading it back waits for the update too.
  const lastVar = lastUpdated(model);
  let heapPeak = process.memoryUsage().heapUsed;
  try {
    const seconds = await timeWindows(plan, oneStep, () => settle(lastVar), () => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    });
    const rates = seconds.map((s) => (plan.batch * plan.stepsPerWindow) / s);
    const profile = await tf.profile(async () => {
      await oneStep();
      await settle(lastVar);
    });
    const mem = tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU?: number };
    const tag = { model: name, batch: plan.batch };
    const note = [plan.note, windowNote(plan, rates, 'images/s')].filter(Boolean).join('; ');
    const figures: FigureInput[] = [
      { ...tag, figure: 'train images/s', value: median(rates), unit: 'images/s', note },
      { ...tag, figure: 'step time', value: (median(seconds) / plan.stepsPerWindow) * 1000, unit: 'ms' },
      { ...tag, figure: 'tensor memory peak', value: profile.peakBytes, unit: 'bytes' },
      { ...tag, figure: 'JS heap peak', value: heapPeak, unit: 'bytes' },
    ];
    if (mem.numBytesAllocatedInGPU !== undefined && mem.numBytesAllocatedInGPU > 0) {
      figures.push({ ...tag, figure: 'GPU buffers allocated', value: mem.numBytesAllocatedInGPU, unit: 'bytes' });
    }
    return figures;
  } finally {
    tf.dispose([x, y]);
    hooks.dispose();
    optimizer.dispose();
    disposeModel(model);
  }
}

function lastUpdated(model: Model): tf.Variable {
  const vars = trainableVars(model);
  return vars[vars.length - 1];
}
