import * as tf from '@tensorflow/tfjs';
import { countCost } from '../cost';
import { epochOrder, makeBatch } from '../data/batches';
import { createRng, deriveSeed } from '../data/rng';
import type { Dataset, ImageSplit } from '../data/types';
import type { CostFigures, EngineEvent } from '../events';
import type { BackendName, ExperimentConfig } from '../experiment';
import { buildModelDef } from '../models';
import { disposeModel, initParams, type Model, type ModelDef } from '../models/graph';
import { createPruning, pointPlan } from '../pruning';
import { DAMAGE_DEFAULTS, DamageTracker } from './damage';
import { finishPruning } from './finish';
import type { FinalModel } from '../export/final-model';
import type { Checkpoint, TensorRecord } from './checkpoint';
import { readWeights, writeWeights } from './checkpoint';
import { RunControl } from './control';
import { evaluate } from './evaluate';
import { learningRate } from './lr-schedule';
import { SgdMomentum } from './optimizer';
import { trainStep } from './step';

export interface RunOptions {
  dataset: Dataset;
  emit: (e: EngineEvent) => void;
  /** The backend tfjs is running on (the host selected it); reported in events. */
  backend: BackendName;
  control?: RunControl;
  /** Continue from this checkpoint instead of starting fresh. */
  resumeFrom?: Checkpoint;
  /** Called at every epoch end, every `checkpointSeconds`, and on pause/stop. */
  saveCheckpoint?: (cp: Checkpoint) => Promise<string>;
  checkpointSeconds?: number;
  /** Batch size for evaluation. */
  evalBatchSize?: number;
  /** Train this graph instead of config.train.model (tests and benchmarks use small ones; imports). */
  modelDef?: ModelDef;
  /** Start from these weights (an imported checkpoint) instead of the seeded initialisation. */
  initWeights?: Record<string, TensorRecord>;
  /** Read the trained network and its kept channels into `RunSummary.final` (the app's exports). */
  keepFinal?: boolean;
}

export interface RunSummary {
  testAcc: number;
  testLoss: number;
  flopsFraction: number;
  paramsFraction: number;
  rectifications: number;
  steps: number;
  seconds: number;
  stopped: boolean;
  dense: CostFigures;
  slim?: CostFigures;
  /** The physically smaller model (caller disposes). Absent when the run was stopped. */
  slimModel?: Model;
  /** With `keepFinal`: the trained network at full width and the channels kept (absent when stopped). */
  final?: FinalModel;
}

export function stepsPerEpoch(trainCount: number, batchSize: number): number {
  return Math.max(1, Math.floor(trainCount / batchSize));
}

/** A prefix of a split (views, no copy); n <= 0 keeps it whole. */
export function limitSplit(split: ImageSplit, n: number): ImageSplit {
  if (n <= 0 || n >= split.count) return split;
  return { images: split.images.subarray(0, n * (split.images.length / split.count)), labels: split.labels.subarray(0, n), count: n };
}

/**
 * One experiment: train, prune on the configured schedule, evaluate every epoch, slim at the
 * end. The same code runs in the browser worker and in Node (CLI, tests, benchmarks).
 */
