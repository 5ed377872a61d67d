import { useMemo } from 'react';
import type { RunEntry } from '../../store/runsStore';
import { toArray } from '../../store/series';
import { costRows, sharedStepDomain, stepSeries, type XY } from './chartData';
import { LineChartCard } from './LineChartCard';
import { chartMarkers, pruningMarkers, type ChartMarker } from './pruningMarkers';

const PALETTE = ['#dc2626', '#2563eb', '#059669', '#d97706', '#7c3aed', '#0891b2', '#be185d', '#4b5563'];

interface Overlay {
  runId: string;
  name: string;
  color: string;
  acc: XY[];
  flops: XY[];
  markers: ChartMarker[];
}

/**
 * Test accuracy and kept FLOPs of several runs over steps, on shared axes, each run's pruning
 * points and decay windows in its own colour: abrupt's cliff and SP's ramp line up with them.
 */
export function CompareChart({ runs }: { runs: RunEntry[] }) {
  const overlays: Overlay[] = useMemo(
    () =>
      runs.map((r, i) => {
        const d = r.derived;
        const color = PALETTE[i % PALETTE.length];
        return {
          runId: r.runId,
          name: r.name,
          color,
          acc: stepSeries(toArray(d.epochs), (e) => e.testAcc),
          flops: costRows(d).map((c) => ({ step: c.step, value: c.flops })),
          markers: chartMarkers(pruningMarkers(r), d.latestStep, { color, tags: false, key: r.runId, run: r.name }),
        };
      }),
    [runs],
  );
  const domain = sharedStepDomain(overlays.flatMap((o) => [o.acc, o.flops]));
  const markers = overlays.flatMap((o) => o.markers);
  const noAcc = overlays.every((o) => o.acc.length === 0);
  const noFlops = overlays.every((o) => o.flops.length === 0);

  return (
    <div className="chart-grid chart-grid-2">
      <LineChartCard title="Test accuracy over steps" testId="chart-compare-accuracy" empty={noAcc} xKey="step" xDomain={domain} markers={markers} fraction legend
        series={overlays.map((o) => ({ id: o.runId, name: o.name, dataKey: 'value', color: o.color, data: o.acc, dots: true }))} />
      <LineChartCard title="Kept FLOPs over steps" testId="chart-compare-flops" empty={noFlops} xKey="step" xDomain={domain} markers={markers} fraction legend
        series={overlays.map((o) => ({ id: o.runId, name: o.name, dataKey: 'value', color: o.color, data: o.flops }))} />
    </div>
  );
}
