import { describe, expect, it } from 'vitest';
import { configFromFlags, flagsFromConfig, parseFlags, UsageError } from '../cli/args';
import { schedulePath } from '../cli/compare';
import { defaultExperiment } from '../engine/experiment';
import { createSessionStore } from '../store/sessionStore';
import { loadConfigFromUrl, pageQuery, reflectConfigInUrl } from '../ui/app/urlSync';
import { closeLesson, createLessonStore, rerunLesson } from './lessonStore';
import { LESSON_BY_ID, LESSON_IDS, LESSONS, lessonRunConfig, lessonUrl, recordingPath } from './lessons';

describe('lesson presets', () => {
  it('are tiny Fashion-MNIST runs that prune, with one run per listed schedule', () => {
    expect(LESSONS.map((l) => l.id)).toEqual([...LESSON_IDS]);
    for (const l of LESSONS) {
      expect(l.config.train.model).toBe('tiny');
      expect(l.config.data.dataset).toBe('fashion-mnist');
      expect(l.config.data.trainLimit).toBeGreaterThan(0);
      expect(l.config.data.trainLimit).toBeLessThanOrEqual(1000);
      expect(l.config.prune.pruner).not.toBe('none');
      expect(l.config.prune.schedule).toBe(l.schedules[0]);
      expect(new Set(l.schedules).size).toBe(l.schedules.length);
      expect(l.schedules).toContain(l.view);
    }
  });

  it('turn into CLI flags that give the same config back (the recording script records exactly the preset)', () => {
    for (const l of LESSONS) {
      for (const schedule of l.schedules) {
        const config = { ...lessonRunConfig(l, schedule), backend: 'cpu' as const };
        expect(configFromFlags(parseFlags(['compare', ...flagsFromConfig(config)]).values, 'prune')).toEqual(config);
      }
    }
  });

  it('refuse to record a field the CLI has no flag for', () => {
    const c = defaultExperiment();
    c.train.milestones = [0.3];
    expect(() => flagsFromConfig(c)).toThrow(UsageError);
  });

  it('name their recordings per schedule, as cli compare --record writes them', () => {
    expect(recordingPath('abrupt-vs-smooth', 'sp')).toBe('lessons/abrupt-vs-smooth.sp.json');
    expect(schedulePath(`public/${recordingPath('abrupt-vs-smooth', '{schedule}')}`, 'abrupt')).toBe('public/lessons/abrupt-vs-smooth.abrupt.json');
    expect(schedulePath('runs/x.json', 'sr')).toBe('runs/x-sr.json');
  });
});

describe('lesson URLs', () => {
  const lesson = LESSON_BY_ID.get('mid-decay-dip')!;

  it('open the lesson with its preset, and the link keeps the page’s own path (sub-path deploys)', () => {
    const session = createSessionStore();
    expect(loadConfigFromUrl(session, '?lesson=mid-decay-dip')).toBe(lesson);
    expect(session.getState().config).toEqual(lesson.config);
    expect(session.getState().urlIgnored).toEqual([]);
    expect(lessonUrl('mid-decay-dip', { origin: 'https://u.github.io', pathname: '/repo/' })).toBe('https://u.github.io/repo/?lesson=mid-decay-dip');
  });

  it('let other keys override the preset (how e2e shortens a lesson)', () => {
    const session = createSessionStore();
    loadConfigFromUrl(session, '?lesson=mid-decay-dip&v=1&trl=32&ep=1');
    const c = session.getState().config;
    expect(c.data.trainLimit).toBe(32);
    expect(c.train.epochs).toBe(1);
    expect(c.prune.decaySteps).toBe(lesson.config.prune.decaySteps);
    expect(session.getState().urlIgnored).toEqual([]);
    expect(pageQuery(c, lesson)).toBe('?lesson=mid-decay-dip&v=1&trl=32&ep=1');
  });

  it('say which lessons exist when the link names another', () => {
    const session = createSessionStore();
    expect(loadConfigFromUrl(session, '?lesson=nope&v=1')).toBeNull();
    expect(session.getState().config).toEqual(defaultExperiment());
    expect(session.getState().urlIgnored).toEqual([{ field: 'lesson', value: 'nope', reason: expect.stringContaining('abrupt-vs-smooth') }]);
  });

  it('stay in the address bar while the lesson is open, and leave it when it closes', () => {
    const session = createSessionStore();
    const lessons = createLessonStore();
    const loc = { pathname: '/sub/', search: '', hash: '' } as Location;
    const history = { state: null, replaceState: (_s: unknown, _t: string, url: string) => (loc.search = url.slice(url.indexOf('?'))) } as unknown as History;
    loadConfigFromUrl(session, '?lesson=mid-decay-dip');
    lessons.setState({ lesson });
    reflectConfigInUrl(session, history, loc, { get: () => lessons.getState().lesson, subscribe: (f) => lessons.subscribe(f) });
    expect(loc.search).toBe('?lesson=mid-decay-dip&v=1');
    closeLesson(lessons);
    expect(loc.search.startsWith('?v=1&ds=fashion-mnist')).toBe(true);
  });
});

describe('re-running a lesson live', () => {
  it('queues one run per schedule from the form’s config, ids known to the lesson', async () => {
    const lesson = LESSON_BY_ID.get('abrupt-vs-smooth')!;
    const lessons = createLessonStore();
    const started: { plans: { runId: string; config: typeof lesson.config; name?: string }[]; label: string | null }[] = [];
    let n = 0;
    const form = { ...lesson.config, data: { ...lesson.config.data, trainLimit: 32 } };
    await rerunLesson(lesson, form, { lessons, newRunId: () => `r${++n}`, engine: { startRuns: async (plans, label) => void started.push({ plans, label }) } });
    expect(lessons.getState().liveRunIds).toEqual(['r1', 'r2']);
    expect(started[0].label).toBe('abrupt vs SP');
    expect(started[0].plans.map((p) => p.config.prune.schedule)).toEqual(['abrupt', 'sp']);
    expect(started[0].plans.every((p) => p.config.data.trainLimit === 32)).toBe(true);
  });
});
