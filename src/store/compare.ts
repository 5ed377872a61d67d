import { SCHEDULE_NAMES, type ExperimentConfig, type ScheduleName } from '../engine/experiment';

export const SCHEDULE_LABELS: Record<ScheduleName, string> = {
  abrupt: 'abrupt',
  sp: 'SP',
  sr: 'SP+SR',
};

/** A run's name from its config: model, pruner, schedule, target and seed. */
export function runName(config: ExperimentConfig): string {
  const p = config.prune;
  const method = p.pruner === 'none' ? 'dense' : `${p.pruner} ${SCHEDULE_LABELS[p.schedule]} → ${Math.round(p.target * 100)}% ${p.targetKind}`;
  return `${config.train.model} · ${method} · seed ${config.train.seed}`;
}

/**
 * The three configs of an abrupt vs SP vs SP+SR comparison: identical except for the
 * schedule, so differences come from how the decisions are carried out. A dense config has
 * nothing to compare, so it gets the default pruner.
 */
export function scheduleComparison(config: ExperimentConfig): { schedule: ScheduleName; config: ExperimentConfig }[] {
  const pruner = config.prune.pruner === 'none' ? 'depgraph' : config.prune.pruner;
  return SCHEDULE_NAMES.map((schedule) => ({
    schedule,
    config: { ...config, prune: { ...config.prune, pruner, schedule } },
  }));
}
