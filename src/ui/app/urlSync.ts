import { decode, encode } from '../../url/codec';
import { FIELD_BY_KEY } from '../../url/fields';
import { LESSON_BY_ID, LESSON_IDS, LESSON_KEY, type Lesson } from '../../lessons/lessons';
import type { IgnoredNotice, SessionState } from '../../store/sessionStore';
import type { StoreApi } from 'zustand';

/**
 * The page's config lives in the URL: read once on load, written back (replaceState, so the
 * back button is not flooded) whenever the config changes. `lesson=<id>` opens a guided
 * lesson: its preset is the base the other keys override, and the URL keeps naming the lesson
 * while it is open (src/lessons/lessons.ts).
 */

export function describeIgnored(ignored: { key: string; value: string; reason: string }[]): IgnoredNotice[] {
  return ignored.map(({ key, value, reason }) => {
    const spec = FIELD_BY_KEY.get(key);
    const field = spec ? (spec.section === 'root' ? `${key} (${spec.name})` : `${key} (${spec.section}.${spec.name})`) : key;
    return { field, value, reason };
  });
}

/** Applies the URL's config (over the lesson's preset, when it names one); returns that lesson. */
export function loadConfigFromUrl(session: StoreApi<SessionState>, search: string): Lesson | null {
  const params = new URLSearchParams(search);
  const id = params.get(LESSON_KEY);
  params.delete(LESSON_KEY);
  const lesson = id === null ? null : (LESSON_BY_ID.get(id) ?? null);
  const { config, ignored } = decode(params.toString(), lesson?.config);
  const notices = describeIgnored(ignored);
  if (id !== null && !lesson) {
    notices.unshift({ field: LESSON_KEY, value: id.slice(0, 80), reason: `is not a lesson; the lessons are ${LESSON_IDS.join(', ')}` });
  }
  session.getState().setConfig(config);
  session.getState().setUrlIgnored(notices);
  return lesson;
}

/** The page's query: the lesson, if one is open, then the config as it differs from the lesson's preset (or the defaults). */
export function pageQuery(config: SessionState['config'], lesson: Lesson | null): string {
  return lesson ? `?${LESSON_KEY}=${lesson.id}&${encode(config, lesson.config)}` : `?${encode(config)}`;
}

/** The open lesson, as the URL writer follows it. */
export interface LessonSource {
  get(): Lesson | null;
  subscribe(listener: () => void): () => void;
}

const NO_LESSON: LessonSource = { get: () => null, subscribe: () => () => undefined };

/** Keeps location.search equal to the encoded config (and open lesson); returns the unsubscribe function. */
export function reflectConfigInUrl(session: StoreApi<SessionState>, history: History, location: Location, lessons: LessonSource = NO_LESSON): () => void {
  const write = () => {
    const query = pageQuery(session.getState().config, lessons.get());
    if (location.search !== query) history.replaceState(history.state, '', `${location.pathname}${query}${location.hash}`);
  };
  write();
  let lesson = lessons.get();
  const stopSession = session.subscribe((state, prev) => {
    if (state.config !== prev.config) write();
  });
  const stopLessons = lessons.subscribe(() => {
    if (lessons.get() === lesson) return;
    lesson = lessons.get();
    write();
  });
  return () => {
    stopSession();
    stopLessons();
  };
}
