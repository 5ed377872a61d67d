import { errorMessage } from '../engine/error-message';
import type { ScheduleName } from '../engine/experiment';
import { parseRunFile, type RunFile } from '../persist/run-file';
import { SCHEDULE_LABELS } from '../store/compare';
import type { RunsStore } from '../store/runsStore';
import { recordingPath, type Lesson } from './lessons';

/**
 * A lesson's recorded runs (public/lessons/, written by `npm run lessons:record`): fetched
 * relative to the page, so a build served from any sub-path finds them, checked as any
 * imported run file is, and replayed into the runs store, where every view draws them.
 */

export interface LessonRecording {
  schedule: ScheduleName;
  file: RunFile;
}

export type FetchText = (url: string) => Promise<string>;

/** Fetches and checks every run of the lesson; the error names the file and what is wrong. */
export async function fetchLessonRecording(lesson: Lesson, pageUrl: string, fetchText: FetchText): Promise<LessonRecording[]> {
  return Promise.all(
    lesson.schedules.map(async (schedule) => {
      const url = new URL(recordingPath(lesson.id, schedule), pageUrl).href;
      let text: string;
      try {
        text = await fetchText(url);
      } catch (e) {
        throw new Error(`could not fetch ${url} (${errorMessage(e)})`, { cause: e });
      }
      const parsed = await parseRunFile(text);
      if (!parsed.ok) throw new Error(`${url}: ${parsed.error}`);
      return { schedule, file: parsed.file };
    }),
  );
}

/** The runs-store id of a lesson's recorded run: fixed, so opening the lesson twice replaces it. */
export function recordedRunId(lesson: Pick<Lesson, 'id'>, schedule: ScheduleName): string {
  return `lesson:${lesson.id}:${schedule}`;
}

/**
 * Puts the recorded runs on the page: the views show the lesson's `view` run, and the
 * comparison charts show the lesson's runs (only them). Returns their run ids.
 */
export function showLessonRecording(lesson: Lesson, recording: LessonRecording[], runs: RunsStore): string[] {
  const ids = recording.map(({ schedule, file }) => {
    const runId = recordedRunId(lesson, schedule);
    runs.getState().loadRun({
      runId,
      config: file.config,
      name: `${lesson.title} · ${SCHEDULE_LABELS[schedule]} (recorded)`,
      createdAt: file.createdAt ?? 0,
      events: file.events,
    });
    return runId;
  });
  runs.getState().setActiveRun(recording.some((r) => r.schedule === lesson.view) ? recordedRunId(lesson, lesson.view) : (ids[0] ?? null));
  runs.getState().setComparison(ids);
  return ids;
}

export async function defaultFetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
}
