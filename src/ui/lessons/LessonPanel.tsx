import { useMemo, useState } from 'react';
import { FASHION_MNIST_FILES } from '../../engine/data/fashion-mnist';
import { capReleases, highlightText, runHighlights, type Highlight } from '../../lessons/highlights';
import { useLesson } from '../../lessons/lessonStore';
import { LESSONS, lessonUrl, type Lesson, type LessonFocus } from '../../lessons/lessons';
import { useRuns, type RunEntry } from '../../store/runsStore';
import { useSession } from '../../store/sessionStore';
import { toArray } from '../../store/series';
import { eventsUpTo } from '../../store/viewStep';
import { SCHEDULE_LABELS } from '../../store/compare';
import { dateTime } from '../common/format';
import { Notice } from '../common/Notice';
import { Section } from '../common/Section';
import { FileDropZone } from '../form/FileDropZone';
import { acceptedDataFile } from '../form/configUpdate';
import { engine } from '../app/engine';
import { pageLessons } from './pageLessons';
import './lessons.css';

/** The view each focus points at, by the selector the page outlines (styles in lessons.css). */
const FOCUS_LABELS: Record<LessonFocus, string> = {
  damage: 'What pruning did',
  loss: 'the Loss chart',
  accuracy: 'Accuracy per epoch',
  compare: 'Compare runs',
  decay: 'the decay map',
  rectifications: 'the rectification timeline',
};

/** Releases listed one by one per run; the rest are summed up (the rectification timeline has them all). */
const MAX_RELEASES = 6;

/** One run's callout: what its events say so far (at the replay step when it is the viewed run). */
function RunCallout({ run, recorded, viewStep, active }: { run: RunEntry; recorded: boolean; viewStep: number | null; active: boolean }) {
  const replayed = active && !run.live && viewStep !== null;
  const events = useMemo(() => (replayed ? eventsUpTo(toArray(run.derived.events), viewStep) : toArray(run.derived.events)), [run.derived.events, replayed, viewStep]);
  const items = useMemo(() => runHighlights(events, run.config.prune), [events, run.config.prune]);
  const { shown, hidden } = useMemo(() => capReleases(items, MAX_RELEASES), [items]);
  const setActive = useRuns((s) => s.setActiveRun);
  const d = run.derived;
  const status = run.live ? `running, step ${d.latestStep}` : replayed ? `replayed to step ${viewStep}` : d.done ? 'finished' : d.status;
  return (
    <li className="lesson-run" data-testid="lesson-run" data-recorded={recorded ? 'yes' : 'no'} data-schedule={run.config.prune.schedule}>
      <div className="lesson-run-head">
        <strong>
          {SCHEDULE_LABELS[run.config.prune.schedule]} · {recorded ? 'recorded' : 'live'}
        </strong>{' '}
        <span className="hint">{status}</span>{' '}
        {!active && (
          <button type="button" className="button button-small" onClick={() => setActive(run.runId)}>
            View
          </button>
        )}
      </div>
      {items.length === 0 ? (
        <p className="hint">No pruning point yet.</p>
      ) : (
        <ul className="lesson-highlights">
          {shown.map((h: Highlight) => (
            <li key={`${h.kind}-${h.step}-${h.kind === 'rectify' ? `${h.family}-${h.channel}` : ''}-${h.kind === 'point' && h.damage ? 'm' : ''}`} className={`lesson-highlight lesson-highlight-${h.kind}`} data-testid="lesson-highlight" data-kind={h.kind}>
              {highlightText(h)}
            </li>
          ))}
          {hidden.length > 0 && (
            <li className="lesson-highlight lesson-highlight-more" data-testid="lesson-highlight-more">
              … and {hidden.length} more releases and replacements (steps {hidden[0].step}–{hidden[hidden.length - 1].step}): the rectification timeline shows every release.
            </li>
          )}
        </ul>
      )}
    </li>
  );
}

function RerunControls({ lesson }: { lesson: Lesson }) {
  const dataset = useSession((s) => s.dataset);
  const config = useSession((s) => s.config);
  const busy = useSession((s) => s.engineRunId !== null);
  const fromUrl = config.data.dataset === 'fashion-mnist' && config.data.url !== '';
  const loaded = dataset.state === 'ready' && dataset.summary.name === 'fashion-mnist';
  const ready = config.data.dataset !== 'fashion-mnist' || fromUrl || loaded;
  const runs = lesson.schedules.map((s) => SCHEDULE_LABELS[s]).join(', then ');
  return (
    <div className="lesson-rerun">
      {!ready && (
        <FileDropZone
          prompt={
            <>
              To re-run this lesson live, drop the four Fashion-MNIST files here (or in Data, on the left): <code>{Object.values(FASHION_MNIST_FILES).join(', ')}</code>, gzipped as
              downloaded from github.com/zalandoresearch/fashion-mnist (or Debian&apos;s dataset-fashion-mnist, /usr/share/datasets/fashion-mnist).
            </>
          }
          chooseLabel="Choose the Fashion-MNIST files…"
          multiple
          accept=".gz,.idx3-ubyte,.idx1-ubyte"
          testId="lesson-data-input"
          ariaLabel="Fashion-MNIST files for the lesson"
          onFiles={(list) => {
            const files = Array.from(list ?? []).filter((f) => acceptedDataFile(f.name));
            if (files.length > 0) void engine.loadFiles(files);
          }}
        />
      )}
      {dataset.state === 'loading' && <p className="hint">Reading {dataset.files.join(', ')}…</p>}
      {dataset.state === 'error' && <Notice tone="error">Could not load the files: {dataset.message}</Notice>}
      <div className="button-row">
        <button type="button" className="button button-primary" data-testid="lesson-rerun" disabled={!ready || busy} onClick={() => void pageLessons.rerun(lesson)}>
          Re-run live ({runs})
        </button>
        {busy && (
          <button type="button" className="button button-danger" onClick={() => engine.stop()}>
            Stop
          </button>
        )}
      </div>
      <p className="hint">
        The live run uses the settings in the Experiment form: the lesson&apos;s preset ({lesson.config.data.trainLimit} training images, {lesson.config.train.epochs} epochs of batch{' '}
        {lesson.config.train.batchSize}, seed {lesson.config.train.seed}) unless you change them. It trains on this computer&apos;s GPU; the command-line runner takes about 70 s per run on one CPU core.
      </p>
    </div>
  );
}

