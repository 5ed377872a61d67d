import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent, EventOf } from '../engine/events';
import type { ScheduleName } from '../engine/experiment';
import { parseRunFile, statusFromEvents, type RunFile } from '../persist/run-file';
import { createRunsStore } from '../store/runsStore';
import { runHighlights } from './highlights';
import { createLessonStore, openLesson } from './lessonStore';
import { LESSON_BY_ID, LESSONS, lessonRunConfig, recordingPath, type LessonId } from './lessons';
import { recordedRunId } from './recording';

/**
 * The shipped recordings (public/lessons/, `npm run lessons:record`) against the presets they
 * must have been made from and against what each lesson's text says they show.
 */

const PUBLIC = join(__dirname, '../../public');
const files = new Map<string, RunFile>();
const file = (id: LessonId, schedule: ScheduleName) => files.get(recordingPath(id, schedule))!;
const ofType = <T extends EngineEvent['type']>(f: RunFile, type: T) => f.events.filter((e): e is EventOf<T> => e.type === type);
const maxRise = (f: RunFile) => Math.max(...ofType(f, 'damage').map((d) => d.peakRise));

beforeAll(async () => {
  for (const lesson of LESSONS) {
    for (const schedule of lesson.schedules) {
      const path = recordingPath(lesson.id, schedule);
      const parsed = await parseRunFile(readFileSync(join(PUBLIC, path), 'utf8'));
      if (!parsed.ok) throw new Error(`${path}: ${parsed.error}`);
      files.set(path, parsed.file);
    }
  }
});

describe('lesson recordings', () => {
  it('were made from the lesson presets as they are now (re-record after changing one)', () => {
    for (const lesson of LESSONS) {
      for (const schedule of lesson.schedules) {
        expect(file(lesson.id, schedule).config, `${lesson.id} ${schedule}`).toEqual({ ...lessonRunConfig(lesson, schedule), backend: 'cpu' });
      }
    }
  });

  it('are finished runs on Fashion-MNIST with their pruning point measured', () => {
    for (const f of files.values()) {
      expect(statusFromEvents(f.events)).toBe('done');
      expect(f.config.data.dataset).toBe('fashion-mnist');
      expect(ofType(f, 'damage')).toHaveLength(1);
      expect(ofType(f, 'telemetry').length).toBeGreaterThan(10);
      expect(JSON.stringify(f).length).toBeLessThan(400_000);
    }
  });

  it('abrupt vs smooth: abrupt’s loss rises more than SP’s at the same point; its FLOPs go at once, SP’s when the decay ends', () => {
    const abrupt = file('abrupt-vs-smooth', 'abrupt');
    const sp = file('abrupt-vs-smooth', 'sp');
    const point = ofType(abrupt, 'damage')[0].step;
    expect(ofType(sp, 'damage')[0].step).toBe(point);
    expect(maxRise(abrupt)).toBeGreaterThan(maxRise(sp));
    // The rise counts as damage (above its tolerance) for abrupt, and takes longer to recover from.
    const [a, s] = [ofType(abrupt, 'damage')[0], ofType(sp, 'damage')[0]];
    expect(a.peakRise).toBeGreaterThan(a.tolerance);
    expect(a.recoverySteps!).toBeGreaterThan(s.recoverySteps!);
    const drop = (f: RunFile) => ofType(f, 'cost').find((c) => c.flopsFraction < 1)!;
    expect(drop(abrupt).step).toBe(point);
    expect(drop(sp).step).toBe(point + sp.config.prune.decaySteps);
    expect(drop(sp).flopsFraction).toBeCloseTo(drop(abrupt).flopsFraction, 6);
  });

  it('self-rectifying: SP+SR releases a chosen channel in the first half of its decay, SP none; a replacement decays instead and both runs meet the target', () => {
    const sp = file('self-rectifying', 'sp');
    const sr = file('self-rectifying', 'sr');
    const releases = ofType(sr, 'rectify');
    expect(releases.length).toBeGreaterThanOrEqual(1);
    expect(ofType(sp, 'rectify')).toHaveLength(0);
    const { decaySteps, target } = sr.config.prune;
    // Released while it still had at least half its norm, by both criteria over the default thresholds.
    for (const r of releases) {
      expect(r.decay).toBeGreaterThanOrEqual(0.5);
      expect(r.cRate).toBeGreaterThan(sr.config.prune.tRate);
      expect(r.cLen).toBeGreaterThan(sr.config.prune.tLen);
    }
    const items = runHighlights(sr.events, sr.config.prune);
    expect(items.filter((h) => h.kind === 'point')).toHaveLength(1);
    expect(items.some((h) => h.kind === 'replacement')).toBe(true);
    // Every replacement finished its decay before the run ended: both runs meet the target.
    const steps = ofType(sr, 'done')[0].steps;
    for (const p of ofType(sr, 'prune')) expect(p.step + decaySteps).toBeLessThan(steps);
    const done = (f: RunFile) => ofType(f, 'done')[0];
    expect(done(sr).flopsFraction).toBeLessThanOrEqual(target);
    expect(done(sp).flopsFraction).toBeLessThanOrEqual(target);
    // "within about a point of each other in test accuracy"
    expect(Math.abs(done(sr).testAcc - done(sp).testAcc)).toBeLessThan(0.02);
  });

  it('mid-decay dip: the evaluation inside the decay falls below the one before the point while training accuracy does not, and recovers after', () => {
    const f = file('mid-decay-dip', 'sp');
    const items = runHighlights(f.events, f.config.prune);
    const dips = items.filter((h) => h.kind === 'dip');
    expect(dips.length).toBeGreaterThanOrEqual(1);
    const dip = dips.reduce((a, b) => (b.testAcc < a.testAcc ? b : a));
    expect(dip.before).not.toBeNull();
    expect(dip.testAcc).toBeLessThan(dip.before!.testAcc);
    expect(dip.trainAcc).toBeGreaterThanOrEqual(dip.before!.trainAcc);
    const point = items.find((h) => h.kind === 'point')!;
    const after = ofType(f, 'epoch').find((e) => e.step >= point.step + f.config.prune.decaySteps)!;
    expect(after.testAcc).toBeGreaterThan(dip.testAcc);
  });
});

