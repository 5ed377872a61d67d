import type { EngineEvent } from '../src/engine/events';
import { pruneConfigSchema } from '../src/engine/experiment';
import type { Model } from '../src/engine/models';
import { createPruning } from '../src/engine/pruning';
import type { PruningHooks } from '../src/engine/pruning/types';

/**
 * The DPM configuration the benchmarks measure: DepGraph with Self-Rectifying decay, pruning at
 * step 0 with a decay longer than any benchmark run, so every step after the first carries
 * decaying groups, and telemetry every step (the worst case; real runs stretch telemetry for
 * big models). dpm-overhead times it, dispatches counts its kernel launches.
 */
export const DPM_BENCH_NOTE = 'sr decay in progress, telemetry every step';

export function dpmBenchHooks(model: Model, emit: (e: EngineEvent) => void = () => undefined): PruningHooks {
  const config = pruneConfigSchema.parse({ pruner: 'depgraph', schedule: 'sr', startAt: 0, points: 1, target: 0.5, decaySteps: 10_000, telemetryEvery: 1 });
  return createPruning({ model, config, totalSteps: 100_000, emit });
}
