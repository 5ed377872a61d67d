import { describe, expect, it } from 'vitest';
import { binActivity, collectTimeline, describeClosest, sortRows, visibleWindow, type CriteriaEvent } from './rectifications';
import { smallRun } from './fixtures.test-util';

describe('rectification timeline data', () => {
  it('collects rows with family labels and the step domain', () => {
    const t = collectTimeline(smallRun());
    expect(t.rows).toEqual([
      { index: 0, step: 30, family: 'c2', familyLabel: 'conv2', familyIndex: 1, channel: 0, cRate: 1.7, cLen: 2.3, decay: 0.5 },
    ]);
    expect(t.families.map((f) => f.label)).toEqual(['conv1', 'conv2']);
    expect(t.maxStep).toBe(100);
  });

  it('bins prune and removed channel counts', () => {
    const b = binActivity(smallRun(), 0, 100, 10);
    expect(Array.from(b.pruned)).toEqual([0, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(b.removed)).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(b.max).toBe(2);
  });

  it('sorts stably and windows a virtual list', () => {
    const base = { family: 'f', familyLabel: 'F', familyIndex: 0, channel: 0, cLen: 1, decay: 0.5 };
    const rows = [
      { ...base, index: 0, step: 5, cRate: 2 },
      { ...base, index: 1, step: 3, cRate: 2 },
      { ...base, index: 2, step: 9, cRate: 1 },
    ];
    expect(sortRows(rows, 'step', false).map((r) => r.index)).toEqual([1, 0, 2]);
    expect(sortRows(rows, 'cRate', true).map((r) => r.index)).toEqual([0, 1, 2]);
    expect(visibleWindow(500, 0, 240, 24, 2)).toEqual({ from: 0, to: 12 });
    expect(visibleWindow(500, 2400, 240, 24, 2)).toEqual({ from: 98, to: 112 });
    expect(visibleWindow(5, 2400, 240, 24, 2)).toEqual({ from: 5, to: 5 });
  });

  it('keeps the criteria window closest to release and describes it, with a hint when nothing can pass', () => {
    const c = (step: number, closeness: number, cRate: number, cLen: number): CriteriaEvent => ({ type: 'criteria', step, steps: 10, family: 'c2', channel: 1, cRate, cLen, tRate: 0.5, tLen: 1.5, closeness });
    const t = collectTimeline([...smallRun(), c(40, 0.2, 0.1, 2), c(50, 0.36, 0.18, 1.6), c(60, 0.3, 0.15, 0.9)]);
    expect(t.closest?.step).toBe(50);
    const label = (id: string) => (id === 'c2' ? 'conv2' : id);
    const none = describeClosest(t.closest, label, 0)!;
    expect(none).toContain('conv2 · channel 1, steps 41–50');
    expect(none).toContain('C_rate 0.180 of T_rate 0.5');
    expect(none).toContain('lower T_rate for Self-Rectifying to act');
    expect(describeClosest(c(50, 0.4, 0.1, 0.6), label, 0)).toContain('lower T_rate and T_len');
    expect(describeClosest(c(50, 0.5, 0.9, 0.75), label, 0)).toContain('lower T_len');
    expect(describeClosest(t.closest, label, 3)).not.toContain('lower');
    expect(describeClosest(null, label, 0)).toBeNull();
    expect(describeClosest({ ...c(7, 0.04, 0.02, 0.3), steps: 1 }, label, 0)).toContain('channel 1, step 7 (');
  });
});
