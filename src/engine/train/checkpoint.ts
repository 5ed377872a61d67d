import * as tf from '@tensorflow/tfjs';
import type { PruningState } from '../pruning/types';

export interface TensorRecord {
  shape: number[];
  data: Float32Array;
}

/** Everything needed to continue a run exactly where it stopped (with the run's config). */
export interface Checkpoint {
  step: number;
  epoch: number;
  weights: Record<string, TensorRecord>;
  optimizer: Record<string, TensorRecord>;
  pruning: PruningState;
  /** Figures a resumed run needs to keep its events consistent. */
  rectifications: number;
  elapsedSeconds: number;
}

/** Reads every variable of a model (keyed by parameter name) without blocking the thread. */
export async function readWeights(vars: ReadonlyMap<string, tf.Variable>): Promise<Record<string, TensorRecord>> {
  const out: Record<string, TensorRecord> = {};
  const entries = [...vars.entries()];
  const datas = await Promise.all(entries.map(([, v]) => v.data()));
  entries.forEach(([name, v], i) => (out[name] = { shape: [...v.shape], data: datas[i] as Float32Array }));
  return out;
}

export function writeWeights(vars: ReadonlyMap<string, tf.Variable>, weights: Record<string, TensorRecord>): void {
  for (const [name, v] of vars) {
    const w = weights[name];
    if (!w) throw new Error(`checkpoint has no value for ${name}`);
    if (w.shape.length !== v.shape.length || w.shape.some((d, i) => d !== v.shape[i])) {
      throw new Error(`checkpoint shape of ${name} is [${w.shape}], the model's is [${v.shape}]`);
    }
    const t = tf.tensor(w.data, w.shape);
    v.assign(t);
    t.dispose();
  }
}
