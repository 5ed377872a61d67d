/**
 * Why a Smooth Pruning run's test accuracy dips mid-decay: prints, per epoch, the training
 * accuracy (training-mode batch norm, mean over the epoch) next to the test accuracy (running
 * batch-norm statistics), and the pruning events. docs/dpm-compare.md records its output.
 *
 *   npx tsx scripts/dpm-eval-dip.ts [sp|abrupt|sr] [seed]
 */
import * as tf from '@tensorflow/tfjs';
import { syntheticDataset } from '../src/engine/data/synthetic';
import { experimentSchema, type ScheduleName } from '../src/engine/experiment';
import { installFastCpuKernels } from '../src/engine/kernels/install';
import { disposeModel } from '../src/engine/models';
import { runExperiment } from '../src/engine/train/run';

const schedule = (process.argv[2] ?? 'sp') as ScheduleName;
if (!['abrupt', 'sp', 'sr'].includes(schedule)) throw new Error('usage: dpm-eval-dip.ts [sp|abrupt|sr] [seed]');
const seed = Number(process.argv[3] ?? 1);

installFastCpuKernels();
await tf.setBackend('cpu');
const dataset = syntheticDataset({ trainSize: 640, testSize: 1000, seed });
const config = experimentSchema.parse({
  data: { dataset: 'synthetic', syntheticSize: 640, augment: false },
  train: { model: 'tiny', epochs: 10, batchSize: 32, lr: 0.05, seed, lrSchedule: 'cosine' },
  prune: { pruner: 'depgraph', schedule, target: 0.2, startAt: 0.25, points: 2, every: 30, decaySteps: 30, telemetryEvery: 1000 },
  backend: 'cpu',
});
const summary = await runExperiment(config, {
  dataset,
  backend: 'cpu',
  emit: (e) => {
    if (e.type === 'epoch') console.log(JSON.stringify({ schedule, epoch: e.epoch, step: e.step, trainAcc: e.trainAcc, testAcc: e.testAcc }));
    if (e.type === 'prune' || e.type === 'removed') console.log(JSON.stringify({ schedule, event: e.type, step: e.step, family: e.family, channels: e.channels.length }));
  },
});
console.log(JSON.stringify({ schedule, finalTestAcc: summary.testAcc, flops: summary.flopsFraction }));
if (summary.slimModel) disposeModel(summary.slimModel);
