import { createDepGraph, DEPGRAPH_DEFAULTS } from './depgraph';
import { noPruning, PruningEngine } from './engine';
import { createGate } from './gate';
import { createOtoV2 } from './otov2';
import type { Pruner } from './pruner';
import type { PruningContext, PruningHooks } from './types';

/** OTOv2's half-space threshold: a group is zeroed once <x_new, x> < eps*||x||^2 [I]. */
export const OTOV2_EPS = 0;
/** Gate Decorator keeps the top 10% of every layer. */
export const GATE_KEEP_FRACTION = 0.1;

/**
 * The pruning hooks for a run. The Gate Decorator pruner replaces ctx.model.def with the gated
 * def and adds its gates to ctx.model.vars (returned by extraTrainable()).
 */
export function createPruning(ctx: PruningContext): PruningHooks {
  const { config, model } = ctx;
  if (config.pruner === 'none') return noPruning(model);
  let pruner: Pruner;
  switch (config.pruner) {
    case 'depgraph':
      pruner = createDepGraph(model, { ...DEPGRAPH_DEFAULTS, norm: config.norm, sparse: config.sparse, sparseReg: config.sparseReg });
      break;
    case 'otov2':
      pruner = createOtoV2(model, OTOV2_EPS);
      break;
    case 'gate':
      pruner = createGate(model, GATE_KEEP_FRACTION);
      break;
  }
  return new PruningEngine(model, config, ctx.totalSteps, pruner, ctx.emit);
}

/** The final kept channel indices per family, for slimModel. */
export function finalKeptIndices(hooks: PruningHooks): Map<string, number[]> {
  return hooks.keptIndices();
}

export { PruningEngine, noPruning, telemetryInterval, TELEMETRY_BUDGET_BYTES } from './engine';
export { slimModel, slimMaxAbsDiff, withGates, withoutGates, createGates, groupL2, groupImportance, scaleFamily, zeroChannels, trainedMembers } from './groups';
export { pointPlan, selectToTarget, costOf } from './select';
export type { Pruner } from './pruner';
export type { PruningContext, PruningHooks, PruningState, CreatePruning } from './types';
