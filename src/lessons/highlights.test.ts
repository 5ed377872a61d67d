import { describe, expect, it } from 'vitest';
import type { EngineEvent, EventOf } from '../engine/events';
import { capReleases, highlightText, runHighlights } from './highlights';

const prune = (step: number, channels: number[], schedule: 'abrupt' | 'sp' | 'sr' = 'sp'): EngineEvent => ({ type: 'prune', step, family: 'f', channels, scores: channels.map(() => 1), schedule });
const epoch = (epoch: number, step: number, trainAcc: number, testAcc: number): EngineEvent => ({ type: 'epoch', epoch, step, trainLoss: 1, trainAcc, testLoss: 1, testAcc });
const damage = (step: number, over: Partial<EventOf<'damage'>> = {}): EventOf<'damage'> => ({
  type: 'damage', step, schedule: 'sp', channels: 5, window: 10, lossBefore: 1.5, peakRise: 0.2, peakStep: step + 3, tolerance: 0.075, recoverySteps: 7, accBefore: 0.6, accAfter: 0.55, ...over,
});

/** A one-point plan at 10 % of the run; logs without a model event treat every selection as a point. */
const plan = (decaySteps: number) => ({ decaySteps, startAt: 0.1, points: 1, every: 40, target: 0.5 });
const model: EngineEvent = { type: 'model', model: 'tiny', families: [], dense: { params: 1, flops: 1 }, totalSteps: 100, stepsPerEpoch: 20 };

describe('lesson highlights', () => {
  it('follow a pruning point from its selection to its measured damage, as the events arrive', () => {
    const log: EngineEvent[] = [prune(20, [1, 2]), { type: 'prune', step: 20, family: 'g', channels: [3], scores: [1], schedule: 'sp' }];
    const before = runHighlights(log, plan(10));
    expect(before).toEqual([expect.objectContaining({ kind: 'point', index: 1, step: 20, channels: 3, damage: null })]);
    expect(highlightText(before[0])).toBe('Pruning point 1 at step 20 (SP): 3 channels chosen; decaying — measuring the damage…');
    const after = runHighlights([...log, damage(20)], plan(10));
    expect(after).toHaveLength(1);
    expect(highlightText(after[0])).toBe('Pruning point 1 at step 20 (SP): 3 channels chosen. Loss 1.500 before, rose +0.200 (peak at step 23), recovered in 7 steps; probe accuracy 60.0% → 55.0%.');
  });

  it('say when the loss never left its tolerance or never came back', () => {
    const within = runHighlights([prune(4, [1], 'abrupt'), damage(4, { schedule: 'abrupt', peakRise: 0.01, recoverySteps: 0 })], plan(10))[0];
    expect(highlightText(within)).toContain('never left its tolerance');
    expect(highlightText(within)).toContain('(abrupt)');
    const never = runHighlights([prune(4, [1]), damage(4, { recoverySteps: null })], plan(10))[0];
    expect(highlightText(never)).toContain('had not recovered by the end');
  });

  it('list Self-Rectifying releases in step order after the point they belong to', () => {
    const items = runHighlights([prune(10, [1, 2]), { type: 'rectify', step: 14, family: 'f', channel: 2, cRate: 0.02, cLen: 0.6, decay: 0.6 }], plan(10));
    expect(items.map((i) => i.kind)).toEqual(['point', 'rectify']);
    expect(highlightText(items[1])).toBe('Step 14: Self-Rectifying released f #2 at decay 0.60 (C_rate 0.020, C_len 0.60): the network pushed back, so it trains on.');
  });

  it('tell the planned pruning point from the replacements chosen for released channels', () => {
    const log: EngineEvent[] = [model, prune(10, [1, 2]), { type: 'rectify', step: 12, family: 'f', channel: 2, cRate: 0.02, cLen: 0.6, decay: 0.9 }, prune(13, [5]), { type: 'prune', step: 13, family: 'g', channels: [7], scores: [1], schedule: 'sr' }];
    const items = runHighlights(log, plan(10));
    expect(items.map((h) => `${h.kind}@${h.step}`)).toEqual(['point@10', 'rectify@12', 'replacement@13']);
    expect(highlightText(items[2])).toBe('Step 13: the pruner chose 2 replacement channels (f, g) for released ones; they start their own decay.');
  });

  it('list the first releases one by one and keep the rest for a summary, other items untouched', () => {
    const release = (step: number, channel: number): EngineEvent => ({ type: 'rectify', step, family: 'f', channel, cRate: 0.02, cLen: 0.6, decay: 0.5 });
    const items = runHighlights([prune(10, [1, 2, 3, 4]), release(11, 1), release(12, 2), release(13, 3), epoch(1, 14, 0.5, 0.3), release(15, 4)], plan(10));
    const { shown, hidden } = capReleases(items, 2);
    expect(shown.map((h) => `${h.kind}@${h.step}`)).toEqual(['point@10', 'rectify@11', 'rectify@12', 'dip@14']);
    expect(hidden.map((h) => h.step)).toEqual([13, 15]);
  });

  it('mark evaluations that fell inside a decay, against the last one before the point', () => {
    const log = [epoch(1, 16, 0.5, 0.55), epoch(2, 32, 0.6, 0.62), prune(40, [1]), epoch(3, 48, 0.65, 0.3), epoch(4, 64, 0.7, 0.4), epoch(5, 80, 0.72, 0.7)];
    const dips = runHighlights(log, plan(30)).filter((h) => h.kind === 'dip');
    expect(dips).toEqual([
      expect.objectContaining({ epoch: 3, step: 48, into: 8, testAcc: 0.3, trainAcc: 0.65, before: { epoch: 2, testAcc: 0.62, trainAcc: 0.6 } }),
      expect.objectContaining({ epoch: 4, step: 64, into: 24 }),
    ]);
    expect(highlightText(dips[0])).toBe(
      'Epoch 3 ended at step 48, 8 of 30 steps into the decay that began at step 40: test accuracy 30.0% with running batch-norm statistics, training accuracy 65.0% (epoch 2, before the point: test 62.0%, train 60.0%).',
    );
    // Abrupt pruning has no decay to fall inside.
    expect(runHighlights([epoch(1, 16, 0.5, 0.5), prune(10, [1], 'abrupt'), epoch(2, 20, 0.5, 0.5)], plan(30)).some((h) => h.kind === 'dip')).toBe(false);
  });
});
