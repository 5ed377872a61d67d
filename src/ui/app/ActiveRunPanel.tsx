import { useRuns } from '../../store/runsStore';
import { useViewedRun } from '../../store/viewStep';
import { TrainingCharts } from '../charts/TrainingCharts';
import { compactNumber, duration, percent } from '../common/format';
import { Section } from '../common/Section';
import { DamagePanel } from '../damage/DamagePanel';
import { ReplayScrubber } from '../replay/ReplayScrubber';
import { DecayArea } from './DecayArea';
import { ExportPanel } from './ExportPanel';

function RunSummary() {
  const run = useViewedRun();
  if (!run) return null;
  const { done, slim, latency, model, rectifications } = run.derived;
  const cost = run.derived.costs.length > 0 ? run.derived.costs.buf[run.derived.costs.length - 1] : null;
  return (
    <dl className="summary" data-testid="run-summary">
      <div>
        <dt>Model</dt>
        <dd>{model ? `${model.model} · ${compactNumber(model.dense.params)} params · ${compactNumber(model.dense.flops)} MACs` : run.config.train.model}</dd>
      </div>
      <div>
        <dt>Kept FLOPs / params</dt>
        <dd>{cost ? `${percent(cost.flopsFraction)} / ${percent(cost.paramsFraction)}` : '—'}</dd>
      </div>
      <div>
        <dt>Rectifications</dt>
        <dd>{rectifications.length}</dd>
      </div>
      {done && (
        <div>
          <dt>Final test accuracy</dt>
          <dd data-testid="final-accuracy">
            {percent(done.testAcc, 2)} in {duration(done.seconds)}
          </dd>
        </div>
      )}
      {slim && (
        <div>
          <dt>Slimmed model</dt>
          <dd>
            {compactNumber(slim.before.params)} → {compactNumber(slim.after.params)} params (max output difference {slim.maxAbsDiff.toExponential(1)})
          </dd>
        </div>
      )}
      {latency && (
        <div>
          <dt>Inference per image</dt>
          <dd>
            {latency.denseMsPerImage.toFixed(2)} ms dense → {latency.slimMsPerImage.toFixed(2)} ms slimmed
          </dd>
        </div>
      )}
    </dl>
  );
}

/** The run being looked at: summary, training curves and the pruning views. */
export function ActiveRunPanel() {
  const run = useViewedRun();
  const order = useRuns((s) => s.order);
  const runs = useRuns((s) => s.runs);
  const setActive = useRuns((s) => s.setActiveRun);
  return (
    <Section
      title={run ? `Run: ${run.name}` : 'Run: none yet'}
      actions={
        order.length > 1 && (
          <label className="inline-field">
            View run{' '}
            <select value={run?.runId ?? ''} onChange={(e) => setActive(e.target.value || null)}>
              {order.map((id) => (
                <option key={id} value={id}>
                  {runs[id].name}
                </option>
              ))}
            </select>
          </label>
        )
      }
    >
      {run ? (
        <>
          <ReplayScrubber />
          <RunSummary />
          <ExportPanel />
          <div className="charts-with-aside">
            <TrainingCharts run={run} />
            <DamagePanel derived={run.derived} prune={run.config.prune} />
          </div>
          <DecayArea run={run} />
        </>
      ) : (
        <p className="empty">Start a run, or open one from the runs list; its charts appear here.</p>
      )}
    </Section>
  );
}
