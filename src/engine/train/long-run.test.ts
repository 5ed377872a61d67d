import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../events';
import { pruneConfigSchema } from '../experiment';
import { disposeModel, initParams } from '../models/graph';
import { createPruning, telemetryInterval, TELEMETRY_BUDGET_BYTES } from '../pruning';
import { microResidualDef } from '../pruning/harness';
import { SgdMomentum } from './optimizer';
import { trainStep } from './step';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// 500 steps keep the suite fast on tfjs's CPU backend; the bound under test does not depend on length.
const STEPS = 500;

describe('a long run with pruning and telemetry', () => {
  it('keeps tensor count and bytes flat and the event log within its budget', async () => {
    const model = initParams(microResidualDef(4), 2);
    const config = pruneConfigSchema.parse({ pruner: 'depgraph', schedule: 'sr', target: 0.5, startAt: 0.05, points: 8, every: 50, decaySteps: 25, telemetryEvery: 1 });
    const events: EngineEvent[] = [];
    const hooks = createPruning({ model, config, totalSteps: STEPS, emit: (e) => events.push(e) });
    const ctx = { model, optimizer: new SgdMomentum(0.9, 5e-4), hooks };
    const [h, w, c] = model.def.inputShape;
    const x = tf.randomNormal([2, h, w, c], 0, 1, 'float32', 4) as tf.Tensor4D;
    const y = tf.tensor1d([3, 7], 'int32');
    let baseline: { numTensors: number; numBytes: number } | null = null;
    for (let step = 0; step < STEPS; step++) {
      const { loss, correct } = await trainStep(ctx, x, y, 0.02, step);
      tf.dispose([loss, correct]);
      // Momentum buffers appear in step 0; the pruning engine's per-family state at its first point.
      if (step === 40) baseline = { numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes };
    }
    expect(tf.memory().numTensors).toBe(baseline!.numTensors);
    expect(tf.memory().numBytes).toBe(baseline!.numBytes);
    expect(events.some((e) => e.type === 'prune')).toBe(true);
    expect(events.filter((e) => e.type === 'telemetry').length).toBeGreaterThan(STEPS / 2);
    // The documented bound: the telemetry part of a log stays under the budget for any run length.
    const channels = model.def.families.reduce((s, f) => s + f.channels, 0);
    const interval = telemetryInterval(1, STEPS, channels);
    expect((STEPS / interval) * 2 * channels * 8).toBeLessThanOrEqual(TELEMETRY_BUDGET_BYTES);
    expect(JSON.stringify(events).length).toBeLessThan(TELEMETRY_BUDGET_BYTES);
    tf.dispose([x, y]);
    hooks.dispose();
    ctx.optimizer.dispose();
    disposeModel(model);
  }, 180_000);
});
