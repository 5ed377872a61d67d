import { DataError } from '../data/types';
import type { ExperimentConfig } from '../experiment';
import { errorMessage } from '../error-message';

export interface Failure {
  message: string;
  /** Whether resuming (perhaps with other settings) can continue the run. */
  recoverable: boolean;
  hint?: string;
}

const OOM = /out of memory|failed to allocate|allocation failed|\bOOM\b|exceeds the (max|maximum) buffer size|buffer.*too large|maxBufferSize|maxStorageBufferBindingSize/i;
const LOST = /device (was )?lost|GPUDevice.*lost|context lost|CONTEXT_LOST/i;

/** Turns whatever a run threw into words for the user: what happened and what to do. */
export function describeFailure(e: unknown, config: ExperimentConfig): Failure {
  if (e instanceof DataError) return { message: e.message, recoverable: false, hint: 'fix or replace the data file; the app keeps the data it had' };
  const raw = errorMessage(e);
  if (OOM.test(raw)) {
    const smaller = Math.max(1, Math.floor(config.train.batchSize / 2));
    return {
      message: `the GPU ran out of memory at batch size ${config.train.batchSize} with ${config.train.model} (${raw})`,
      recoverable: true,
      hint: `try batch size ${smaller} or a smaller model, then resume from the last checkpoint`,
    };
  }
  if (LOST.test(raw)) {
    return { message: `the GPU went away during training (${raw})`, recoverable: true, hint: 'resume from the last checkpoint, on WebGPU again or on another backend' };
  }
  return { message: raw, recoverable: false };
}
