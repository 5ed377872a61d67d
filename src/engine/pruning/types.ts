import type * as tf from '@tensorflow/tfjs';
import type { EngineEvent } from '../events';
import type { PruneConfig } from '../experiment';
import type { Model } from '../models/graph';

/**
 * The contract between the training loop (src/engine/train) and pruning. The loop owns the
 * optimizer; pruning hooks in around the update. Every hook runs on the training thread and
 * must not read tensors back synchronously except at pruning points (rare) — telemetry reads
 * are batched and asynchronous.
 */
export interface PruningHooks {
  /**
   * Called once per step with the raw gradients, before the optimizer. May return replaced
   * gradients (sparse learning adds its group-lasso term; Gate Decorator accumulates Taylor
   * scores). The caller disposes what it passed in and what comes back.
   */
  beforeUpdate(step: number, grads: Record<string, tf.Tensor>): Record<string, tf.Tensor>;
  /**
   * Called once per step after the optimizer has written the new weights: DPM's norm
   * projection, Self-Rectifying's criteria, pruning points, telemetry. `grads` are the ones the
   * optimizer used, `lr` the learning rate it applied them with (SR measures the update in
   * gradient steps).
   */
  afterUpdate(step: number, grads: Record<string, tf.Tensor>, lr: number): Promise<void>;
  /** Variables the optimizer must also train (e.g. Gate Decorator's gates). */
  extraTrainable(): tf.Variable[];
  /** Serializable state for checkpoints, and its restore. */
  state(): PruningState;
  restore(state: PruningState): void;
  /** Channels currently alive per family (decaying ones count as alive). */
  keptChannels(): Map<string, number>;
  /**
   * Indices of the channels not removed, per family (decaying ones included): what slimming
   * keeps (see slimModel in ./groups).
   */
  keptIndices(): Map<string, number[]>;
  dispose(): void;
}

export interface PruningState {
  /** Per family: per channel decay factor (1 = untouched, 0 = removed). */
  decay: Record<string, number[]>;
  [key: string]: unknown;
}

export interface PruningContext {
  model: Model;
  config: PruneConfig;
  totalSteps: number;
  emit: (e: EngineEvent) => void;
}

export type CreatePruning = (ctx: PruningContext) => PruningHooks;
