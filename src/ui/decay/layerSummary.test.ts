import { describe, expect, it } from 'vitest';
import { applyLayerEvent, createLayerSummaryState, snapshotLayerSummary, summarizeLayers } from './layerSummary';
import { slimEvents, smallRun } from './fixtures.test-util';

describe('layer summary', () => {
  it('counts kept / decaying / pruned / rectified per family', () => {
    const s = summarizeLayers(smallRun());
    expect(s.model).toBe('tiny');
    expect(s.families.map((f) => [f.id, f.kept, f.decaying, f.pruned, f.rectified])).toEqual([
      ['c1', 3, 0, 1, 0],
      ['c2', 2, 1, 0, 1],
    ]);
    expect(s.totals).toMatchObject({ channels: 7, kept: 5, decaying: 1, pruned: 1, rectified: 1, rectifications: 1 });
    expect(s.totals.slimBefore).toBeNull();
    expect(s.slim).toBeNull();
    expect(s.latency).toBeNull();
    expect(s.lastCost).toMatchObject({ params: 700, flops: 40_000 });
    expect(s.dense).toEqual({ params: 1000, flops: 50_000 });
  });

  it('tracks mid-run state: a channel is decaying until removed or released', () => {
    const state = createLayerSummaryState();
    const events = smallRun();
    const at = (pred: (i: number) => boolean) => {
      const st = createLayerSummaryState();
      events.forEach((e, i) => pred(i) && applyLayerEvent(st, e));
      return snapshotLayerSummary(st);
    };
    const firstRectify = events.findIndex((e) => e.type === 'rectify');
    const before = at((i) => i < firstRectify);
    expect(before.families.map((f) => [f.decaying, f.kept])).toEqual([
      [1, 3],
      [1, 2],
    ]);
    for (const e of events) applyLayerEvent(state, e);
    expect(snapshotLayerSummary(state)).toEqual(summarizeLayers(events));
  });

  it('ignores unknown families, out-of-range channels and re-pruning of removed channels', () => {
    const events = smallRun();
    events.push({ type: 'prune', step: 60, family: 'nope', channels: [0], scores: [0], schedule: 'sp' });
    events.push({ type: 'prune', step: 60, family: 'c1', channels: [1, 99], scores: [0, 0], schedule: 'sp' });
    events.push({ type: 'removed', step: 61, family: 'c1', channels: [-1] });
    const s = summarizeLayers(events);
    expect(s.families[0]).toMatchObject({ kept: 3, decaying: 0, pruned: 1 });
  });

  it('reads slimming and latency; a new model resets everything', () => {
    const s = summarizeLayers([...smallRun(), ...slimEvents()]);
    expect(s.families.map((f) => [f.slimBefore, f.slimAfter])).toEqual([
      [4, 3],
      [3, 3],
    ]);
    expect(s.totals.slimBefore).toBe(7);
    expect(s.totals.slimAfter).toBe(6);
    expect(s.slim?.after).toEqual({ params: 650, flops: 38_000 });
    expect(s.latency).toEqual({ batch: 32, denseMsPerImage: 2, slimMsPerImage: 1.25 });
    const again = summarizeLayers([...smallRun(), ...slimEvents(), smallRun()[0]]);
    expect(again.totals).toMatchObject({ kept: 7, pruned: 0, decaying: 0, rectified: 0 });
    expect(again.slim).toBeNull();
  });
});