describe('opening a lesson', () => {
  it('fetches its recording relative to the page (any sub-path) and shows it in the runs store', async () => {
    const lesson = LESSON_BY_ID.get('abrupt-vs-smooth')!;
    const lessons = createLessonStore();
    const runs = createRunsStore();
    const asked: string[] = [];
    const fetchText = async (url: string) => {
      asked.push(url);
      return readFileSync(join(PUBLIC, url.replace('https://host.example/course/pruning/', '')), 'utf8');
    };
    await openLesson(lesson, { lessons, runs, fetchText, pageUrl: 'https://host.example/course/pruning/?lesson=abrupt-vs-smooth' });
    expect(asked).toEqual(['https://host.example/course/pruning/lessons/abrupt-vs-smooth.abrupt.json', 'https://host.example/course/pruning/lessons/abrupt-vs-smooth.sp.json']);
    const ids = lesson.schedules.map((s) => recordedRunId(lesson, s));
    expect(lessons.getState().recording).toEqual({ state: 'ready', runIds: ids, recordedAt: expect.any(Number) });
    expect(runs.getState().activeRunId).toBe(ids[0]);
    expect(runs.getState().comparison).toEqual(ids);
    expect(runs.getState().runs[ids[0]].derived.done).not.toBeNull();
    expect(runs.getState().runs[ids[1]].derived.damage.length).toBe(1);
  });

  it('opens the Self-Rectifying lesson on its SR run, so the rectification views have something to show', async () => {
    const lesson = LESSON_BY_ID.get('self-rectifying')!;
    const runs = createRunsStore();
    await openLesson(lesson, { lessons: createLessonStore(), runs, fetchText: async (url) => readFileSync(join(PUBLIC, new URL(url).pathname.slice(1)), 'utf8'), pageUrl: 'https://h.example/' });
    expect(runs.getState().activeRunId).toBe(recordedRunId(lesson, 'sr'));
    expect(runs.getState().runs[recordedRunId(lesson, 'sr')].derived.rectifications.length).toBeGreaterThan(0);
  });

  it('says which file failed when a recording is missing or broken', async () => {
    const lessons = createLessonStore();
    await openLesson(LESSON_BY_ID.get('mid-decay-dip')!, { lessons, runs: createRunsStore(), fetchText: () => Promise.reject(new Error('HTTP 404')), pageUrl: 'https://h.example/a/' });
    expect(lessons.getState().recording).toEqual({ state: 'error', message: 'could not fetch https://h.example/a/lessons/mid-decay-dip.sp.json (HTTP 404)' });
    await openLesson(LESSON_BY_ID.get('mid-decay-dip')!, { lessons, runs: createRunsStore(), fetchText: async () => '{"format":"other"}', pageUrl: 'https://h.example/a/' });
    expect(lessons.getState().recording).toMatchObject({ state: 'error', message: expect.stringContaining('not a DPM Playground run') });
  });
});
