import type { ReactNode } from 'react';

/** A titled, fixed-height box a chart fills; the test id names the chart for e2e tests. */
export function ChartFrame({ title, testId, empty, note, children }: { title: string; testId: string; empty: boolean; note?: string | null; children: ReactNode }) {
  return (
    <figure className="chart" data-testid={testId} aria-label={title}>
      <figcaption>
        {title}
        {note && <span className="chart-note"> · {note}</span>}
      </figcaption>
      <div className="chart-body">{empty ? <p className="chart-empty">waiting for data…</p> : children}</div>
    </figure>
  );
}
