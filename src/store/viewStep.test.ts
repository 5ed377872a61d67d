import { describe, expect, it } from 'vitest';
import { defaultExperiment } from '../engine/experiment';
import { replayLog } from './runReducer';
import { createRunsStore } from './runsStore';
import { toArray } from './series';
import { SAMPLE_DAMAGE, sampleLog, sampleLogWithDamage } from './testLog';
import { derivedAtStep, eventsUpTo, isReplayable, lastTimelineStep, nextPlayStep } from './viewStep';

const damage = SAMPLE_DAMAGE;
const logWithDamage = sampleLogWithDamage;

describe('eventsUpTo', () => {
  it('keeps exactly the events whose timeline step is <= the cursor, in log order', () => {
    const log = logWithDamage();
    const cut = eventsUpTo(log, 12);
    const stepped = cut.filter((e) => 'step' in e) as { step: number }[];
    expect(Math.max(...stepped.map((e) => e.step))).toBe(12);
    expect(cut.filter((e) => e.type === 'step').length).toBe(12);
    expect(cut.filter((e) => e.type === 'telemetry').length).toBe(12);
    // Independently: on this monotonic log, a stepless event is kept iff it precedes the
    // first step-13 event, and a stepped one iff its step is <= 12.
    const first13 = log.findIndex((e) => e.type === 'step' && e.step === 13);
    expect(cut).toEqual(log.filter((e, i) => ('step' in e ? e.step <= 12 : i < first13)));
    for (let i = 1; i < cut.length; i++) expect(log.indexOf(cut[i])).toBeGreaterThan(log.indexOf(cut[i - 1]));
  });

  it('places stepless events at the newest step before them: model at 0, slim/latency/done at the end', () => {
    const log = logWithDamage();
    const atZero = eventsUpTo(log, 0);
    // The 'training' status logged just before step 1 belongs to step 0.
    expect(atZero.map((e) => e.type)).toEqual(['backend', 'status', 'status', 'model', 'status']);
    const beforeEnd = eventsUpTo(log, 39).map((e) => e.type);
    for (const t of ['slim', 'latency', 'done'] as const) expect(beforeEnd).not.toContain(t);
    expect(eventsUpTo(log, 40)).toEqual(log);
    expect(lastTimelineStep(log)).toBe(40);
  });

  it('puts a damage event at its pruning point, though it settles later in the log', () => {
    const log = logWithDamage();
    expect(eventsUpTo(log, 9)).not.toContain(damage);
    expect(eventsUpTo(log, 10)).toContain(damage);
  });
});

describe('derivedAtStep', () => {
  it('is the replay of the log up to the step: charts, damage, decay, summary all truncated', () => {
    const full = replayLog(logWithDamage());
    const at = derivedAtStep(full, 15);
    expect(toArray(at.steps).map((s) => s.step)).toEqual([...Array(15)].map((_, i) => i + 1));
    expect(at.latestStep).toBe(15);
    expect(at.epochs.length).toBe(1);
    expect(at.costs.length).toBe(15);
    expect(at.rectifications.length).toBe(1);
    expect(at.removals.length).toBe(0);
    expect(at.damage.length).toBe(1);
    expect(at.done).toBeNull();
    expect(at.slim).toBeNull();
    expect(at.status).toBe('running');
    expect(at.latestTelemetry?.decay[1]).toBeCloseTo(0.5, 9);
    const early = derivedAtStep(full, 9);
    expect(early.damage.length).toBe(0);
    expect(early.prunes.length).toBe(0);
  });

  it('returns the run itself for null or a step at or past the end', () => {
    const full = replayLog(sampleLog(20, 10));
    expect(derivedAtStep(full, null)).toBe(full);
    expect(derivedAtStep(full, 20)).toBe(full);
    expect(derivedAtStep(full, 500)).toBe(full);
  });
});

describe('playback and the store cursor', () => {
  it('nextPlayStep moves on by the stride, aligned, and stops exactly at the end', () => {
    expect(nextPlayStep(0, 100, 5)).toBe(5);
    expect(nextPlayStep(7, 100, 5)).toBe(10);
    expect(nextPlayStep(98, 100, 5)).toBe(100);
    expect(nextPlayStep(100, 100, 5)).toBe(100);
  });

  it('view step is set, clamped at 0, and cleared when another run becomes active or this one resumes', () => {
    const store = createRunsStore();
    const config = defaultExperiment();
    store.getState().loadRun({ runId: 'a', config, name: 'a', createdAt: 1, events: sampleLog(20, 10) });
    store.getState().addRun({ runId: 'b', config, createdAt: 2 });
    store.getState().setActiveRun('a');
    expect(isReplayable(store.getState().runs.a)).toBe(true);
    expect(isReplayable(store.getState().runs.b)).toBe(false);
    store.getState().setViewStep(7);
    expect(store.getState().viewStep).toBe(7);
    store.getState().setViewStep(-3);
    expect(store.getState().viewStep).toBe(0);
    store.getState().setActiveRun('a');
    expect(store.getState().viewStep).toBe(0);
    store.getState().setActiveRun('b');
    expect(store.getState().viewStep).toBeNull();
    store.getState().setActiveRun('a');
    store.getState().setViewStep(5);
    store.getState().setLive('b', true);
    expect(store.getState().viewStep).toBe(5);
    store.getState().setLive('a', true);
    expect(store.getState().viewStep).toBeNull();
    store.getState().setLive('a', false);
    store.getState().setViewStep(5);
    store.getState().removeRun('a');
    expect(store.getState().viewStep).toBeNull();
  });
});
