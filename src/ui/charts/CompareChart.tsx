import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunEntry } from '../../store/runsStore';
import { toArray } from '../../store/series';
import { ChartFrame } from './ChartFrame';
import { sharedStepDomain, stepSeries, type XY } from './chartData';

const PALETTE = ['#dc2626', '#2563eb', '#059669', '#d97706', '#7c3aed', '#0891b2', '#be185d', '#4b5563'];
const pct = (v: number) => `${Math.round(v * 100)}%`;
const axisStyle = { fontSize: 11 };

interface Overlay {
  runId: string;
  name: string;
  color: string;
  acc: XY[];
  flops: XY[];
}

/** Test accuracy and kept FLOPs of several runs over steps, on shared axes. */
export function CompareChart({ runs }: { runs: RunEntry[] }) {
  const overlays: Overlay[] = useMemo(
    () =>
      runs.map((r, i) => ({
        runId: r.runId,
        name: r.name,
        color: PALETTE[i % PALETTE.length],
        acc: stepSeries(toArray(r.derived.epochs), (e) => e.testAcc),
        flops: stepSeries(toArray(r.derived.costs), (c) => c.flopsFraction),
      })),
    [runs],
  );
  const domain = sharedStepDomain(overlays.flatMap((o) => [o.acc, o.flops]));
  const noAcc = overlays.every((o) => o.acc.length === 0);
  const noFlops = overlays.every((o) => o.flops.length === 0);

  return (
    <div className="chart-grid chart-grid-2">
      <ChartFrame title="Test accuracy over steps" testId="chart-compare-accuracy" empty={noAcc}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
            <XAxis dataKey="step" type="number" domain={domain} tick={axisStyle} allowDuplicatedCategory={false} />
            <YAxis domain={[0, 1]} tickFormatter={pct} tick={axisStyle} width={44} />
            <Tooltip formatter={(v) => pct(Number(v))} />
            <Legend />
            {overlays.map((o) => (
              <Line key={o.runId} data={o.acc} name={o.name} dataKey="value" stroke={o.color} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </ChartFrame>
      <ChartFrame title="Kept FLOPs over steps" testId="chart-compare-flops" empty={noFlops}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
            <XAxis dataKey="step" type="number" domain={domain} tick={axisStyle} allowDuplicatedCategory={false} />
            <YAxis domain={[0, 1]} tickFormatter={pct} tick={axisStyle} width={44} />
            <Tooltip formatter={(v) => pct(Number(v))} />
            <Legend />
            {overlays.map((o) => (
              <Line key={o.runId} data={o.flops} name={o.name} dataKey="value" stroke={o.color} dot={false} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </ChartFrame>
    </div>
  );
}
