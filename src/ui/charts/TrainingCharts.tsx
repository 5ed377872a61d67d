import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunDerived } from '../../store/runReducer';
import { toArray } from '../../store/series';
import { ChartFrame } from './ChartFrame';
import { downsample, trailingMean } from './chartData';

const COLORS = { a: '#2563eb', b: '#dc2626', c: '#059669', d: '#d97706' };
const pct = (v: number) => `${Math.round(v * 100)}%`;
const axisStyle = { fontSize: 11 };

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
      <ChartFrame title="Loss" testId="chart-loss" empty={stepRows.length === 0}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={stepRows} margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={axisStyle} />
            <YAxis tick={axisStyle} width={44} />
            <Tooltip />
            <Legend />
            <Line name="loss" dataKey="loss" stroke="#93c5fd" dot={false} isAnimationActive={false} />
            <Line name="smoothed" dataKey="smooth" stroke={COLORS.a} dot={false} strokeWidth={2} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </ChartFrame>

      <ChartFrame title="Accuracy per epoch" testId="chart-accuracy" empty={epochRows.length === 0}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={epochRows} margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
            <XAxis dataKey="epoch" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} tick={axisStyle} />
            <YAxis domain={[0, 1]} tickFormatter={pct} tick={axisStyle} width={44} />
            <Tooltip formatter={(v) => pct(Number(v))} />
            <Legend />
            <Line name="train" dataKey="train" stroke={COLORS.a} isAnimationActive={false} />
            <Line name="test" dataKey="test" stroke={COLORS.b} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </ChartFrame>

      <ChartFrame title="Learning rate" testId="chart-lr" empty={stepRows.length === 0}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={stepRows} margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={axisStyle} />
            <YAxis tick={axisStyle} width={44} />
            <Tooltip />
            <Line name="lr" dataKey="lr" stroke={COLORS.d} dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </ChartFrame>

      <ChartFrame title="Kept FLOPs and parameters" testId="chart-cost" empty={costRows.length === 0}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={costRows} margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={axisStyle} />
            <YAxis domain={[0, 1]} tickFormatter={pct} tick={axisStyle} width={44} />
            <Tooltip formatter={(v) => pct(Number(v))} />
            <Legend />
            <Line name="FLOPs" dataKey="flops" stroke={COLORS.b} dot={false} isAnimationActive={false} />
            <Line name="params" dataKey="params" stroke={COLORS.c} dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </ChartFrame>

      <ChartFrame title="Throughput (images/s)" testId="chart-throughput" empty={stepRows.length === 0}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={stepRows} margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={axisStyle} />
            <YAxis tick={axisStyle} width={44} />
            <Tooltip />
            <Line name="images/s" dataKey="ips" stroke={COLORS.c} dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </ChartFrame>
    </div>
  );
}
