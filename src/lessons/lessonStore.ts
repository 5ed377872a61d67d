import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { errorMessage } from '../engine/error-message';
import type { ExperimentConfig } from '../engine/experiment';
import { SCHEDULE_LABELS } from '../store/compare';
import type { RunsStore } from '../store/runsStore';
import type { PlannedRun } from '../ui/app/engineController';
import { lessonRunConfig, type Lesson } from './lessons';
import { fetchLessonRecording, showLessonRecording, type FetchText } from './recording';

/**
 * The open lesson: which one, its recorded runs (fetched when it opens) and the live runs the
 * user started from it. The actions are plain functions over the stores they are given, so
 * tests drive them with memory stores and a fake fetch.
 */

export type RecordingState =
  | { state: 'loading' }
  | { state: 'ready'; runIds: string[]; recordedAt: number | null }
  | { state: 'error'; message: string };

export interface LessonState {
  lesson: Lesson | null;
  recording: RecordingState;
  /** The runs "Re-run live" started, in order (empty until then). */
  liveRunIds: string[];
}

export function createLessonStore() {
  return createStore<LessonState>()(() => ({ lesson: null, recording: { state: 'loading' }, liveRunIds: [] }));
}

export type LessonStore = ReturnType<typeof createLessonStore>;

export interface LessonDeps {
  lessons: LessonStore;
  runs: RunsStore;
  fetchText: FetchText;
  /** The page's address, which the recordings resolve against (document.baseURI). */
  pageUrl: string;
}

/** Opens a lesson and shows its recording as soon as it arrives (a later open wins over an earlier one). */
export async function openLesson(lesson: Lesson, deps: LessonDeps): Promise<void> {
  deps.lessons.setState({ lesson, recording: { state: 'loading' }, liveRunIds: [] });
  try {
    const recording = await fetchLessonRecording(lesson, deps.pageUrl, deps.fetchText);
    if (deps.lessons.getState().lesson !== lesson) return;
    const runIds = showLessonRecording(lesson, recording, deps.runs);
    const dates = recording.map((r) => r.file.createdAt).filter((d): d is number => d !== undefined);
    deps.lessons.setState({ recording: { state: 'ready', runIds, recordedAt: dates.length ? Math.max(...dates) : null } });
  } catch (e) {
    if (deps.lessons.getState().lesson !== lesson) return;
    deps.lessons.setState({ recording: { state: 'error', message: errorMessage(e) } });
  }
}

export function closeLesson(lessons: LessonStore): void {
  lessons.setState({ lesson: null, recording: { state: 'loading' }, liveRunIds: [] });
}

/**
 * The live re-run: one run per lesson schedule from `config` (the lesson's preset as the form
 * holds it, URL overrides included), one after another on the page's engine.
 */
export function rerunLesson(
  lesson: Lesson,
  config: ExperimentConfig,
  deps: { lessons: LessonStore; engine: { startRuns(plans: PlannedRun[], label: string | null): Promise<void> }; newRunId(): string },
): Promise<void> {
  const plans = lesson.schedules.map((schedule) => ({
    runId: deps.newRunId(),
    config: lessonRunConfig(lesson, schedule, config),
    name: `${lesson.title} · ${SCHEDULE_LABELS[schedule]} (live)`,
  }));
  deps.lessons.setState({ liveRunIds: plans.map((p) => p.runId) });
  const label = plans.length > 1 ? lesson.schedules.map((s) => SCHEDULE_LABELS[s]).join(' vs ') : null;
  return deps.engine.startRuns(plans, label);
}

/** The page's one lesson store. */
export const lessonStore = createLessonStore();

export function useLesson<T>(selector: (state: LessonState) => T): T {
  return useStore(lessonStore, selector);
}
