import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ChartFrame } from './ChartFrame';

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
}

/** One titled line chart in the app's style: every training and comparison chart is one. */
export function LineChartCard(p: LineChartCardProps) {
  return (
    <ChartFrame title={p.title} testId={p.testId} empty={p.empty}>
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
