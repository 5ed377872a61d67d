import { useState } from 'react';
import { EXPORT_FORMATS, EXPORT_VARIANTS, type ExportFormat, type ExportVariant } from '../../engine/export/export-names';
import { errorMessage } from '../../engine/error-message';
import { useRuns } from '../../store/runsStore';
import { useSession } from '../../store/sessionStore';
import { Notice } from '../common/Notice';
import { engine } from './engine';

const FORMAT_LABELS: Record<ExportFormat, string> = { onnx: 'ONNX', safetensors: 'safetensors + JSON', tfjs: 'TensorFlow.js' };
const VARIANT_LABELS: Record<ExportVariant, string> = { dense: 'Dense (full width, pruned channels zero)', slim: 'Slimmed (pruned channels removed)' };

type Status = { tone: 'success' | 'error'; text: string } | null;

/**
 * Download buttons for the run being looked at, once it has finished: its dense and slimmed
 * networks in each format. The worker builds the files (from the run it just finished, or
 * from the run store after a reload); a run with nothing to export gets the engine's reason.
 */
export function ExportPanel() {
  const run = useRuns((s) => (s.activeRunId ? s.runs[s.activeRunId] : null));
  const busyEngine = useSession((s) => s.engineRunId !== null);
  const [pending, setPending] = useState<string | null>(null);
  const [status, setStatus] = useState<{ runId: string; status: Status }>({ runId: '', status: null });
  if (!run) return null;
  const shown = status.runId === run.runId ? status.status : null;

  if (!run.derived.done) {
    return (
      <p className="hint" data-testid="export-unavailable">
        {run.live ? 'Export buttons appear when the run has finished.' : 'This run did not finish, so it has no final model to export (resume it to the end first).'}
      </p>
    );
  }

  const exportOne = async (variant: ExportVariant, format: ExportFormat) => {
    const key = `${variant}-${format}`;
    setPending(key);
    try {
      const names = await engine.exportModel({ runId: run.runId, variant, format });
      setStatus({ runId: run.runId, status: { tone: 'success', text: `Downloaded ${names.join(' and ')}` } });
    } catch (e) {
      setStatus({ runId: run.runId, status: { tone: 'error', text: `Could not export: ${errorMessage(e)}` } });
    } finally {
      setPending(null);
    }
  };

  return (
    <div className="export-panel" data-testid="export-panel">
      <table className="runs-table">
        <tbody>
          {EXPORT_VARIANTS.map((variant) => (
            <tr key={variant}>
              <th scope="row">{VARIANT_LABELS[variant]}</th>
              {EXPORT_FORMATS.map((format) => (
                <td key={format}>
                  <button
                    type="button"
                    className="button button-small button-secondary"
                    data-testid={`export-${variant}-${format}`}
                    disabled={pending !== null || busyEngine}
                    title={busyEngine ? 'The engine is training: export once the run has ended' : undefined}
                    onClick={() => void exportOne(variant, format)}
                  >
                    {pending === `${variant}-${format}` ? 'Exporting…' : `Export ${FORMAT_LABELS[format]}`}
                  </button>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {shown && (
        <Notice tone={shown.tone} testId="export-status" onDismiss={() => setStatus({ runId: run.runId, status: null })}>
          {shown.text}
        </Notice>
      )}
    </div>
  );
}