export async function runExperiment(config: ExperimentConfig, opts: RunOptions): Promise<RunSummary> {
  const { emit } = opts;
  const control = opts.control ?? new RunControl();
  const started = performance.now();
  const priorSeconds = opts.resumeFrom?.elapsedSeconds ?? 0;
  const elapsed = () => priorSeconds + (performance.now() - started) / 1000;
  const { train: tc, prune: pc } = config;
  const train = limitSplit(opts.dataset.train, config.data.trainLimit);
  const test = limitSplit(opts.dataset.test, config.data.testLimit);
  if (train.count === 0) throw new Error('the training split is empty: load a data set with training images');

  emit({ type: 'status', phase: 'building-model', message: `building ${opts.modelDef?.name ?? tc.model}` });
  const def = opts.modelDef ?? buildModelDef(tc.model);
  const model = initParams(def, tc.seed);
  if (opts.initWeights) writeWeights(model.vars, opts.initWeights);
  const dense = countCost(def);
  const spe = stepsPerEpoch(train.count, tc.batchSize);
  const totalSteps = spe * tc.epochs;
  let rectifications = opts.resumeFrom?.rectifications ?? 0;
  const damage = damageTracker(config, totalSteps, opts.resumeFrom?.step ?? 0);
  const probe = limitSplit(test, DAMAGE_PROBE_IMAGES);
  const countingEmit = (e: EngineEvent) => {
    if (e.type === 'rectify') rectifications++;
    if (e.type === 'prune') damage.addChannels(e.step, e.channels.length);
    emit(e);
  };
  const hooks = createPruning({ model, config: pc, totalSteps, emit: countingEmit });
  const optimizer = new SgdMomentum(tc.momentum, tc.weightDecay);
  const stepCtx = { model, optimizer, hooks };

  let step = 0;
  if (opts.resumeFrom) {
    writeWeights(model.vars, opts.resumeFrom.weights);
    optimizer.restore(renameKeys(opts.resumeFrom.optimizer, paramToVariable(model)));
    hooks.restore(opts.resumeFrom.pruning);
    step = opts.resumeFrom.step;
  }

  emit({ type: 'model', model: def.name, families: def.families.map(({ id, label, channels }) => ({ id, label, channels })), dense, totalSteps, stepsPerEpoch: spe });
  emitCost(emit, def, hooks.keptChannels(), dense, step);

  const checkpointEvery = (opts.checkpointSeconds ?? 30) * 1000;
  let lastCheckpoint = performance.now();
  const saveCheckpoint = async () => {
    if (!opts.saveCheckpoint) return;
    const cp: Checkpoint = {
      step,
      epoch: Math.floor(step / spe),
      weights: await readWeights(model.vars),
      optimizer: renameKeys(await optimizer.state(), variableToParam(model)),
      pruning: hooks.state(),
      rectifications,
      elapsedSeconds: elapsed(),
    };
    const key = await opts.saveCheckpoint(cp);
    lastCheckpoint = performance.now();
    emit({ type: 'checkpoint', step, epoch: cp.epoch, key });
  };

  // Loss and accuracy accumulate on the device and are read once per report window.
  const reportEvery = Math.max(1, Math.min(20, Math.round(spe / 20)));
  // Each step's loss stays on the device until the window's one readback (damage needs every step's).
  let windowLosses: tf.Scalar[] = [];
  let windowSteps = 0;
  let windowStart = performance.now();
  let epochCorrect = tf.scalar(0);
  let epochLoss = tf.scalar(0);
  let epochSeen = 0;
  let order: Int32Array | null = null;
  /** Reads the window's per-step losses (one readback) into the damage tracker and returns them. */
  const readWindow = async (): Promise<number[]> => {
    if (windowLosses.length === 0) return [];
    const stacked = tf.stack(windowLosses);
    const losses = Array.from(await stacked.data());
    tf.dispose([stacked, ...windowLosses]);
    windowLosses = [];
    losses.forEach((l, i) => damage.addLoss(step - losses.length + i, l));
    return losses;
  };
  let lastTest = { loss: NaN, acc: NaN };

  try {
    while (step < totalSteps) {
      await control.proceed(async () => {
        await saveCheckpoint();
        emit({ type: 'status', phase: 'paused', message: `paused at step ${step}` });
      });
      if (control.isStopped) break;
      const epoch = Math.floor(step / spe);
      const inEpoch = step % spe;
      if (order === null || inEpoch === 0) order = epochOrder(train.count, deriveSeed(tc.seed, 1000 + epoch));
      if (step === opts.resumeFrom?.step || step === 0 || inEpoch === 0) {
        emit({ type: 'status', phase: step === 0 ? 'compiling' : 'training', message: step === 0 ? 'compiling GPU kernels (first step)' : `training epoch ${epoch + 1} of ${tc.epochs}`, progress: step / totalSteps });
      }
      const indices = order.subarray(inEpoch * tc.batchSize, (inEpoch + 1) * tc.batchSize);
      const rng = createRng(deriveSeed(tc.seed, 2_000_000 + step));
      const lr = learningRate(tc, step, totalSteps);
      if (damage.wantsAccuracyBefore(step)) damage.setAccuracyBefore(step, (await evaluate(model, probe, opts.evalBatchSize ?? 256)).acc);
      const { x, y } = makeBatch(train, indices, { augment: config.data.augment, rng });
      const { loss, correct } = await trainStep(stepCtx, x, y, lr, step);
      x.dispose();
      y.dispose();
      if (damage.wantsAccuracyAfter(step)) damage.setAccuracyAfter(step, (await evaluate(model, probe, opts.evalBatchSize ?? 256)).acc);
      windowLosses.push(loss);
      epochLoss = accumulate(epochLoss, () => tf.mul(loss, indices.length));
      epochCorrect = accumulate(epochCorrect, () => correct);
      correct.dispose();
      epochSeen += indices.length;
      windowSteps++;
      step++;

      if (windowSteps === reportEvery || step === totalSteps || step % spe === 0) {
        const losses = await readWindow();
        const mean = losses.reduce((a, b) => a + b, 0) / windowSteps;
        const seconds = (performance.now() - windowStart) / 1000;
        emit({ type: 'step', step, epoch: (step - 1) / spe, loss: mean, lr, imagesPerSec: (windowSteps * tc.batchSize) / Math.max(seconds, 1e-6) });
        for (const d of damage.poll()) emit(d);
        windowSteps = 0;
        windowStart = performance.now();
      }

      if (step % spe === 0) {
        const ep = step / spe;
        emit({ type: 'status', phase: 'evaluating', message: `evaluating epoch ${ep}`, progress: step / totalSteps });
        const [tl, tcorr] = await Promise.all([epochLoss.data(), epochCorrect.data()]);
        lastTest = await evaluate(model, test, opts.evalBatchSize ?? 256);
        emit({ type: 'epoch', epoch: ep, step, trainLoss: tl[0] / epochSeen, trainAcc: tcorr[0] / epochSeen, testLoss: lastTest.loss, testAcc: lastTest.acc });
        epochLoss.dispose();
        epochCorrect.dispose();
        epochLoss = tf.scalar(0);
        epochCorrect = tf.scalar(0);
        epochSeen = 0;
        if (step < totalSteps) await saveCheckpoint();
        windowStart = performance.now();
      } else if (performance.now() - lastCheckpoint > checkpointEvery) {
        await saveCheckpoint();
      }
    }

    await readWindow();
    for (const d of damage.finish()) emit(d);
    if (control.isStopped) {
      await saveCheckpoint();
      emit({ type: 'status', phase: 'stopped', message: `stopped at step ${step}` });
      const kept = countCost(def, hooks.keptChannels());
      return { testAcc: lastTest.acc, testLoss: lastTest.loss, flopsFraction: kept.flops / dense.flops, paramsFraction: kept.params / dense.params, rectifications, steps: step, seconds: elapsed(), stopped: true, dense };
    }

    if (Number.isNaN(lastTest.acc)) lastTest = await evaluate(model, test, opts.evalBatchSize ?? 256);
    const finished = await finishPruning(model, hooks, { test, emit, evalBatchSize: opts.evalBatchSize ?? 256 });
    const final = opts.keepFinal ? { def: model.def, weights: await readWeights(model.vars), keep: Object.fromEntries(finished.keep) } : undefined;
    const summary: RunSummary = {
      testAcc: lastTest.acc,
      testLoss: lastTest.loss,
      flopsFraction: finished.slim.flops / dense.flops,
      paramsFraction: finished.slim.params / dense.params,
      rectifications,
      steps: step,
      seconds: elapsed(),
      stopped: false,
      dense,
      slim: finished.slim,
      slimModel: finished.model,
      final,
    };
    emit({ type: 'done', testAcc: summary.testAcc, flopsFraction: summary.flopsFraction, paramsFraction: summary.paramsFraction, rectifications, steps: step, seconds: summary.seconds });
    emit({ type: 'status', phase: 'done', message: `done: test accuracy ${(summary.testAcc * 100).toFixed(2)}%` });
    return summary;
  } finally {
    tf.dispose([...windowLosses, epochLoss, epochCorrect]);
    hooks.dispose();
    optimizer.dispose();
    disposeModel(model);
  }
}

