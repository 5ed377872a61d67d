import { useMemo } from 'react';
import type { RunDerived } from '../../store/runReducer';
import { toArray } from '../../store/series';
import { percent } from '../common/format';
import { damageHeadline, damageRows, plannedPointSteps, SCHEDULE_WORDS, type PointSchedule } from './damageRows';

/**
 * "What pruning did": for every pruning point, the training loss just before it, how far the
 * smoothed loss rose, how long it took to come back, and the probe accuracy before and after
 * (definitions: docs/method.md, "Damage and recovery"). Fed by the run's damage events, so a
 * replayed or imported run shows the same figures as the live one.
 */
export function DamagePanel({ derived, prune }: { derived: Pick<RunDerived, 'damage' | 'prunes' | 'model'>; prune?: PointSchedule }) {
  const damage = useMemo(() => toArray(derived.damage), [derived.damage]);
  const totalSteps = derived.model?.totalSteps;
  const planned = useMemo(() => (prune ? plannedPointSteps(totalSteps, prune) : null), [totalSteps, prune]);
  const rows = useMemo(() => damageRows(damage, toArray(derived.prunes), planned), [damage, derived.prunes, planned]);
  return (
    <aside className="chart damage-panel" data-testid="damage-panel" aria-label="What pruning did">
      <figcaption>What pruning did</figcaption>
      {rows.length === 0 ? (
        <p className="chart-empty damage-empty">No pruning point yet. Each one is measured here: the loss before it, the rise it causes, the steps to recover, accuracy before and after.</p>
      ) : (
        <>
          {damage.length > 0 && <p className="damage-headline">{damageHeadline(damage)}</p>}
          <table className="damage-table">
            <thead>
              <tr>
                <th scope="col">step</th>
                <th scope="col" title="Training loss just before the point (mean of the last 10 steps)">loss before</th>
                <th scope="col" title="Highest rise of the smoothed training loss in the point's window">peak rise</th>
                <th scope="col" title="Steps until the smoothed loss is back within tolerance">recovery</th>
                <th scope="col" title="Test accuracy on a fixed probe, before the point and once its channels are gone">accuracy</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) =>
                r.kind === 'measured' ? (
                  <tr key={r.step} title={r.verdict} data-testid="damage-row">
                    <td>
                      {r.step} <span className="damage-schedule">{SCHEDULE_WORDS[r.damage.schedule]}</span>
                    </td>
                    <td>{r.damage.lossBefore.toFixed(3)}</td>
                    <td className={r.damage.peakRise > r.damage.tolerance ? 'damage-hit' : undefined}>{r.damage.peakRise > 0 ? '+' : ''}{r.damage.peakRise.toFixed(3)}</td>
                    <td>{r.damage.peakRise <= r.damage.tolerance ? 'none needed' : r.damage.recoverySteps === null ? 'not yet' : `${r.damage.recoverySteps} steps`}</td>
                    <td>
                      {percent(r.damage.accBefore)} → {percent(r.damage.accAfter)}
                    </td>
                  </tr>
                ) : (
                  <tr key={r.step} className="damage-measuring" data-testid="damage-row">
                    <td>
                      {r.step} <span className="damage-schedule">{SCHEDULE_WORDS[r.schedule]}</span>
                    </td>
                    <td colSpan={4}>{r.channels} channel(s) selected; measuring…</td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
          <ul className="damage-verdicts">
            {rows.map((r) => r.kind === 'measured' && <li key={r.step}>Step {r.step}: {r.verdict}</li>)}
          </ul>
        </>
      )}
    </aside>
  );
}
