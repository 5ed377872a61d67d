import { useMemo } from 'react';
import type { RunEntry } from '../../store/runsStore';
import { toArray } from '../../store/series';
import { costRows, downsample, trailingMean } from './chartData';
import { LineChartCard } from './LineChartCard';
import { chartMarkers, pruningMarkers } from './pruningMarkers';

const COLORS = { a: '#2563eb', b: '#dc2626', c: '#059669', d: '#d97706', marker: '#7c3aed' };

/**
 * The live training curves of one run: loss, accuracy, learning rate, cost, throughput, all
 * over steps on one x range so a pruning point's marker lines up from chart to chart. Fed the
 * run as the views see it (replayed to the viewed step), so curves and markers move together.
 */
export function TrainingCharts({ run }: { run: Pick<RunEntry, 'config' | 'derived'> }) {
  const { config } = run;
  const { steps, epochs, costs, prunes, removals, model, latestStep } = run.derived;

  const stepRows = useMemo(() => {
    const all = toArray(steps);
    const smooth = trailingMean(
      all.map((s) => s.loss),
      20,
    );
    return downsample(
      all.map((s, i) => ({ step: s.step, loss: s.loss, smooth: smooth[i], lr: s.lr, ips: s.imagesPerSec })),
    );
  }, [steps]);
  const epochRows = useMemo(() => toArray(epochs).map((e) => ({ step: e.step, train: e.trainAcc, test: e.testAcc })), [epochs]);
  const cost = useMemo(() => costRows({ costs, prunes, removals, latestStep }), [costs, prunes, removals, latestStep]);
  const markers = useMemo(
    () => chartMarkers(pruningMarkers({ config, derived: { prunes, model } }), latestStep, { color: COLORS.marker, tags: true }),
    [config, prunes, model, latestStep],
  );
  const domain: [number, number] = [0, Math.max(1, latestStep)];

  return (
    <div className="chart-grid">
      <LineChartCard title="Loss" testId="chart-loss" empty={stepRows.length === 0} data={stepRows} xKey="step" xDomain={domain} markers={markers} legend series={[
        { name: 'loss', dataKey: 'loss', color: '#93c5fd' },
        { name: 'smoothed', dataKey: 'smooth', color: COLORS.a, strokeWidth: 2 },
      ]} />
      <LineChartCard title="Accuracy at each epoch's end" testId="chart-accuracy" empty={epochRows.length === 0} data={epochRows} xKey="step" xDomain={domain} markers={markers} integerX fraction legend series={[
        { name: 'train', dataKey: 'train', color: COLORS.a, dots: true },
        { name: 'test', dataKey: 'test', color: COLORS.b, dots: true },
      ]} />
      <LineChartCard title="Learning rate" testId="chart-lr" empty={stepRows.length === 0} data={stepRows} xKey="step" xDomain={domain} series={[{ name: 'lr', dataKey: 'lr', color: COLORS.d }]} />
      <LineChartCard title="Kept FLOPs and parameters" testId="chart-cost" empty={cost.length === 0} data={cost} xKey="step" xDomain={domain} markers={markers} fraction legend series={[
        { name: 'FLOPs', dataKey: 'flops', color: COLORS.b },
        { name: 'params', dataKey: 'params', color: COLORS.c },
      ]} />
      <LineChartCard title="Throughput (images/s)" testId="chart-throughput" empty={stepRows.length === 0} data={stepRows} xKey="step" xDomain={domain} series={[{ name: 'images/s', dataKey: 'ips', color: COLORS.c }]} />
    </div>
  );
}