/** Test images the damage measurement evaluates before and after each pruning point (a fixed prefix of the test split). */
export const DAMAGE_PROBE_IMAGES = 1000;

/** The run's pruning points (the pruning engine's own plan), each measured by a DamageTracker. */
function damageTracker(config: ExperimentConfig, totalSteps: number, fromStep: number): DamageTracker {
  const pc = config.prune;
  const steps = pc.pruner === 'none' ? [] : pointPlan(totalSteps, pc.startAt, pc.points, pc.every, pc.target).steps;
  return new DamageTracker(
    // A resumed run has no losses before its resume step: only points whose baseline comes after it.
    steps.filter((s) => fromStep === 0 || s - DAMAGE_DEFAULTS.baselineSteps + 1 >= fromStep).map((step) => ({ step, schedule: pc.schedule, decaySteps: pc.decaySteps })),
    totalSteps - 1,
  );
}

export function emitCost(emit: (e: EngineEvent) => void, def: Model['def'], kept: Map<string, number>, dense: CostFigures, step: number): void {
  const c = countCost(def, kept);
  emit({ type: 'cost', step, flopsFraction: c.flops / dense.flops, paramsFraction: c.params / dense.params, params: c.params, flops: c.flops });
}

/*
 * Optimizer state is keyed by tfjs variable name, which is unique per model instance; a
 * checkpoint must outlive the instance, so it is stored under the parameter names.
 */
function variableToParam(model: Model): Map<string, string> {
  return new Map([...model.vars].map(([p, v]) => [v.name, p]));
}

function paramToVariable(model: Model): Map<string, string> {
  return new Map([...model.vars].map(([p, v]) => [p, v.name]));
}

function renameKeys<T>(record: Record<string, T>, names: Map<string, string>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(record)) {
    const renamed = names.get(k);
    if (renamed === undefined) throw new Error(`checkpoint: optimizer state for unknown parameter ${k}`);
    out[renamed] = v;
  }
  return out;
}

/** prev + fn(), disposing prev and the intermediates: device-side running sums. */
function accumulate(prev: tf.Scalar, fn: () => tf.Tensor): tf.Scalar {
  const next = tf.tidy(() => tf.add(prev, fn()) as tf.Scalar);
  prev.dispose();
  return next;
}
