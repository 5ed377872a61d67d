import { useMemo } from 'react';
import type { CostFigures } from '../../engine/events';
import { formatCount, formatPercent } from './format';
import { summarizeLayers, type FamilySummary } from './layerSummary';
import type { EventLog } from './types';

export interface LayerSummaryProps {
  /** The run's event log (append-only). */
  events: EventLog;
  /**
   * Measured inference latency, ms per image, when the page knows it. Without them the
   * log's 'latency' event is used; with neither the panel says "not measured".
   */
  denseMsPerImage?: number | null;
  slimMsPerImage?: number | null;
  /** Called when a layer's row is clicked (e.g. to zoom the map into it). */
  onSelectFamily?: (family: string) => void;
}

function Bar({ f }: { f: Pick<FamilySummary, 'channels' | 'kept' | 'decaying' | 'pruned'> }) {
  const pct = (n: number) => `${f.channels > 0 ? (n / f.channels) * 100 : 0}%`;
  return (
    <span className="decay-bar" aria-hidden="true">
      <span className="decay-bar-kept" style={{ width: pct(f.kept) }} />
      <span className="decay-bar-decaying" style={{ width: pct(f.decaying) }} />
      <span className="decay-bar-pruned" style={{ width: pct(f.pruned) }} />
    </span>
  );
}

function slimText(before: number | null, after: number | null): string {
  return before === null || after === null ? '—' : `${before} → ${after}`;
}

function CostRow({ name, dense, slim, unit }: { name: string; dense: number | null; slim: number | null; unit: string }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td>{dense === null ? '—' : `${formatCount(dense)}${unit}`}</td>
      <td>{slim === null ? 'not slimmed yet' : `${formatCount(slim)}${unit}`}</td>
      <td>{dense && slim !== null ? formatPercent(slim / dense) : '—'}</td>
    </tr>
  );
}

/**
 * Per-layer channel counts (kept / decaying / pruned / rectified, and before → after slimming),
 * totals, and the slimmed model's parameters, FLOPs and latency against the dense model.
 */
export function LayerSummary(props: LayerSummaryProps) {
  const { events, onSelectFamily } = props;
  const s = useMemo(() => summarizeLayers(events), [events]);
  if (s.families.length === 0) {
    return <div className="decay-summary decay-empty">Layer summary — waiting for the model.</div>;
  }
  const dense: CostFigures | null = s.slim?.before ?? s.dense;
  const slim = s.slim?.after ?? null;
  const denseMs = props.denseMsPerImage ?? s.latency?.denseMsPerImage ?? null;
  const slimMs = props.slimMsPerImage ?? s.latency?.slimMsPerImage ?? null;
  const measured = denseMs !== null && slimMs !== null && Number.isFinite(denseMs) && Number.isFinite(slimMs);

  return (
    <div className="decay-summary">
      <table className="decay-summary-table">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Channels</th>
            <th scope="col">Kept</th>
            <th scope="col">Decaying</th>
            <th scope="col">Pruned</th>
            <th scope="col" title="Distinct channels released by Self-Rectifying at least once">
              Rectified
            </th>
            <th scope="col" title="Channels in the masked model → in the physically slimmed model">
              Slimmed
            </th>
            <th scope="col" className="decay-summary-barcol">
              <span className="decay-legend-item">
                <span className="decay-swatch decay-bar-kept" /> kept
              </span>{' '}
              <span className="decay-legend-item">
                <span className="decay-swatch decay-bar-decaying" /> decaying
              </span>{' '}
              <span className="decay-legend-item">
                <span className="decay-swatch decay-bar-pruned" /> pruned
              </span>
            </th>
          </tr>
        </thead>
        <tbody>
          {s.families.map((f) => (
            <tr
              key={f.id}
              className={onSelectFamily ? 'decay-clickable' : undefined}
              onClick={onSelectFamily ? () => onSelectFamily(f.id) : undefined}
            >
              <th scope="row">{f.label}</th>
              <td>{f.channels}</td>
              <td>{f.kept}</td>
              <td>{f.decaying || ''}</td>
              <td>{f.pruned || ''}</td>
              <td>{f.rectified ? `${f.rectified}${f.rectifications > f.rectified ? ` (${f.rectifications}×)` : ''}` : ''}</td>
              <td>{slimText(f.slimBefore, f.slimAfter)}</td>
              <td>
                <Bar f={f} />
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td>{s.totals.channels}</td>
            <td>{s.totals.kept}</td>
            <td>{s.totals.decaying}</td>
            <td>{s.totals.pruned}</td>
            <td>{s.totals.rectified}</td>
            <td>{slimText(s.totals.slimBefore, s.totals.slimAfter)}</td>
            <td>
              <Bar f={s.totals} />
            </td>
          </tr>
        </tfoot>
      </table>

      <table className="decay-cost-table">
        <thead>
          <tr>
            <th scope="col" />
            <th scope="col">Dense</th>
            <th scope="col">Slimmed</th>
            <th scope="col">Kept</th>
          </tr>
        </thead>
        <tbody>
          <CostRow name="Parameters" dense={dense?.params ?? null} slim={slim?.params ?? null} unit="" />
          <CostRow name="FLOPs (MACs/image)" dense={dense?.flops ?? null} slim={slim?.flops ?? null} unit="" />
          <tr>
            <th scope="row">Latency</th>
            {measured ? (
              <>
                <td>{denseMs.toFixed(3)} ms/img</td>
                <td>{slimMs.toFixed(3)} ms/img</td>
                <td>{slimMs > 0 ? `${(denseMs / slimMs).toFixed(2)}× faster` : '—'}</td>
              </>
            ) : (
              <td colSpan={3} className="decay-muted">
                not measured
              </td>
            )}
          </tr>
        </tbody>
      </table>
      {!s.slim && s.lastCost && (
        <p className="decay-muted decay-legend-note">
          Live (masked) model at step {s.lastCost.step}: {formatPercent(s.lastCost.paramsFraction)} of parameters,{' '}
          {formatPercent(s.lastCost.flopsFraction)} of FLOPs, counting decaying channels as present.
        </p>
      )}
      {s.slim && (
        <p className="decay-muted decay-legend-note">
          Slimmed model checked against the masked one: largest output difference {s.slim.maxAbsDiff.toExponential(1)}.
        </p>
      )}
    </div>
  );
}
