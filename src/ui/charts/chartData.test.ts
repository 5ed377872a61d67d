import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PruneEvent, RemovedEvent } from '../../store/runReducer';
import { cutSteps, downsample, heldRows, sharedStepDomain, stepSeries, trailingMean } from './chartData';

const prune = (step: number, family: string, channels: number[], schedule: PruneEvent['schedule']): PruneEvent => ({ type: 'prune', step, family, channels, scores: channels.map(() => 0), schedule });
const removed = (step: number, family: string, channels: number[]): RemovedEvent => ({ type: 'removed', step, family, channels });

describe('chart data', () => {
  it('downsample keeps order, ends and the size bound', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 2000 }), fc.integer({ min: 2, max: 500 }), (items, max) => {
        const out = downsample(items, max);
        expect(out.length).toBe(Math.min(items.length, max));
        if (items.length > 0) {
          expect(out[0]).toBe(items[0]);
          expect(out.at(-1)).toBe(items.at(-1));
        }
        const idx = out.map((v, i) => items.indexOf(v, i === 0 ? 0 : undefined));
        expect(idx.every((x) => x >= 0)).toBe(true);
      }),
    );
    const sorted = Array.from({ length: 1000 }, (_, i) => i);
    const out = downsample(sorted, 100);
    expect(out.every((v, i) => i === 0 || v > out[i - 1])).toBe(true);
  });

  it('trailingMean averages over the window', () => {
    expect(trailingMean([2, 4, 6, 8], 2)).toEqual([2, 3, 5, 7]);
    expect(trailingMean([1, 2, 3], 10)).toEqual([1, 1.5, 2]);
  });

  it('stepSeries and the shared domain', () => {
    const s = stepSeries([{ step: 1, a: 3 }, { step: 5, a: 4 }], (x) => x.a);
    expect(s).toEqual([
      { step: 1, value: 3 },
      { step: 5, value: 4 },
    ]);
    expect(sharedStepDomain([s, [{ step: 9, value: 0 }], []])).toEqual([0, 9]);
    expect(sharedStepDomain([])).toEqual([0, 1]);
  });

  it('a cut is a removal of channels selected at the same step; a finished decay is not', () => {
    // Abrupt: selected and removed at 40 and 80.
    expect([...cutSteps([prune(40, 'a', [1, 2], 'abrupt'), prune(80, 'b', [0], 'abrupt')], [removed(40, 'a', [1, 2]), removed(80, 'b', [0])])]).toEqual([40, 80]);
    // SP, N = 30: selected at 40, removed at 70; a point at 70 selecting other channels is no cut either.
    expect(cutSteps([prune(40, 'a', [1, 2], 'sp'), prune(70, 'a', [3], 'sp')], [removed(70, 'a', [1, 2])]).size).toBe(0);
    // SP with a zero-norm channel: removed the step it is selected, in its own family only.
    expect([...cutSteps([prune(40, 'a', [1], 'sp'), prune(40, 'b', [5], 'sp')], [removed(40, 'b', [5]), removed(40, 'c', [1])])]).toEqual([40]);
    expect(cutSteps([prune(40, 'a', [1], 'sp')], [removed(40, 'c', [1])]).size).toBe(0);
  });

  it('abrupt cost holds flat and falls vertically at the pruning step, then holds to the run end', () => {
    const costs = [
      { step: 0, flops: 1, params: 1 },
      { step: 40, flops: 0.6, params: 0.7 },
      { step: 80, flops: 0.4, params: 0.5 },
    ];
    expect(heldRows(costs, new Set([40, 80]), 100)).toEqual([
      { step: 0, flops: 1, params: 1 },
      { step: 40, flops: 1, params: 1 },
      { step: 40, flops: 0.6, params: 0.7 },
      { step: 80, flops: 0.6, params: 0.7 },
      { step: 80, flops: 0.4, params: 0.5 },
      { step: 100, flops: 0.4, params: 0.5 },
    ]);
  });

  it('SP cost is the curve the events give (flat to the point, a ramp over its window), held to the run end', () => {
    // Point at 40 (decaying channels still counted), removal at 70 (N = 30), next point at 80.
    const costs = [
      { step: 0, value: 1 },
      { step: 40, value: 1 },
      { step: 70, value: 0.6 },
      { step: 80, value: 0.6 },
      { step: 110, value: 0.4 },
    ];
    expect(heldRows(costs, new Set(), 120)).toEqual([...costs, { step: 120, value: 0.4 }]);
    // Nothing to hold past the end, nothing to draw without reports.
    expect(heldRows(costs, new Set(), 110)).toEqual(costs);
    expect(heldRows([], new Set([3]), 10)).toEqual([]);
    // A cut on the first report, or at the step of the report before it, is already vertical.
    expect(heldRows([{ step: 0, value: 1 }, { step: 0, value: 0.5 }], new Set([0]), 0)).toEqual([
      { step: 0, value: 1 },
      { step: 0, value: 0.5 },
    ]);
  });
});
