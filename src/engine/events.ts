import type { BackendName, ExperimentConfig } from './experiment';

/**
 * Everything the engine tells the world. The UI, the run store and persistence all consume
 * this one stream; a run is fully described by its config plus its event log, so replaying
 * the log redraws every view without retraining. Events are plain JSON (no typed arrays) so
 * a log can be stored in IndexedDB and exported as a file unchanged.
 */

export type Phase =
  | 'loading-data'
  | 'building-model'
  | 'compiling'
  | 'training'
  | 'evaluating'
  | 'pruning'
  | 'slimming'
  | 'paused'
  | 'done'
  | 'stopped'
  | 'error';

/** One coupled channel family ("layer" in the views): its channels are the prunable groups. */
export interface FamilyLayout {
  id: string;
  label: string;
  channels: number;
}

export interface CostFigures {
  params: number;
  /** Multiply-accumulates of conv and linear layers per image (see src/engine/cost.ts). */
  flops: number;
}

export type EngineEvent =
  | { type: 'status'; phase: Phase; message: string; progress?: number }
  | { type: 'backend'; backend: BackendName; requested: BackendName; notice?: string }
  | {
      type: 'model';
      model: string;
      families: FamilyLayout[];
      dense: CostFigures;
      totalSteps: number;
      stepsPerEpoch: number;
    }
  | { type: 'step'; step: number; epoch: number; loss: number; lr: number; imagesPerSec: number }
  | {
      type: 'epoch';
      epoch: number;
      step: number;
      trainLoss: number;
      trainAcc: number;
      testLoss: number;
      testAcc: number;
    }
  /** Current kept fraction of the dense model, counting decaying groups as still present. */
  | { type: 'cost'; step: number; flopsFraction: number; paramsFraction: number; params: number; flops: number }
  /**
   * Per-channel state, in the order of the model event's families (family 0's channels, then
   * family 1's, ...). decay: the multiplier the schedule currently applies (1 = untouched,
   * 0 = pruned); norm: the L2 norm of the channel's coupled weights.
   */
  | { type: 'telemetry'; step: number; decay: number[]; norm: number[] }
  /** The pruner selected these channels; the schedule starts carrying them out. */
  | {
      type: 'prune';
      step: number;
      family: string;
      channels: number[];
      scores: number[];
      schedule: 'abrupt' | 'sp' | 'sr';
    }
  /**
   * Self-Rectifying released a decaying channel: the network resisted losing it. cRate and
   * cLen as defined in decay-state.ts's srCriteria (logs recorded before 2026-11-29 carry the
   * earlier, scale-dependent C_rate = regrowth / L_s and C_len without the 1 / d factor).
   */
  | {
      type: 'rectify';
      step: number;
      family: string;
      channel: number;
      cRate: number;
      cLen: number;
      decay: number;
    }
  /**
   * Self-Rectifying diagnostics, at the telemetry cadence while channels decay: the decaying
   * channel that came closest to release in the `steps` steps up to `step`. Closeness is
   * min(C_rate / T_rate, C_len / T_len); a channel is released when both exceed 1, so a run
   * whose closeness stays well below 1 has thresholds its gradients never reach.
   */
  | {
      type: 'criteria';
      step: number;
      steps: number;
      family: string;
      channel: number;
      cRate: number;
      cLen: number;
      tRate: number;
      tLen: number;
      closeness: number;
    }
  /** Channels whose decay finished (or abrupt masking): they are now exactly zero. */
  | { type: 'removed'; step: number; family: string; channels: number[] }
  /**
   * What one pruning point did to training (src/engine/train/damage.ts; docs/method.md).
   * lossBefore: mean training loss of the steps just before; peakRise: highest rise of the
   * smoothed loss over it in the point's window (`window` steps: N for SP/SR, a few for
   * abrupt), at `peakStep`; recoverySteps: steps from the point until the smoothed loss is
   * back within `tolerance` of lossBefore (0: it never left; null: not by the run's end).
   * accBefore / accAfter: test accuracy on a fixed probe of the test split just before the
   * point and once its channels are gone (null when not measured).
   */
  | {
      type: 'damage';
      step: number;
      schedule: 'abrupt' | 'sp' | 'sr';
      channels: number;
      window: number;
      lossBefore: number;
      peakRise: number;
      peakStep: number;
      tolerance: number;
      recoverySteps: number | null;
      accBefore: number | null;
      accAfter: number | null;
    }
  | { type: 'checkpoint'; step: number; epoch: number; key: string }
  | {
      type: 'slim';
      before: CostFigures;
      after: CostFigures;
      maxAbsDiff: number;
      kept: { family: string; before: number; after: number }[];
    }
  /** Measured inference time of the dense and the slimmed model on the run's backend. */
  | { type: 'latency'; batch: number; denseMsPerImage: number; slimMsPerImage: number }
  | {
      type: 'done';
      testAcc: number;
      flopsFraction: number;
      paramsFraction: number;
      rectifications: number;
      steps: number;
      seconds: number;
    }
  | { type: 'error'; message: string; recoverable: boolean; hint?: string };

export type EngineEventType = EngineEvent['type'];
export type EventOf<T extends EngineEventType> = Extract<EngineEvent, { type: T }>;

export interface RunStart {
  runId: string;
  config: ExperimentConfig;
}
