import { useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceDot, Tooltip, XAxis, YAxis } from 'recharts';
import { formatStep, formatValue } from './format';
import { useTelemetry } from './hooks';
import { extractTrajectories, familyChannels, rectifyEvents, type TrajectoryLine } from './trajectories';
import type { ChannelRef, EventLog } from './types';

export interface TrajectoriesProps {
  /** The run's event log (append-only). */
  events: EventLog;
  /** Channels to plot. */
  selected: readonly ChannelRef[];
  /** Also plot every channel of this family (id); null/undefined = only `selected`. */
  family?: string | null;
  /** Most lines drawn (default 24); rectified channels are kept first when capping. */
  maxLines?: number;
  /** Points per line after downsampling (default 500). */
  maxPoints?: number;
  /** Size of each of the two charts in pixels (defaults 640 x 220). */
  width?: number;
  height?: number;
}

/** Cool, muted colours for ordinary channels; warm ones are reserved for rectified channels. */
const PLAIN_COLORS = ['#4c78a8', '#72b7b2', '#54a24b', '#7f7f9f', '#2f7ebc', '#88a5c8', '#3c9a8f', '#6b8e23'];
const RECTIFIED_COLORS = ['#e4572e', '#d6336c', '#f08c00', '#c2255c', '#e8590c'];

function colorOf(line: TrajectoryLine, i: number, rectifiedIndex: number): string {
  return line.rectified
    ? RECTIFIED_COLORS[rectifiedIndex % RECTIFIED_COLORS.length]
    : PLAIN_COLORS[i % PLAIN_COLORS.length];
}

/**
 * Decay factor and weight norm over training steps for the selected channels, one chart each
 * with a shared step axis. Rectified channels are drawn thick in warm colours with a marker
 * where they were released (the point the decay curve turns back up).
 */
export function Trajectories(props: TrajectoriesProps) {
  const { events, selected, family = null, maxLines = 24, maxPoints = 500, width = 640, height = 220 } = props;
  const { store, version } = useTelemetry(events);
  const rectifies = useMemo(() => rectifyEvents(events), [events]);

  const set = useMemo(() => {
    if (!store) return null;
    const refs = family ? [...selected, ...familyChannels(store, family)] : [...selected];
    return extractTrajectories(store, refs, rectifies, { maxLines, maxPoints });
    // version: the store mutates in place; a new version means new points.
  }, [store, version, selected, family, rectifies, maxLines, maxPoints]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!store || !set) {
    return <div className="decay-traj decay-empty">Trajectories — waiting for telemetry.</div>;
  }
  if (set.lines.length === 0) {
    return (
      <div className="decay-traj decay-empty">
        Trajectories — click a row of the decay map, pick a rectification, or choose a family to plot its channels.
      </div>
    );
  }

  const styled = styleLines(set.lines);
  const xDomain: [number, number] = [
    Math.min(...set.lines.map((l) => l.decay[0]?.step ?? Infinity)),
    Math.max(...set.lines.map((l) => l.decay.at(-1)?.step ?? -Infinity)),
  ];
  const rectifiedCount = set.lines.filter((l) => l.rectified).length;

  const chart = (metric: 'decay' | 'norm', title: string) => (
    <figure className="decay-chart">
      <figcaption>{title}</figcaption>
      <LineChart width={width} height={height} margin={{ top: 8, right: 16, bottom: 4, left: 4 }} syncId="decay-traj">
        <CartesianGrid stroke="#e6e8eb" />
        <XAxis
          type="number"
          dataKey="step"
          domain={xDomain}
          allowDuplicatedCategory={false}
          tickFormatter={formatStep}
          fontSize={11}
        />
        <YAxis
          type="number"
          domain={metric === 'decay' ? [0, 1] : [0, 'auto']}
          tickFormatter={formatValue}
          fontSize={11}
          width={44}
        />
        <Tooltip
          formatter={(v) => formatValue(Number(v))}
          labelFormatter={(l) => `step ${formatStep(Number(l))}`}
          isAnimationActive={false}
          contentStyle={{ fontSize: 12 }}
        />
        {styled.map(({ line, color }) => (
          <Line
            key={line.key}
            data={metric === 'decay' ? line.decay : line.norm}
            dataKey="value"
            name={`${line.familyLabel} #${line.channel}`}
            stroke={color}
            strokeWidth={line.rectified ? 2.5 : 1.2}
            strokeOpacity={line.rectified ? 1 : 0.8}
            strokeDasharray={line.rectified ? undefined : '5 3'}
            dot={false}
            isAnimationActive={false}
          />
        ))}
        {styled.flatMap(({ line, color }) =>
          line.rectifications
            .filter((m) => Number.isFinite(metric === 'decay' ? m.decay : m.norm))
            .map((m) => (
              <ReferenceDot
                key={`${line.key}@${m.step}`}
                x={m.step}
                y={metric === 'decay' ? m.decay : m.norm}
                r={5}
                fill={color}
                stroke="#ffffff"
                strokeWidth={1.5}
                ifOverflow="extendDomain"
              />
            )),
        )}
      </LineChart>
    </figure>
  );

  return (
    <div className="decay-traj" style={{ width }}>
      {set.truncated && (
        <p className="decay-note">
          Showing {set.lines.length} of {set.requested} channels (rectified ones first); narrow the selection to see the
          rest.
        </p>
      )}
      {chart('decay', 'Decay factor')}
      {chart('norm', 'Weight norm')}
      <ul className="decay-traj-legend">
        {styled.map(({ line, color }) => (
          <li key={line.key} className={line.rectified ? 'decay-traj-rect' : undefined}>
            <span className="decay-swatch" style={{ background: color }} />
            {line.familyLabel} #{line.channel}
            {line.rectified && ` — released at step ${line.rectifications.map((m) => formatStep(m.step)).join(', ')}`}
          </li>
        ))}
      </ul>
      <p className="decay-muted decay-legend-note">
        {rectifiedCount > 0 ? 'Thick warm lines: rectified channels, dot at each release. ' : ''}
        Dashed: channels never released. Curves are reduced to {maxPoints} points (decay by minimum, norm by mean).
      </p>
    </div>
  );
}

function styleLines(lines: readonly TrajectoryLine[]): { line: TrajectoryLine; color: string }[] {
  let r = 0;
  let p = 0;
  return lines.map((line) => ({ line, color: colorOf(line, line.rectified ? 0 : p++, line.rectified ? r++ : 0) }));
}
