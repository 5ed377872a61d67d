import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../engine/events';
import { initialRunDerived, reduceEvent, reduceEvents, replayLog, type RunDerived } from './runReducer';
import { toArray } from './series';
import { sampleLog } from './testLog';

/** The derived state with every series read out, for deep comparison. */
function materialize(s: RunDerived) {
  return {
    ...s,
    events: toArray(s.events),
    steps: toArray(s.steps),
    epochs: toArray(s.epochs),
    costs: toArray(s.costs),
    telemetry: toArray(s.telemetry),
    prunes: toArray(s.prunes),
    rectifications: toArray(s.rectifications),
    removals: toArray(s.removals),
    errors: toArray(s.errors),
  };
}

describe('reduceEvent', () => {
  it('derives the summaries of a whole run', () => {
    const log = sampleLog(40, 10);
    const s = replayLog(log);
    expect(s.events.length).toBe(log.length);
    expect(s.status).toBe('done');
    expect(s.phase).toBe('done');
    expect(s.latestStep).toBe(40);
    expect(s.latestEpoch).toBe(4);
    expect(s.steps.length).toBe(40);
    expect(toArray(s.epochs).map((e) => e.testAcc)).toEqual([0.18, 0.36, 0.18 * 3, 0.72]);
    expect(s.costs.length).toBe(40);
    expect(s.telemetry.length).toBe(40);
    expect(s.latestTelemetry?.step).toBe(40);
    expect(s.latestTelemetry?.decay[1]).toBe(0);
    expect(toArray(s.rectifications)).toEqual([{ type: 'rectify', step: 14, family: 'f0', channel: 2, cRate: 0.9, cLen: 2, decay: 0.6 }]);
    expect(s.prunes.length).toBe(1);
    expect(s.removals.length).toBe(1);
    expect(s.checkpoint?.key).toBe('ck-4');
    expect(s.backend?.notice).toContain('WebGPU unavailable');
    expect(s.model?.families.map((f) => f.id)).toEqual(['f0', 'f1']);
    expect(s.done?.testAcc).toBe(0.72);
    expect(s.slim?.after.params).toBe(800);
    expect(s.latency?.slimMsPerImage).toBe(1.5);
  });

  it('does not change a state it was given', () => {
    const log = sampleLog(12, 4);
    const before = replayLog(log.slice(0, 20));
    const snapshot = materialize(before);
    reduceEvents(before, log.slice(20));
    expect(materialize(before)).toEqual(snapshot);
  });

  it('keeps earlier versions intact when an old version is extended (a branch)', () => {
    const log = sampleLog(12, 4);
    const base = replayLog(log.slice(0, 15));
    const a = reduceEvent(base, { type: 'step', step: 99, epoch: 9, loss: 1, lr: 0.1, imagesPerSec: 1 });
    const b = reduceEvent(base, { type: 'step', step: 77, epoch: 7, loss: 2, lr: 0.2, imagesPerSec: 2 });
    expect(toArray(a.steps).at(-1)?.step).toBe(99);
    expect(toArray(b.steps).at(-1)?.step).toBe(77);
    expect(a.steps.length).toBe(b.steps.length);
    expect(toArray(base.steps).every((e) => e.step < 77)).toBe(true);
  });

  it('replaying the log in any batching gives identical derived state', () => {
    const log = sampleLog(30, 10);
    const one = materialize(replayLog(log));
    let byEvent = initialRunDerived();
    for (const e of log) byEvent = reduceEvent(byEvent, e);
    let byBatch = initialRunDerived();
    for (let i = 0; i < log.length; i += 7) byBatch = reduceEvents(byBatch, log.slice(i, i + 7));
    expect(materialize(byEvent)).toEqual(one);
    expect(materialize(byBatch)).toEqual(one);
    // And the stored log itself replays to the same state (a JSON round trip, as IndexedDB/export do).
    const stored = JSON.parse(JSON.stringify(toArray(byBatch.events))) as EngineEvent[];
    expect(materialize(replayLog(stored))).toEqual(one);
  });

  it('tracks pause, stop and fatal errors in the status', () => {
    let s = replayLog([{ type: 'status', phase: 'training', message: 'go', progress: 0.1 }]);
    expect(s.status).toBe('running');
    expect(s.progress).toBe(0.1);
    s = reduceEvent(s, { type: 'status', phase: 'paused', message: 'paused' });
    expect(s.status).toBe('paused');
    expect(s.progress).toBeNull();
    s = reduceEvent(s, { type: 'error', message: 'tab lost the GPU', recoverable: true });
    expect(s.status).toBe('paused');
    expect(s.errors.length).toBe(1);
    s = reduceEvent(s, { type: 'error', message: 'out of memory', recoverable: false, hint: 'smaller batch' });
    expect(s.status).toBe('error');
    const stopped = reduceEvent(replayLog([]), { type: 'status', phase: 'stopped', message: 'stopped' });
    expect(stopped.status).toBe('stopped');
  });

  it('shares buffers between consecutive versions (no copy per event)', () => {
    const log = sampleLog(20, 10);
    let s = initialRunDerived();
    const buffers = new Set<unknown>();
    for (const e of log) {
      s = reduceEvent(s, e);
      buffers.add(s.events.buf);
      buffers.add(s.steps.buf);
    }
    expect(buffers.size).toBe(2);
  });
});
