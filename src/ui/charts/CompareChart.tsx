import { useMemo } from 'react';
import type { RunEntry } from '../../store/runsStore';
import { toArray } from '../../store/series';
import { sharedStepDomain, stepSeries, type XY } from './chartData';
import { LineChartCard } from './LineChartCard';

const PALETTE = ['#dc2626', '#2563eb', '#059669', '#d97706', '#7c3aed', '#0891b2', '#be185d', '#4b5563'];

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
      <LineChartCard title="Test accuracy over steps" testId="chart-compare-accuracy" empty={noAcc} xKey="step" xDomain={domain} fraction legend
        series={overlays.map((o) => ({ id: o.runId, name: o.name, dataKey: 'value', color: o.color, data: o.acc, dots: true }))} />
      <LineChartCard title="Kept FLOPs over steps" testId="chart-compare-flops" empty={noFlops} xKey="step" xDomain={domain} fraction legend
        series={overlays.map((o) => ({ id: o.runId, name: o.name, dataKey: 'value', color: o.color, data: o.flops }))} />
    </div>
  );
}
