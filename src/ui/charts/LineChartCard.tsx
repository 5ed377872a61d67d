import { CartesianGrid, Legend, Line, LineChart, ReferenceArea, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ChartFrame } from './ChartFrame';
import { markerNote, type ChartMarker } from './pruningMarkers';

const pct = (v: number) => `${Math.round(v * 100)}%`;
const axisStyle = { fontSize: 11 };

export interface SeriesSpec {
  /** React key; the name when absent. */
  id?: string;
  name: string;
  dataKey: string;
  color: string;
  /** The series' own rows (overlays of several runs); otherwise the chart's `data`. */
  data?: readonly object[];
  dots?: boolean;
  strokeWidth?: number;
}

export interface LineChartCardProps {
  title: string;
  testId: string;
  empty: boolean;
  data?: readonly object[];
  xKey: string;
  /** Fixed x domain (overlays share one); the data's extent otherwise. */
  xDomain?: [number, number];
  integerX?: boolean;
  /** Values are fractions: a 0-100 % axis and tooltip. */
  fraction?: boolean;
  legend?: boolean;
  series: SeriesSpec[];
  /** Pruning points (and decay windows) drawn behind the lines, on the x axis's scale. */
  markers?: readonly ChartMarker[];
}

interface LineShape {
  x1?: number;
  y1?: number;
  x2?: number;
  y2?: number;
  clipPath?: string;
}

interface RectShape {
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  clipPath?: string;
}

/** A pruning point's line, named for assistive technology and hover (an SVG title). */
const markerLine = (m: ChartMarker) => (p: LineShape) => (
  <g className="chart-marker" role="img" aria-label={m.label} data-step={m.x}>
    <title>{m.label}</title>
    <line x1={p.x1} y1={p.y1} x2={p.x2} y2={p.y2} clipPath={p.clipPath} stroke={m.color} strokeWidth={1.5} strokeDasharray="4 3" />
  </g>
);

/** The reached part of a decay window: the steps over which the point's damage happens. */
const markerBand = (m: ChartMarker) => (p: RectShape) => (
  <g className="chart-marker-band" role="img" aria-label={`decay window of ${m.label}`} data-from={m.band?.[0]} data-to={m.band?.[1]}>
    <title>{`decay window of ${m.label}`}</title>
    <rect x={p.x} y={p.y} width={p.width} height={p.height} clipPath={p.clipPath} fill={m.color} fillOpacity={0.08} />
  </g>
);

/** One titled line chart in the app's style: every training and comparison chart is one. */
export function LineChartCard(p: LineChartCardProps) {
  return (
    <ChartFrame title={p.title} testId={p.testId} empty={p.empty} note={markerNote(p.markers ?? [])}>
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={p.data as object[] | undefined} margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
          <XAxis
            dataKey={p.xKey}
            type="number"
            domain={p.xDomain ?? ['dataMin', 'dataMax']}
            allowDecimals={!p.integerX}
            allowDuplicatedCategory={false}
            tick={axisStyle}
          />
          <YAxis domain={p.fraction ? [0, 1] : undefined} tickFormatter={p.fraction ? pct : undefined} tick={axisStyle} width={44} />
          <Tooltip formatter={p.fraction ? (v) => pct(Number(v)) : undefined} />
          {p.legend && <Legend />}
          {p.markers?.map((m) => m.band && m.band[1] > m.band[0] && <ReferenceArea key={`${m.key}-band`} x1={m.band[0]} x2={m.band[1]} ifOverflow="hidden" shape={markerBand(m)} />)}
          {p.markers?.map((m) => (
            <ReferenceLine key={m.key} x={m.x} ifOverflow="hidden" shape={markerLine(m)} label={m.tag ? { value: m.tag, position: 'insideTopLeft', fontSize: 10, fill: m.color } : undefined} />
          ))}
          {p.series.map((s) => (
            <Line
              key={s.id ?? s.name}
              data={s.data as object[] | undefined}
              name={s.name}
              dataKey={s.dataKey}
              stroke={s.color}
              strokeWidth={s.strokeWidth}
              dot={s.dots ?? false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
