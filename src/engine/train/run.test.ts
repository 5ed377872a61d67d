import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeBatch } from '../data/batches';
import { createRng } from '../data/rng';
import { syntheticDataset } from '../data/synthetic';
import type { EngineEvent } from '../events';
import { experimentSchema, type ExperimentConfig } from '../experiment';
import { tiny } from '../models/tiny';
import { disposeModel, initParams, type ModelDef } from '../models/graph';
import { createPruning } from '../pruning';
import type { Checkpoint } from './checkpoint';
import { RunControl } from './control';
import { SgdMomentum } from './optimizer';
import { runExperiment } from './run';
import { trainStep } from './step';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = syntheticDataset({ seed: 3, trainSize: 32, testSize: 16 });

/**
 * Tests run on tfjs's CPU backend (tens of images/s for the tiny model even with the fast
 * kernels), so they train a micro net with tiny's couplings (residual family, block family,
 * head family) at a few channels. The loop is the same code.
 */
function micro(): ModelDef {
  return tiny({ width: 4, headWidth: 8, stemStride: 4 });
}
const modelDef = micro();

function config(over: { prune?: object; train?: object } = {}): ExperimentConfig {
  return experimentSchema.parse({
    data: { augment: true },
    train: { model: 'tiny', epochs: 2, batchSize: 8, lr: 0.05, seed: 5, ...over.train },
    prune: { pruner: 'depgraph', schedule: 'sp', target: 0.6, startAt: 0.25, points: 2, every: 2, decaySteps: 2, ...over.prune },
    backend: 'cpu',
  });
}

describe('trainStep', () => {
  it('reduces the loss on a fixed batch and leaks no tensors', async () => {
    const model = initParams(micro(), 1);
    const cfg = config({ prune: { schedule: 'sr', startAt: 0.1, every: 3, decaySteps: 3, points: 3 } });
    const hooks = createPruning({ model, config: cfg.prune, totalSteps: 14, emit: () => undefined });
    const ctx = { model, optimizer: new SgdMomentum(0.9, 5e-4), hooks };
    const { x, y } = makeBatch(data.train, [0, 1, 2, 3, 4, 5, 6, 7], { augment: false, rng: createRng(1) });
    const losses: number[] = [];
    let tensorsAfterWarmup = 0;
    for (let step = 0; step < 14; step++) {
      const { loss, correct } = await trainStep(ctx, x, y, 0.05, step);
      losses.push((await loss.data())[0]);
      tf.dispose([loss, correct]);
      // Momentum buffers and pruning state are created in the first steps; after that, flat.
      if (step === 3) tensorsAfterWarmup = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(tensorsAfterWarmup);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    tf.dispose([x, y]);
    hooks.dispose();
    ctx.optimizer.dispose();
    disposeModel(model);
  });
});

describe('runExperiment', () => {
  it('emits a complete, ordered event log and slims to the target', async () => {
    const events: EngineEvent[] = [];
    const summary = await runExperiment(config(), { dataset: data, modelDef, backend: 'cpu', emit: (e) => events.push(e) });
    const types = new Set(events.map((e) => e.type));
    for (const t of ['model', 'step', 'epoch', 'prune', 'removed', 'telemetry', 'cost', 'slim', 'latency', 'done']) expect(types).toContain(t);
    const steps = events.filter((e): e is Extract<EngineEvent, { type: 'step' }> => e.type === 'step').map((e) => e.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(steps[steps.length - 1]).toBe(8);
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(2);
    // One damage event per pruning point (steps 2 and 4 of 8), settled before the run is done.
    const damage = events.filter((e): e is Extract<EngineEvent, { type: 'damage' }> => e.type === 'damage');
    expect(damage.map((d) => d.step)).toEqual([2, 4]);
    for (const d of damage) {
      expect(d.schedule).toBe('sp');
      expect(d.window).toBe(2);
      expect(Number.isFinite(d.lossBefore) && Number.isFinite(d.peakRise)).toBe(true);
      expect(d.accBefore).toBeGreaterThanOrEqual(0);
      expect(d.accAfter).toBeGreaterThanOrEqual(0);
    }
    expect(damage[0].channels).toBeGreaterThan(0);
    expect(events.findIndex((e) => e.type === 'damage')).toBeLessThan(events.findIndex((e) => e.type === 'done'));
    const slim = events.find((e): e is Extract<EngineEvent, { type: 'slim' }> => e.type === 'slim')!;
    expect(slim.maxAbsDiff).toBeLessThan(1e-4);
    expect(summary.flopsFraction).toBeLessThanOrEqual(0.6 + 0.05);
    expect(summary.slimModel).toBeDefined();
    disposeModel(summary.slimModel!);
  });

  it('a run stopped and resumed from its checkpoint ends exactly where an uninterrupted run does', async () => {
    const cfg = config();
    const full = await runExperiment(cfg, { dataset: data, modelDef, backend: 'cpu', emit: () => undefined });

    const control = new RunControl();
    let saved: Checkpoint | null = null;
    const first = await runExperiment(cfg, {
      dataset: data,
      modelDef,
      backend: 'cpu',
      control,
      emit: (e) => {
        if (e.type === 'step' && e.step === 3) control.stop();
      },
      saveCheckpoint: async (cp) => {
        saved = cp;
        return `cp@${cp.step}`;
      },
    });
    expect(first.stopped).toBe(true);
    expect(saved).not.toBeNull();
    expect(saved!.step).toBe(3);

    const resumed = await runExperiment(cfg, { dataset: data, modelDef, backend: 'cpu', resumeFrom: saved!, emit: () => undefined });
    expect(resumed.steps).toBe(full.steps);
    expect(resumed.testLoss).toBeCloseTo(full.testLoss, 5);
    expect(resumed.testAcc).toBe(full.testAcc);
    expect(resumed.flopsFraction).toBe(full.flopsFraction);
    for (const s of [full, resumed]) if (s.slimModel) disposeModel(s.slimModel);
  });

  it('the same seed gives the same run; another seed does not', async () => {
    const losses = async (seed: number) => {
      const out: number[] = [];
      const s = await runExperiment(config({ train: { seed, epochs: 1 }, prune: { pruner: 'none' } }), {
        dataset: data,
        modelDef,
        backend: 'cpu',
        emit: (e) => e.type === 'step' && out.push(e.loss),
      });
      if (s.slimModel) disposeModel(s.slimModel);
      return out;
    };
    const a = await losses(11);
    expect(await losses(11)).toEqual(a);
    expect(await losses(12)).not.toEqual(a);
  });
});
