import { selectActiveRun, useRuns } from '../../store/runsStore';
import { sessionStore, useSession } from '../../store/sessionStore';
import { last } from '../../store/series';
import { Notice } from '../common/Notice';
import { percent } from '../common/format';
import { engine } from './engine';

function Progress() {
  const run = useRuns(selectActiveRun);
  const d = run?.derived;
  const progress = d?.progress ?? null;
  // Engine messages usually name their phase already; the bare phase is the fallback.
  const text = d ? d.message || d.phase || 'starting…' : 'idle';
  return (
    <div className="progress" data-testid="progress">
      <div className="progress-line">
        <span className="progress-phase" data-testid="progress-phase">
          {text}
        </span>
        <span className="progress-step">
          step <span data-testid="step-count">{d?.latestStep ?? 0}</span>
          {d?.model ? ` / ${d.model.totalSteps}` : ''}
          {d && d.latestEpoch > 0 ? ` · epoch ${Number.isInteger(d.latestEpoch) ? d.latestEpoch : d.latestEpoch.toFixed(2)}` : ''}
        </span>
      </div>
      <div
        className={`progress-track ${progress === null && d?.status === 'running' ? 'progress-indeterminate' : ''}`}
        role="progressbar"
        aria-label="Run progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={progress === null ? undefined : Math.round(progress * 100)}
        aria-valuetext={progress === null ? text : `${percent(progress, 0)} — ${text}`}
      >
        <div className="progress-fill" style={{ width: `${Math.round((progress ?? 0) * 100)}%` }} />
      </div>
    </div>
  );
}

function RunError() {
  const run = useRuns(selectActiveRun);
  const err = run ? last(run.derived.errors) : undefined;
  if (!err) return null;
  return (
    <Notice tone={err.recoverable ? 'warning' : 'error'} title={err.recoverable ? 'Warning' : 'The run failed'} testId="run-error">
      {err.message}
      {err.hint && <p className="notice-hint">{err.hint}</p>}
    </Notice>
  );
}

export function RunControls() {
  const engineRunId = useSession((s) => s.engineRunId);
  const queue = useSession((s) => s.queue);
  const engineRun = useRuns((s) => (engineRunId ? s.runs[engineRunId] : undefined));
  const busy = engineRunId !== null;
  const paused = engineRun?.derived.status === 'paused';

  return (
    <div className="run-controls">
      <div className="button-row">
        <button type="button" className="button button-primary" data-testid="start-button" disabled={busy} onClick={() => void engine.startRun(sessionStore.getState().config)}>
          Start
        </button>
        <button type="button" className="button" data-testid="pause-button" disabled={!busy || paused} onClick={() => engine.pause()}>
          Pause
        </button>
        <button type="button" className="button" data-testid="resume-button" disabled={!busy || !paused} onClick={() => engine.resume()}>
          Resume
        </button>
        <button type="button" className="button button-danger" data-testid="stop-button" disabled={!busy} onClick={() => engine.stop()}>
          Stop
        </button>
        <button type="button" className="button button-secondary" data-testid="compare-button" disabled={busy} onClick={() => void engine.compareSchedules(sessionStore.getState().config)}>
          Compare abrupt vs SP vs SP+SR
        </button>
      </div>
      <p className="hint">
        {queue
          ? `Comparison ${queue.label}: run ${queue.index + 1} of ${queue.runIds.length} — the runs go one after another on this GPU; Stop cancels the rest.`
          : 'The comparison queues three runs with these settings (abrupt, SP, SP+SR); they run one after another on this GPU.'}
      </p>
      <Progress />
      <RunError />
    </div>
  );
}
