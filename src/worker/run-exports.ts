import { finalFromStored, type FinalModel } from '../engine/export/final-model';
import type { CheckpointInput, RunStore } from '../persist';

/**
 * Where a finished run's exports come from after the page reloads: the run store keeps, as the
 * run's last checkpoint, its trained network and kept channels (`extra.final`). Plain functions
 * over a RunStore, so they are tested against the memory store.
 */

/** The run's final state as its last checkpoint (no optimizer slots: a finished run is not resumed). */
export function finalCheckpoint(final: FinalModel, at: { step: number; epoch: number; rectifications: number; elapsedSeconds: number }): CheckpointInput {
  return {
    step: at.step,
    epoch: at.epoch,
    weights: final.weights,
    optimizer: {},
    pruning: null,
    rng: null,
    extra: { rectifications: at.rectifications, elapsedSeconds: at.elapsedSeconds, final: { def: final.def, keep: final.keep, arch: final.arch } },
  };
}

export type StoredFinal = { name: string; final: FinalModel; why: '' } | { name: string; final: null; why: string };

/** A stored run's final model, or a sentence saying why it has none. */
export async function finalOfRun(store: RunStore | null, runId: string): Promise<StoredFinal> {
  if (!store) return { name: '', final: null, why: 'this browser keeps runs in memory only, and the engine no longer holds this run’s model (only the last run finished since the page opened can be exported)' };
  const run = await store.getRun(runId);
  if (!run) return { name: '', final: null, why: 'the run is not in this browser’s run store' };
  const name = run.name;
  if (run.status !== 'done') {
    const why = run.status === 'running' ? 'the run is still running: export it when it has finished' : `the run is ${run.status}: only a finished run has a final model (resume it to the end first)`;
    return { name, final: null, why };
  }
  const cp = await store.loadCheckpoint(runId);
  const extra = cp?.extra as { final?: { def?: unknown; keep?: unknown; arch?: unknown } } | undefined;
  const final = extra?.final ? finalFromStored({ ...extra.final, weights: cp!.weights }) : null;
  if (final) return { name, final, why: '' };
  const held = cp ? `only a checkpoint at step ${cp.step}, not its final weights` : 'none of its weights';
  const tfjs = run.hasModel ? '; its slimmed TensorFlow.js model can still be downloaded' : '';
  return { name, final: null, why: `the run store holds ${held} (runs finished before this version of the app kept them)${tfjs}` };
}
