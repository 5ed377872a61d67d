import { describe, expect, it } from 'vitest';
import { defaultExperiment } from '../engine/experiment';
import { createRunsStore } from './runsStore';
import { replayLog } from './runReducer';
import { toArray } from './series';
import { createEventBatcher, type Scheduler } from './eventBatcher';
import { scheduleComparison } from './compare';
import { sampleLog } from './testLog';

describe('runs store', () => {
  it('appends batches to the right run and derives the same state as a replay', () => {
    const store = createRunsStore();
    const config = defaultExperiment();
    store.getState().addRun({ runId: 'a', config, createdAt: 1 });
    store.getState().addRun({ runId: 'b', config, createdAt: 2 });
    const log = sampleLog(20, 5);
    for (let i = 0; i < log.length; i += 5) store.getState().appendEvents('a', log.slice(i, i + 5));
    const a = store.getState().runs.a.derived;
    expect(toArray(a.events)).toEqual(log);
    expect(a.latestStep).toBe(replayLog(log).latestStep);
    expect(store.getState().runs.b.derived.events.length).toBe(0);
    expect(store.getState().order).toEqual(['a', 'b']);
    store.getState().appendEvents('missing', log.slice(0, 2));
    expect(Object.keys(store.getState().runs)).toEqual(['a', 'b']);
  });

  it('loads a stored log as a replayed, non-live run', () => {
    const store = createRunsStore();
    const log = sampleLog(10, 5);
    store.getState().loadRun({ runId: 'x', config: defaultExperiment(), name: 'stored', createdAt: 5, events: log });
    const run = store.getState().runs.x;
    expect(run.live).toBe(false);
    expect(run.name).toBe('stored');
    expect(run.derived.status).toBe('done');
    expect(run.derived.epochs.length).toBe(2);
  });

  it('keeps selection, comparison and active run consistent when runs go away', () => {
    const store = createRunsStore();
    const config = defaultExperiment();
    for (const id of ['a', 'b', 'c']) store.getState().addRun({ runId: id, config });
    store.getState().setActiveRun('b');
    store.getState().toggleChannel('f0', 3);
    store.getState().toggleChannel('f0', 5);
    store.getState().toggleChannel('f0', 3);
    expect(store.getState().selection.channels).toEqual([{ family: 'f0', channel: 5 }]);
    store.getState().toggleChannel('f1', 1);
    store.getState().selectFamily('f1');
    expect(store.getState().selection).toEqual({
      familyId: 'f1',
      channels: [
        { family: 'f0', channel: 5 },
        { family: 'f1', channel: 1 },
      ],
      rectification: null,
    });
    store.getState().selectChannels([
      { family: 'f2', channel: 0 },
      { family: 'f2', channel: 0 },
    ]);
    expect(store.getState().selection.channels).toEqual([{ family: 'f2', channel: 0 }]);
    store.getState().highlightRectification({ family: 'f3', channel: 4, step: 12 });
    expect(store.getState().selection.rectification).toEqual({ family: 'f3', channel: 4, step: 12 });
    expect(store.getState().selection.channels).toContainEqual({ family: 'f3', channel: 4 });
    store.getState().highlightRectification(null);
    expect(store.getState().selection.rectification).toBeNull();
    store.getState().setComparison(['a', 'b', 'a']);
    store.getState().toggleComparison('c');
    expect(store.getState().comparison).toEqual(['a', 'b', 'c']);
    store.getState().removeRun('b');
    expect(store.getState().activeRunId).toBeNull();
    expect(store.getState().selection).toEqual({ familyId: null, channels: [], rectification: null });
    expect(store.getState().comparison).toEqual(['a', 'c']);
    expect(store.getState().order).toEqual(['a', 'c']);
  });
});

describe('event batcher', () => {
  it('delivers one ordered batch per run per tick', () => {
    const tasks: (() => void)[] = [];
    const schedule: Scheduler = (fn) => {
      tasks.push(fn);
      return () => tasks.splice(tasks.indexOf(fn), 1);
    };
    const delivered: [string, number[]][] = [];
    const batcher = createEventBatcher((runId, events) => delivered.push([runId, events.map((e) => (e.type === 'step' ? e.step : -1))]), schedule);
    const step = (n: number) => ({ type: 'step' as const, step: n, epoch: 1, loss: 1, lr: 1, imagesPerSec: 1 });
    batcher.push('a', [step(1), step(2)]);
    batcher.push('b', [step(7)]);
    batcher.push('a', [step(3)]);
    expect(tasks.length).toBe(1);
    expect(delivered).toEqual([]);
    tasks.shift()!();
    expect(delivered).toEqual([
      ['a', [1, 2, 3]],
      ['b', [7]],
    ]);
    batcher.push('a', [step(4)]);
    batcher.flush();
    expect(tasks.length).toBe(0);
    expect(delivered.at(-1)).toEqual(['a', [4]]);
    batcher.push('a', [step(5)]);
    batcher.dispose();
    expect(tasks.length).toBe(0);
    expect(delivered.length).toBe(3);
  });
});

describe('scheduleComparison', () => {
  it('gives three configs that differ only in the schedule', () => {
    const config = defaultExperiment();
    config.prune.pruner = 'none';
    const runs = scheduleComparison(config);
    expect(runs.map((r) => r.schedule)).toEqual(['abrupt', 'sp', 'sr']);
    for (const r of runs) {
      expect(r.config.prune.pruner).toBe('depgraph');
      expect({ ...r.config, prune: { ...r.config.prune, schedule: 'x' } }).toEqual({ ...runs[0].config, prune: { ...runs[0].config.prune, schedule: 'x' } });
    }
    expect(config.prune.schedule).toBe('sr');
  });
});
