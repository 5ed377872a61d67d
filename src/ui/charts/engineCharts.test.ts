import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticDataset } from '../../engine/data/synthetic';
import type { EngineEvent } from '../../engine/events';
import { experimentSchema, type ScheduleName } from '../../engine/experiment';
import { disposeModel } from '../../engine/models/graph';
import { tiny } from '../../engine/models/tiny';
import { runExperiment } from '../../engine/train/run';
import { replayLog } from '../../store/runReducer';
import { toArray } from '../../store/series';
import { derivedAtStep } from '../../store/viewStep';
import { costRows } from './chartData';
import { chartMarkers, pruningMarkers } from './pruningMarkers';

/**
 * The cost curve and markers from real engine logs: a micro net with the tiny model's
 * couplings on tfjs's CPU backend, 16 steps, pruning points at steps 4 and 8, N = 3.
 */
beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = syntheticDataset({ seed: 3, trainSize: 32, testSize: 16 });
const modelDef = tiny({ width: 4, headWidth: 8, stemStride: 4 });

async function record(schedule: ScheduleName) {
  const config = experimentSchema.parse({
    data: { augment: false },
    train: { model: 'tiny', epochs: 4, batchSize: 8, lr: 0.05, seed: 5 },
    prune: { pruner: 'depgraph', schedule, target: 0.5, startAt: 0.25, points: 2, every: 4, decaySteps: 3, tRate: 1000, tLen: 1000 },
    backend: 'cpu',
  });
  const events: EngineEvent[] = [];
  const summary = await runExperiment(config, { dataset: data, modelDef, backend: 'cpu', emit: (e) => events.push(e), evalBatchSize: 16 });
  if (summary.slimModel) disposeModel(summary.slimModel);
  return { config, events };
}

const valueAt = (rows: { step: number; flops: number }[], step: number) => rows.filter((r) => r.step === step).map((r) => r.flops);

describe('charts from engine logs', () => {
  it('abrupt: kept FLOPs fall vertically at each pruning step and stay flat between; markers there, no windows', async () => {
    const { config, events } = await record('abrupt');
    const derived = replayLog(events);
    const rows = costRows(derived);
    const reports = toArray(derived.costs);
    const at = (s: number) => reports.filter((c) => c.step <= s).at(-1)!.flopsFraction;
    // The row before a point and the point's own rows: [held value, new value] at the same step.
    for (const p of [4, 8]) {
      expect(valueAt(rows, p)).toEqual([at(p - 1), at(p)]);
      expect(at(p)).toBeLessThan(at(p - 1));
    }
    // Flat between points and after the last, to the run's last step.
    expect(rows.filter((r) => r.step > 4 && r.step < 8).every((r) => r.flops === at(4))).toBe(true);
    expect(rows.at(-1)).toMatchObject({ step: derived.latestStep, flops: at(8) });
    expect(rows.every((r, i) => i === 0 || r.step >= rows[i - 1].step)).toBe(true);
    const markers = pruningMarkers({ config, derived });
    expect(markers.map((m) => [m.point, m.step, m.window])).toEqual([
      [1, 4, null],
      [2, 8, null],
    ]);
  });

  it('SP: kept FLOPs are the events’ curve, ramping over each window [point, point + N]; markers carry the window', async () => {
    const { config, events } = await record('sp');
    const derived = replayLog(events);
    const rows = costRows(derived);
    // No cut: every row is a cost report, plus the hold to the run's end.
    const reports = toArray(derived.costs).map((c) => ({ step: c.step, flops: c.flopsFraction, params: c.paramsFraction }));
    expect(rows).toEqual([...reports, { ...reports.at(-1)!, step: derived.latestStep }]);
    // Decaying channels still count at the point; they are gone N = 3 steps later.
    for (const p of [4, 8]) {
      expect(valueAt(rows, p)).toHaveLength(1);
      expect(valueAt(rows, p + 3)[0]).toBeLessThan(valueAt(rows, p)[0]);
    }
    const markers = pruningMarkers({ config, derived });
    expect(markers.map((m) => [m.point, m.step, m.window])).toEqual([
      [1, 4, [4, 7]],
      [2, 8, [8, 11]],
    ]);

    // Replayed to step 9: the second point's window reached to 9, the run's curve held to 9.
    const at9 = derivedAtStep(derived, 9);
    expect(chartMarkers(pruningMarkers({ config, derived: at9 }), at9.latestStep, { color: '#000', tags: true }).map((m) => [m.x, m.band])).toEqual([
      [4, [4, 7]],
      [8, [8, 9]],
    ]);
    expect(costRows(at9).at(-1)!.step).toBe(9);
  });
});
