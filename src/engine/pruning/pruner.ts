import type * as tf from '@tensorflow/tfjs';
import type { ChannelFamily, Model } from '../models/graph';

/**
 * A pruner ranks channels; a schedule (abrupt, sp, sr) carries its decisions out. The engine
 * reads a pruner's scores back in one batched readback per pruning point.
 */
export interface Pruner {
  readonly name: 'depgraph' | 'otov2' | 'gate';
  /**
   * One GPU vector per family (family order); the caller disposes them. Their length may
   * differ from the channel count when `finalise` turns them into per-channel scores.
   */
  scoreTensors(grads: Record<string, tf.Tensor> | undefined): tf.Tensor1D[];
  /** Per-channel importance from the read-back vectors (lower = pruned first). */
  finalise(raw: Float32Array[]): Float32Array[];
  /**
   * Scores that follow from every family's group L2 norms alone, which the engine reads back
   * at a pruning point anyway: when present, `scoreTensors` is not called, saving a reduction
   * per member tensor (several GPU launches each) at every point and SR re-selection.
   */
  scoresFromNorms?(norms: Float32Array[]): Float32Array[];
  /** May replace gradients; returns the same record when it does not. */
  beforeUpdate(step: number, grads: Record<string, tf.Tensor>): Record<string, tf.Tensor>;
  minKeep(fam: ChannelFamily): number;
  /** A pruning point consumed the scores (Gate Decorator restarts its accumulation). */
  onPoint(): void;
  extraTrainable(): tf.Variable[];
  state(): Record<string, unknown>;
  restore(s: Record<string, unknown>): void;
  dispose(): void;
  /** OTOv2's half-space threshold eps, for pruners that project groups onto zero. */
  readonly halfSpaceEps?: number;
}

/** The gradient of a model parameter in a record keyed by tf variable name. */
export function gradOf(model: Model, grads: Record<string, tf.Tensor> | undefined, name: string): tf.Tensor | undefined {
  if (!grads) return undefined;
  const v = model.vars.get(name);
  return v ? grads[v.name] : undefined;
}
