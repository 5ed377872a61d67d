import type { EngineEvent } from '../../engine/events';

/** A small hand-made run: two families, one channel pruned, one rectified, then slimmed. */
export function smallRun(): EngineEvent[] {
  const families = [
    { id: 'c1', label: 'conv1', channels: 4 },
    { id: 'c2', label: 'conv2', channels: 3 },
  ];
  const ev: EngineEvent[] = [
    {
      type: 'model',
      model: 'tiny',
      families,
      dense: { params: 1000, flops: 50_000 },
      totalSteps: 100,
      stepsPerEpoch: 10,
    },
  ];
  // c1#1 decays 1 -> 0 over steps 10..50 and is removed; c2#0 decays from step 10 and is
  // released at step 30 (decay 0.5), then recovers.
  for (let step = 0; step <= 100; step += 10) {
    const c1d1 = step < 10 ? 1 : Math.max(0, 1 - (step - 10) / 40);
    const c2d0 = step < 10 ? 1 : step <= 30 ? 1 - (step - 10) / 40 : 1;
    ev.push({
      type: 'telemetry',
      step,
      decay: [1, c1d1, 1, 1, c2d0, 1, 1],
      norm: [2, 2 * c1d1, 2, 2, step <= 30 ? 3 * c2d0 : 1.5 + (step - 30) / 20, 3, 3],
    });
    if (step === 10) {
      ev.push({ type: 'prune', step, family: 'c1', channels: [1], scores: [0.1], schedule: 'sr' });
      ev.push({ type: 'prune', step, family: 'c2', channels: [0], scores: [0.2], schedule: 'sr' });
    }
    if (step === 30) {
      ev.push({ type: 'rectify', step, family: 'c2', channel: 0, cRate: 1.7, cLen: 2.3, decay: 0.5 });
      ev.push({ type: 'prune', step, family: 'c2', channels: [2], scores: [0.3], schedule: 'sr' });
    }
    if (step === 50) ev.push({ type: 'removed', step, family: 'c1', channels: [1] });
  }
  ev.push({ type: 'cost', step: 100, flopsFraction: 0.8, paramsFraction: 0.7, params: 700, flops: 40_000 });
  return ev;
}

export function slimEvents(): EngineEvent[] {
  return [
    {
      type: 'slim',
      before: { params: 1000, flops: 50_000 },
      after: { params: 650, flops: 38_000 },
      maxAbsDiff: 1e-6,
      kept: [
        { family: 'c1', before: 4, after: 3 },
        { family: 'c2', before: 3, after: 3 },
      ],
    },
    { type: 'latency', batch: 32, denseMsPerImage: 2, slimMsPerImage: 1.25 },
  ];
}
