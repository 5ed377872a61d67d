import { closeLesson, lessonStore, openLesson, rerunLesson } from '../../lessons/lessonStore';
import type { Lesson } from '../../lessons/lessons';
import { defaultFetchText } from '../../lessons/recording';
import { runsStore } from '../../store/runsStore';
import { sessionStore } from '../../store/sessionStore';
import { engine } from '../app/engine';

/** The page's lesson actions, wired to its stores, engine and address. */
export const pageLessons = {
  /** From a link on the page: the preset replaces the form's settings. From the URL, they are already applied. */
  open(lesson: Lesson, applyPreset: boolean) {
    if (applyPreset) sessionStore.getState().setConfig(lesson.config);
    return openLesson(lesson, { lessons: lessonStore, runs: runsStore, fetchText: defaultFetchText, pageUrl: document.baseURI });
  },
  close: () => closeLesson(lessonStore),
  rerun(lesson: Lesson) {
    return rerunLesson(lesson, sessionStore.getState().config, { lessons: lessonStore, engine, newRunId: () => crypto.randomUUID() });
  },
};

/** What the URL writer follows (src/ui/app/urlSync.ts). */
export const lessonSource = {
  get: () => lessonStore.getState().lesson,
  subscribe: (listener: () => void) => lessonStore.subscribe(listener),
};
