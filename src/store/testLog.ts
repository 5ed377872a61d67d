import type { EngineEvent } from '../engine/events';

/** A realistic event log of a small pruned run, for reducer and store tests. */
export function sampleLog(steps = 40, stepsPerEpoch = 10): EngineEvent[] {
  const families = [
    { id: 'f0', label: 'stage 1', channels: 4 },
    { id: 'f1', label: 'block 1', channels: 3 },
  ];
  const log: EngineEvent[] = [
    { type: 'backend', backend: 'cpu', requested: 'webgpu', notice: 'WebGPU unavailable: using cpu' },
    { type: 'status', phase: 'loading-data', message: 'loading', progress: 0 },
    { type: 'status', phase: 'building-model', message: 'building' },
    { type: 'model', model: 'tiny', families, dense: { params: 1000, flops: 50_000 }, totalSteps: steps, stepsPerEpoch },
  ];
  const decay = [1, 1, 1, 1, 1, 1, 1];
  for (let step = 1; step <= steps; step++) {
    const epoch = Math.ceil(step / stepsPerEpoch);
    log.push({ type: 'status', phase: 'training', message: `step ${step}`, progress: step / steps });
    log.push({ type: 'step', step, epoch, loss: 2.3 / step, lr: 0.05, imagesPerSec: 100 + step });
    if (step === 10) {
      log.push({ type: 'prune', step, family: 'f0', channels: [1, 2], scores: [0.1, 0.2], schedule: 'sr' });
    }
    if (step > 10 && step <= 20) {
      decay[1] = Math.max(0, 1 - (step - 10) / 10);
      decay[2] = step >= 14 ? 1 : Math.max(0, 1 - (step - 10) / 10);
    }
    if (step === 14) log.push({ type: 'rectify', step, family: 'f0', channel: 2, cRate: 0.9, cLen: 2, decay: 0.6 });
    if (step === 20) log.push({ type: 'removed', step, family: 'f0', channels: [1] });
    log.push({ type: 'telemetry', step, decay: decay.slice(), norm: decay.map((d) => d * 2) });
    log.push({ type: 'cost', step, flopsFraction: 1 - step / (4 * steps), paramsFraction: 1 - step / (5 * steps), params: 900, flops: 40_000 });
    if (step % stepsPerEpoch === 0) {
      log.push({ type: 'epoch', epoch, step, trainLoss: 1 / epoch, trainAcc: 0.2 * epoch, testLoss: 1.1 / epoch, testAcc: 0.18 * epoch });
      log.push({ type: 'checkpoint', step, epoch, key: `ck-${epoch}` });
    }
  }
  log.push({
    type: 'slim',
    before: { params: 1000, flops: 50_000 },
    after: { params: 800, flops: 37_500 },
    maxAbsDiff: 1e-6,
    kept: [{ family: 'f0', before: 4, after: 3 }],
  });
  log.push({ type: 'latency', batch: 32, denseMsPerImage: 2, slimMsPerImage: 1.5 });
  log.push({ type: 'done', testAcc: 0.72, flopsFraction: 0.75, paramsFraction: 0.8, rectifications: 1, steps, seconds: 12 });
  log.push({ type: 'status', phase: 'done', message: 'finished', progress: 1 });
  return log;
}

/** The damage event of sampleLog's step-10 pruning point (SP+SR, N = 10). */
export const SAMPLE_DAMAGE: Extract<EngineEvent, { type: 'damage' }> = {
  type: 'damage',
  step: 10,
  schedule: 'sr',
  channels: 2,
  window: 10,
  lossBefore: 0.5,
  peakRise: 0.2,
  peakStep: 13,
  tolerance: 0.05,
  recoverySteps: 8,
  accBefore: 0.4,
  accAfter: 0.35,
};

/** sampleLog(40, 10) with the step-10 pruning point's damage settling at step 25, as the engine logs it. */
export function sampleLogWithDamage(): EngineEvent[] {
  const log = sampleLog(40, 10);
  const at = log.findIndex((e) => e.type === 'step' && e.step === 25);
  return [...log.slice(0, at), SAMPLE_DAMAGE, ...log.slice(at)];
}