function OpenLesson({ lesson }: { lesson: Lesson }) {
  const recording = useLesson((s) => s.recording);
  const liveRunIds = useLesson((s) => s.liveRunIds);
  const runs = useRuns((s) => s.runs);
  const activeRunId = useRuns((s) => s.activeRunId);
  const viewStep = useRuns((s) => s.viewStep);
  const recordedIds = recording.state === 'ready' ? recording.runIds : [];
  const recorded = recordedIds.filter((id) => runs[id]);
  const queued = useSession((s) => s.queue !== null);
  const [copied, setCopied] = useState(false);
  const link = lessonUrl(lesson.id, window.location);
  return (
    <Section
      title={`Lesson: ${lesson.title}`}
      className="lesson"
      actions={
        <>
          <a className="button button-small" href={link} data-testid="lesson-link" onClick={(e) => {
            e.preventDefault();
            void navigator.clipboard?.writeText(link).then(() => setCopied(true), () => setCopied(false));
          }}>
            {copied ? 'link copied' : 'Copy link'}
          </a>
          <button type="button" className="button button-small" data-testid="lesson-close" onClick={pageLessons.close}>
            Leave lesson
          </button>
        </>
      }
    >
      <div className="lesson-body" data-testid="lesson-panel" data-lesson={lesson.id}>
        <p className="lesson-question">{lesson.question}</p>
        <div className="lesson-text">
          <div>
            <h3>What to watch</h3>
            <ol>
              {lesson.watch.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ol>
          </div>
          <div>
            <h3>What you should see</h3>
            <p>{lesson.see}</p>
            <h3>Why</h3>
            <p>{lesson.why}</p>
          </div>
        </div>
        <p className="hint">Outlined below: {lesson.focus.map((f) => FOCUS_LABELS[f]).join(', ')}.</p>
        <div className="lesson-callout" data-testid="lesson-callout" aria-live="polite">
          <h3>What happened at the pruning points</h3>
          {recording.state === 'loading' && <p className="hint">Loading the recorded run…</p>}
          {recording.state === 'error' && (
            <Notice tone="warning" testId="lesson-recording-error">
              The recorded run could not be loaded: {recording.message}. You can still re-run the lesson live.
            </Notice>
          )}
          {recording.state === 'ready' && (
            <p className="hint" data-testid="lesson-recording">
              Recorded with the command-line runner on Fashion-MNIST{recording.recordedAt ? ` (${dateTime(recording.recordedAt)})` : ''}; the scrubber above the charts replays it step by step.
            </p>
          )}
          <ul className="lesson-runs">
            {recorded.map((id) => (
              <RunCallout key={id} run={runs[id]} recorded active={id === activeRunId} viewStep={viewStep} />
            ))}
            {liveRunIds.map((id, i) =>
              runs[id] ? (
                <RunCallout key={id} run={runs[id]} recorded={false} active={id === activeRunId} viewStep={viewStep} />
              ) : (
                <li key={id} className="lesson-run" data-testid="lesson-run" data-recorded="no" data-schedule={lesson.schedules[i]}>
                  <strong>{SCHEDULE_LABELS[lesson.schedules[i]]} · live</strong> <span className="hint">{queued ? 'queued: starts when the run before it ends' : 'not run (the queue was stopped)'}</span>
                </li>
              ),
            )}
          </ul>
        </div>
        <RerunControls lesson={lesson} />
        <p className="hint lesson-others">
          Other lessons:{' '}
          {LESSONS.filter((l) => l.id !== lesson.id).map((l, i) => (
            <span key={l.id}>
              {i > 0 && ' · '}
              <LessonLink lesson={l} />
            </span>
          ))}
        </p>
      </div>
    </Section>
  );
}

/**
 * A link to a lesson: it works on its own (new tab, shared: relative, so sub-paths keep it) and
 * opens the lesson in place here, keeping the loaded data set and the engine's compiled kernels.
 */
function LessonLink({ lesson }: { lesson: Lesson }) {
  return (
    <a href={`?lesson=${lesson.id}`} data-testid={`lesson-open-${lesson.id}`} onClick={(e) => {
      e.preventDefault();
      void pageLessons.open(lesson, true);
    }}>
      {lesson.title}
    </a>
  );
}

function LessonPicker() {
  return (
    <Section title="Guided lessons" className="lesson-picker">
      <ul className="lesson-list">
        {LESSONS.map((l) => (
          <li key={l.id}>
            <LessonLink lesson={l} /> <span className="hint">{l.question}</span>
          </li>
        ))}
      </ul>
    </Section>
  );
}

/** The open lesson's text, callout and re-run controls; the list of lessons when none is open. */
export function LessonPanel() {
  const lesson = useLesson((s) => s.lesson);
  return lesson ? <OpenLesson lesson={lesson} /> : <LessonPicker />;
}

/** The focus attribute for the page root: CSS outlines the views the open lesson points at. */
export function useLessonFocus(): string | undefined {
  const lesson = useLesson((s) => s.lesson);
  return lesson ? lesson.focus.join(' ') : undefined;
}
