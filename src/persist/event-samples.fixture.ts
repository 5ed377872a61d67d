import type { EngineEventType, EventOf } from '../engine/events';

/** One example of every event type; the Record type makes TypeScript demand all of them. */
export const EVENT_SAMPLES: { [T in EngineEventType]: EventOf<T> } = {
  status: { type: 'status', phase: 'training', message: 'Training', progress: 0.25 },
  backend: { type: 'backend', backend: 'cpu', requested: 'webgpu', notice: 'WebGPU unavailable' },
  model: {
    type: 'model',
    model: 'tiny',
    families: [{ id: 'f0', label: 'conv1', channels: 8 }],
    dense: { params: 1200, flops: 34000 },
    totalSteps: 120,
    stepsPerEpoch: 40,
  },
  step: { type: 'step', step: 3, epoch: 0, loss: 2.1, lr: 0.05, imagesPerSec: 812.5 },
  epoch: { type: 'epoch', epoch: 1, step: 40, trainLoss: 1.9, trainAcc: 0.3, testLoss: 2, testAcc: 0.28 },
  cost: { type: 'cost', step: 50, flopsFraction: 0.8, paramsFraction: 0.85, params: 1000, flops: 27200 },
  telemetry: { type: 'telemetry', step: 50, decay: [1, 0.5, 0], norm: [0.3, 0.1, 0] },
  prune: { type: 'prune', step: 48, family: 'f0', channels: [2, 5], scores: [0.01, 0.02], schedule: 'sr' },
  rectify: { type: 'rectify', step: 60, family: 'f0', channel: 5, cRate: 2.5, cLen: 1.7, decay: 0.4 },
  criteria: { type: 'criteria', step: 64, steps: 4, family: 'f0', channel: 3, cRate: 0.18, cLen: 1.6, tRate: 0.5, tLen: 1.5, closeness: 0.36 },
  removed: { type: 'removed', step: 78, family: 'f0', channels: [2] },
  checkpoint: { type: 'checkpoint', step: 80, epoch: 2, key: 'run-1' },
  slim: {
    type: 'slim',
    before: { params: 1200, flops: 34000 },
    after: { params: 900, flops: 25000 },
    maxAbsDiff: 1e-6,
    kept: [{ family: 'f0', before: 8, after: 7 }],
  },
  latency: { type: 'latency', batch: 32, denseMsPerImage: 0.8, slimMsPerImage: 0.6 },
  done: { type: 'done', testAcc: 0.4, flopsFraction: 0.74, paramsFraction: 0.75, rectifications: 1, steps: 120, seconds: 30 },
  error: { type: 'error', message: 'out of memory', recoverable: false, hint: 'use a smaller batch' },
};
