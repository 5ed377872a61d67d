import type { TrainConfig } from '../experiment';

/** Learning rate at a step (0-based) of a run of `totalSteps` steps. */
export function learningRate(cfg: Pick<TrainConfig, 'lr' | 'lrSchedule' | 'milestones'>, step: number, totalSteps: number): number {
  const t = totalSteps > 0 ? Math.min(1, step / totalSteps) : 0;
  switch (cfg.lrSchedule) {
    case 'constant':
      return cfg.lr;
    case 'cosine':
      return 0.5 * cfg.lr * (1 + Math.cos(Math.PI * t));
    case 'step':
      return cfg.lr * 0.1 ** cfg.milestones.filter((m) => t >= m).length;
  }
}
