import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/events';
import { defaultExperiment, type ExperimentConfig } from '../../engine/experiment';
import { replayLog } from '../../store/runReducer';
import { chartMarkers, markerNote, pruningMarkers } from './pruningMarkers';

const model = (totalSteps: number): EngineEvent => ({ type: 'model', model: 'tiny', families: [], dense: { params: 1, flops: 1 }, totalSteps, stepsPerEpoch: 10 });
const prune = (step: number, family: string, channels: number[], schedule: 'abrupt' | 'sp' | 'sr'): EngineEvent => ({ type: 'prune', step, family, channels, scores: channels.map(() => 0), schedule });

/** Points planned at round(0.1 * 30) = 3 and 3 + 4 = 7 of a 30-step run, N = 4. */
function config(schedule: 'abrupt' | 'sp' | 'sr'): ExperimentConfig {
  const c = defaultExperiment();
  return { ...c, prune: { ...c.prune, schedule, startAt: 0.1, points: 2, every: 4, decaySteps: 4 } };
}

const run = (schedule: 'abrupt' | 'sp' | 'sr', events: EngineEvent[]) => ({ config: config(schedule), derived: replayLog(events) });

describe('pruning markers', () => {
  it('one marker per pruning point, at its prune events’ step, with a decay window of N steps for SP/SR', () => {
    const m = pruningMarkers(run('sp', [model(30), prune(3, 'a', [0, 1], 'sp'), prune(3, 'b', [2], 'sp'), prune(7, 'a', [4], 'sp')]));
    expect(m).toEqual([
      { point: 1, step: 3, schedule: 'sp', channels: 3, window: [3, 7], label: 'pruning point 1 at step 3 (SP, 3 channels decaying until step 7)' },
      { point: 2, step: 7, schedule: 'sp', channels: 1, window: [7, 11], label: 'pruning point 2 at step 7 (SP, 1 channel decaying until step 11)' },
    ]);
    for (const x of m) expect(x.window![1] - x.window![0]).toBe(4);
  });

  it('abrupt pruning has no window: it cuts at once', () => {
    const [m] = pruningMarkers(run('abrupt', [model(30), prune(3, 'a', [0], 'abrupt')]));
    expect(m).toMatchObject({ point: 1, step: 3, window: null, label: 'pruning point 1 at step 3 (abrupt, 1 channel cut at once)' });
  });

  it('Self-Rectifying’s replacement selections are not pruning points; a point that selected nothing has no marker', () => {
    const events = [model(30), prune(3, 'a', [0, 1], 'sr'), { type: 'rectify', step: 5, family: 'a', channel: 1, cRate: 1, cLen: 2, decay: 0.5 } as EngineEvent, prune(5, 'b', [3], 'sr')];
    expect(pruningMarkers(run('sr', events)).map((m) => [m.point, m.step])).toEqual([[1, 3]]);
    // The second point (step 7) is numbered 2 even when the first selected nothing.
    expect(pruningMarkers(run('sr', [model(30), prune(7, 'a', [0], 'sr')])).map((m) => [m.point, m.step])).toEqual([[2, 7]]);
    // No model event yet (no plan to read): every prune step is taken as a point.
    expect(pruningMarkers(run('sr', [prune(5, 'a', [0], 'sr'), prune(2, 'a', [1], 'sr')])).map((m) => [m.point, m.step])).toEqual([
      [1, 2],
      [2, 5],
    ]);
  });

  it('a chart shows the points reached by its last step, and the part of each window reached so far', () => {
    const m = pruningMarkers(run('sp', [model(30), prune(3, 'a', [0], 'sp'), prune(7, 'a', [1], 'sp')]));
    expect(chartMarkers(m, 5, { color: '#000', tags: true })).toEqual([{ key: 'p1', x: 3, band: [3, 5], label: m[0].label, tag: 'P1', color: '#000' }]);
    const all = chartMarkers(m, 30, { color: '#f00', tags: false, key: 'run1', run: 'SP run' });
    expect(all.map((c) => [c.key, c.x, c.band, c.tag])).toEqual([
      ['run1p1', 3, [3, 7], undefined],
      ['run1p2', 7, [7, 11], undefined],
    ]);
    expect(all[1].label).toBe('SP run: pruning point 2 at step 7 (SP, 1 channel decaying until step 11)');
    expect(chartMarkers(m, 2, { color: '#000', tags: true })).toEqual([]);
  });

  it('the chart says what its marks mean only when it has some', () => {
    const sp = chartMarkers(pruningMarkers(run('sp', [model(30), prune(3, 'a', [0], 'sp')])), 30, { color: '#000', tags: true });
    const abrupt = chartMarkers(pruningMarkers(run('abrupt', [model(30), prune(3, 'a', [0], 'abrupt')])), 30, { color: '#000', tags: true });
    expect(markerNote(sp)).toBe('dashed: pruning points · shaded: decay windows');
    expect(markerNote(abrupt)).toBe('dashed: pruning points');
    expect(markerNote([])).toBeNull();
  });
});
