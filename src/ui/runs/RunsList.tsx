import { useId } from 'react';
import { useStore } from 'zustand';
import type { RunRecord } from '../../persist/types';
import { useRuns } from '../../store/runsStore';
import { useSession } from '../../store/sessionStore';
import { engine } from '../app/engine';
import { Notice } from '../common/Notice';
import { Section } from '../common/Section';
import { dateTime, percent } from '../common/format';
import { runArchive } from './archive';
import { canResume } from './runArchive';

function RunRow({ run, live, compared }: { run: RunRecord; live: boolean; compared: boolean }) {
  const busy = useSession((s) => s.engineRunId !== null);
  const status = live ? 'running' : run.status;
  return (
    <tr data-testid="run-row" data-run-id={run.id}>
      <td>
        <input type="checkbox" checked={compared} aria-label={`Compare ${run.name}`} onChange={(e) => void runArchive.setCompared(run.id, e.target.checked)} />
      </td>
      <td className="run-name">{run.name}</td>
      <td>{dateTime(run.createdAt)}</td>
      <td>
        <span className={`status status-${status}`} data-testid="run-status">
          {status}
        </span>
        {run.summary?.message && <span className="hint"> {run.summary.message}</span>}
      </td>
      <td>{percent(run.summary?.testAcc, 2)}</td>
      <td>{percent(run.summary?.flopsFraction)}</td>
      <td className="actions">
        <button type="button" className="button button-small" onClick={() => void runArchive.open(run.id)}>
          Open
        </button>
        {canResume(run) && !live && (
          <button
            type="button"
            className="button button-small"
            disabled={busy}
            title="Continue from its last checkpoint"
            onClick={() => void engine.resumeRun({ runId: run.id, config: run.config, name: run.name, createdAt: run.createdAt })}
          >
            Resume
          </button>
        )}
        <button type="button" className="button button-small" onClick={() => void runArchive.exportRun(run.id)}>
          Export
        </button>
        <button type="button" className="button button-small button-danger" disabled={live} onClick={() => void runArchive.remove(run.id)}>
          Delete
        </button>
      </td>
    </tr>
  );
}

/** Every stored run: open (replay), resume, compare, export, import, delete. */
export function RunsList() {
  const archive = useStore(runArchive.state);
  const engineRunId = useSession((s) => s.engineRunId);
  const comparison = useRuns((s) => s.comparison);
  const importId = useId();

  return (
    <Section
      title="Runs"
      className="runs"
      actions={
        <>
          <label htmlFor={importId} className="button button-secondary button-small">
            Import run…
          </label>
          <input
            id={importId}
            className="visually-hidden"
            type="file"
            accept=".json,.gz,application/json,application/gzip"
            data-testid="run-import-input"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void runArchive.importFile(file);
            }}
          />
        </>
      }
    >
      <div data-testid="runs-list">
        {archive.memoryOnly && (
          <Notice tone="warning" testId="storage-notice">
            runs are kept in memory only: {archive.memoryOnly}
          </Notice>
        )}
        {archive.error && (
          <Notice tone="error" onDismiss={() => runArchive.state.setState({ error: null })}>
            {archive.error}
          </Notice>
        )}
        {archive.message && (
          <Notice tone="success" onDismiss={() => runArchive.state.setState({ message: null })}>
            {archive.message}
          </Notice>
        )}
        {archive.state === 'opening' ? (
          <p className="empty">Reading stored runs…</p>
        ) : archive.runs.length === 0 ? (
          <p className="empty">No runs stored yet.</p>
        ) : (
          <div className="runs-table-wrap">
            <table className="runs-table">
              <thead>
                <tr>
                  <th scope="col">Compare</th>
                  <th scope="col">Name</th>
                  <th scope="col">Date</th>
                  <th scope="col">Status</th>
                  <th scope="col">Test acc.</th>
                  <th scope="col">FLOPs kept</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {archive.runs.map((run) => (
                  <RunRow key={run.id} run={run} live={run.id === engineRunId} compared={comparison.includes(run.id)} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Section>
  );
}
