import { useMemo } from 'react';
import type { RunDerived } from '../../store/runReducer';
import { toArray } from '../../store/series';
import { downsample, trailingMean } from './chartData';
import { LineChartCard } from './LineChartCard';

const COLORS = { a: '#2563eb', b: '#dc2626', c: '#059669', d: '#d97706' };

/** The live training curves of one run: loss, accuracy, learning rate, cost, throughput. */
export function TrainingCharts({ derived }: { derived: RunDerived }) {
  const { steps, epochs, costs } = derived;

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
  const epochRows = useMemo(() => toArray(epochs).map((e) => ({ epoch: e.epoch, train: e.trainAcc, test: e.testAcc })), [epochs]);
  const costRows = useMemo(
    () => downsample(toArray(costs)).map((c) => ({ step: c.step, flops: c.flopsFraction, params: c.paramsFraction })),
    [costs],
  );

  return (
    <div className="chart-grid">
      <LineChartCard title="Loss" testId="chart-loss" empty={stepRows.length === 0} data={stepRows} xKey="step" legend series={[
        { name: 'loss', dataKey: 'loss', color: '#93c5fd' },
        { name: 'smoothed', dataKey: 'smooth', color: COLORS.a, strokeWidth: 2 },
      ]} />
      <LineChartCard title="Accuracy per epoch" testId="chart-accuracy" empty={epochRows.length === 0} data={epochRows} xKey="epoch" integerX fraction legend series={[
        { name: 'train', dataKey: 'train', color: COLORS.a, dots: true },
        { name: 'test', dataKey: 'test', color: COLORS.b, dots: true },
      ]} />
      <LineChartCard title="Learning rate" testId="chart-lr" empty={stepRows.length === 0} data={stepRows} xKey="step" series={[{ name: 'lr', dataKey: 'lr', color: COLORS.d }]} />
      <LineChartCard title="Kept FLOPs and parameters" testId="chart-cost" empty={costRows.length === 0} data={costRows} xKey="step" fraction legend series={[
        { name: 'FLOPs', dataKey: 'flops', color: COLORS.b },
        { name: 'params', dataKey: 'params', color: COLORS.c },
      ]} />
      <LineChartCard title="Throughput (images/s)" testId="chart-throughput" empty={stepRows.length === 0} data={stepRows} xKey="step" series={[{ name: 'images/s', dataKey: 'ips', color: COLORS.c }]} />
    </div>
  );
}
