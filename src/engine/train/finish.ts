import * as tf from '@tensorflow/tfjs';
import { countCost } from '../cost';
import { makeEvalBatch } from '../data/batches';
import type { ImageSplit } from '../data/types';
import type { CostFigures, EngineEvent } from '../events';
import { forward, type Model } from '../models/graph';
import { finalKeptIndices, slimMaxAbsDiff, slimModel, withoutGates } from '../pruning';
import type { PruningHooks } from '../pruning/types';

export interface Finished {
  model: Model;
  slim: CostFigures;
  /** Family id -> the channels it kept. */
  keep: Map<string, number[]>;
}

/**
 * After the last step: removes every pruned channel physically, proves the slimmed network
 * computes what the masked one did, and measures what the removal buys in inference time.
 */
export async function finishPruning(
  model: Model,
  hooks: PruningHooks,
  opts: { test: ImageSplit; emit: (e: EngineEvent) => void; evalBatchSize: number },
): Promise<Finished> {
  const { emit } = opts;
  emit({ type: 'status', phase: 'slimming', message: 'removing pruned channels from every coupled tensor' });
  const keep = finalKeptIndices(hooks);
  const slim = slimModel(model, keep);
  const before = countCost(withoutGates(model.def));
  const after = countCost(slim.def);
  const n = Math.min(64, opts.test.count);
  let maxAbsDiff = 0;
  if (n > 0) {
    const { x, y } = makeEvalBatch(opts.test, 0, n);
    maxAbsDiff = await slimMaxAbsDiff(model, slim, x);
    const latency = await measureLatency(model, slim, x);
    tf.dispose([x, y]);
    emit({
      type: 'slim',
      before,
      after,
      maxAbsDiff,
      kept: model.def.families.map((f) => ({ family: f.id, before: f.channels, after: keep.get(f.id)?.length ?? f.channels })),
    });
    emit({ type: 'latency', batch: n, ...latency });
  } else {
    emit({ type: 'slim', before, after, maxAbsDiff, kept: model.def.families.map((f) => ({ family: f.id, before: f.channels, after: keep.get(f.id)?.length ?? f.channels })) });
  }
  return { model: slim, slim: after, keep };
}

/**
 * Median over a few timed repetitions after a warm-up (the first call compiles kernels). Each
 * repetition ends with a readback so the GPU's work is really done when the clock stops.
 */
async function measureLatency(dense: Model, slim: Model, x: tf.Tensor4D): Promise<{ denseMsPerImage: number; slimMsPerImage: number }> {
  const time = async (m: Model) => {
    const run = async () => {
      const y = forward(m, x, false);
      await y.data();
      y.dispose();
    };
    await run();
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await run();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return samples[2] / x.shape[0];
  };
  return { denseMsPerImage: await time(dense), slimMsPerImage: await time(slim) };
}
