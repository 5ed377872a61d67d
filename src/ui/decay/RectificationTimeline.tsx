import { useEffect, useMemo, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';
import { hidpiContext } from '../common/hidpi';
import { formatStep, formatValue, niceTicks } from './format';
import { binActivity, collectTimeline, describeClosest, sortRows, visibleWindow, type RectificationRow, type SortKey } from './rectifications';
import type { EventLog, RectificationRef } from './types';

export interface RectificationTimelineProps {
  /** The run's event log (append-only); reads 'model', 'rectify', 'criteria', 'prune' and 'removed'. */
  events: EventLog;
  /** The rectification currently picked (highlighted in the strip and the table). */
  selected?: RectificationRef | null;
  /** Called when a marker or a table row is clicked. */
  onSelect?: (ref: RectificationRef) => void;
  /** Strip width in pixels (default 880). */
  width?: number;
  /** Visible height of the table body in pixels (default 288); rows beyond it scroll. */
  tableHeight?: number;
  /** Faint bars of channels selected / removed per step bin behind the markers (default on). */
  showActivity?: boolean;
}

const STRIP_HEIGHT = 96;
const ROW_HEIGHT = 26;
const MARKER_COLOR = '#00a6d6';
const HIT_RADIUS = 7;

const COLUMNS: { key: SortKey; label: string; title: string }[] = [
  { key: 'step', label: 'Step', title: 'Training step of the release' },
  { key: 'family', label: 'Layer', title: 'Channel family' },
  { key: 'channel', label: 'Channel', title: 'Channel index in its family' },
  { key: 'cRate', label: 'C_rate', title: 'Escape rate: norm the update added against the decay, in plain gradient steps of the channel' },
  { key: 'cLen', label: 'C_len', title: 'Gradient magnitude relative to the layer’s live channels, at the channel’s size before its decay' },
  { key: 'decay', label: 'Decay at release', title: 'Decay factor when the channel was released' },
];

function same(a: RectificationRef | null | undefined, r: RectificationRow): boolean {
  return !!a && a.family === r.family && a.channel === r.channel && a.step === r.step;
}

/**
 * Every Self-Rectifying release: markers on the step axis (one lane per family, with pruning
 * activity behind) and a sortable, virtualised table of the events with their criteria.
 */
export function RectificationTimeline(props: RectificationTimelineProps) {
  const { events, selected = null, onSelect, width = 880, tableHeight = 288, showActivity = true } = props;
  const data = useMemo(() => collectTimeline(events), [events]);
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'step', desc: false });
  const [scrollTop, setScrollTop] = useState(0);
  const [hover, setHover] = useState<{ x: number; y: number; row: RectificationRow } | null>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);

  const labelOf = (id: string) => data.families.find((f) => f.id === id)?.label ?? id;
  const closestText = describeClosest(data.closest, labelOf, data.rows.length);
  const maxStep = Math.max(1, data.maxStep);
  const lanes = Math.max(1, data.families.length);
  const xOf = (step: number) => (step / maxStep) * (width - 8) + 4;
  const yOf = (familyIndex: number) => ((Math.max(0, familyIndex) + 0.5) / lanes) * (STRIP_HEIGHT - 8) + 4;

  const activity = useMemo(
    () => (showActivity ? binActivity(events, 0, maxStep, Math.max(1, Math.floor(width / 4))) : null),
    [events, showActivity, maxStep, width],
  );

  useEffect(() => {
    const ctx = hidpiContext(canvasRef.current, width, STRIP_HEIGHT);
    if (!ctx) return;
    ctx.clearRect(0, 0, width, STRIP_HEIGHT);
    ctx.fillStyle = '#f6f7f9';
    for (let l = 0; l < lanes; l += 2) {
      const top = (l / lanes) * (STRIP_HEIGHT - 8) + 4;
      ctx.fillRect(0, top, width, (STRIP_HEIGHT - 8) / lanes);
    }
    if (activity && activity.max > 0) {
      const bw = width / activity.pruned.length;
      for (let b = 0; b < activity.pruned.length; b++) {
        const hp = (activity.pruned[b] / activity.max) * (STRIP_HEIGHT - 8);
        const hr = (activity.removed[b] / activity.max) * (STRIP_HEIGHT - 8);
        ctx.fillStyle = 'rgba(120,120,140,0.18)';
        if (hp > 0) ctx.fillRect(b * bw, STRIP_HEIGHT - 4 - hp, Math.max(1, bw - 1), hp);
        ctx.fillStyle = 'rgba(214,51,108,0.16)';
        if (hr > 0) ctx.fillRect(b * bw, STRIP_HEIGHT - 4 - hr, Math.max(1, bw - 1), hr);
      }
    }
    for (const r of data.rows) {
      const x = xOf(r.step);
      const y = yOf(r.familyIndex);
      const on = same(selected, r);
      ctx.beginPath();
      ctx.arc(x, y, on ? 5 : 3.5, 0, Math.PI * 2);
      ctx.fillStyle = on ? '#1f6feb' : MARKER_COLOR;
      ctx.fill();
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = 1;
      ctx.stroke();
    }
    // xOf/yOf derive from the deps listed; recreating them each render must not redraw.
  }, [data, activity, selected, width, lanes, maxStep]); // eslint-disable-line react-hooks/exhaustive-deps

  const nearest = (e: ReactMouseEvent): RectificationRow | null => {
    const rect = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    let best: RectificationRow | null = null;
    let bestD = HIT_RADIUS * HIT_RADIUS;
    for (const r of data.rows) {
      const d = (xOf(r.step) - px) ** 2 + (yOf(r.familyIndex) - py) ** 2;
      if (d <= bestD) {
        bestD = d;
        best = r;
      }
    }
    return best;
  };

  const rows = useMemo(() => sortRows(data.rows, sort.key, sort.desc), [data.rows, sort]);
  const win = visibleWindow(rows.length, scrollTop, tableHeight, ROW_HEIGHT);
  const pick = (r: RectificationRow) => onSelect?.({ family: r.family, channel: r.channel, step: r.step });
  const ticks = niceTicks(0, maxStep, Math.max(2, Math.floor(width / 110)));

  return (
    <div className="decay-timeline" style={{ width }}>
      <div className="decay-toolbar">
        <strong>Rectifications</strong>
        <span className="decay-muted">
          {data.rows.length === 0
            ? 'none yet — Self-Rectifying releases will appear here'
            : `${data.rows.length} release${data.rows.length === 1 ? '' : 's'} across ${
                new Set(data.rows.map((r) => r.family)).size
              } layer(s)`}
        </span>
      </div>
      {closestText && (
        <p className="decay-muted decay-criteria" data-testid="sr-closest">
          {closestText}
        </p>
      )}
      <div
        className="decay-timeline-strip"
        style={{ width, height: STRIP_HEIGHT }}
        onMouseMove={(e) => {
          const r = nearest(e);
          const rect = e.currentTarget.getBoundingClientRect();
          setHover(r ? { x: e.clientX - rect.left, y: e.clientY - rect.top, row: r } : null);
        }}
        onMouseLeave={() => setHover(null)}
        onClick={(e) => {
          const r = nearest(e);
          if (r) pick(r);
        }}
      >
        <canvas ref={canvasRef} style={{ width, height: STRIP_HEIGHT, display: 'block' }} aria-label="Rectification timeline" />
        {hover && (
          <div
            className="decay-tooltip"
            style={{ left: hover.x + 190 > width ? hover.x - 190 : hover.x + 12, top: Math.min(hover.y, STRIP_HEIGHT - 40) }}
          >
            <div>
              {hover.row.familyLabel} · channel {hover.row.channel}
            </div>
            <div>
              step {formatStep(hover.row.step)} · decay {formatValue(hover.row.decay)}
            </div>
          </div>
        )}
      </div>
      <div className="decay-axis" style={{ width }}>
        {ticks.map((t) => (
          <span key={t} className="decay-tick" style={{ left: xOf(t) }}>
            {formatStep(t)}
          </span>
        ))}
      </div>
      {showActivity && (
        <div className="decay-legend">
          <span className="decay-legend-item">
            <span className="decay-dot" style={{ background: MARKER_COLOR }} /> release (one lane per layer)
          </span>
          <span className="decay-legend-item">
            <span className="decay-swatch" style={{ background: 'rgba(120,120,140,0.35)' }} /> channels selected
          </span>
          <span className="decay-legend-item">
            <span className="decay-swatch" style={{ background: 'rgba(214,51,108,0.35)' }} /> channels removed
          </span>
        </div>
      )}

      <div className="decay-table" role="table" aria-rowcount={rows.length + 1}>
        <div className="decay-table-row decay-table-head" role="row">
          {COLUMNS.map((c) => (
            <button
              key={c.key}
              type="button"
              role="columnheader"
              title={c.title}
              className="decay-table-cell"
              aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
              onClick={() => setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : false }))}
            >
              {c.label}
              {sort.key === c.key ? (sort.desc ? ' ▼' : ' ▲') : ''}
            </button>
          ))}
        </div>
        <div
          className="decay-table-body"
          style={{ height: Math.min(tableHeight, Math.max(ROW_HEIGHT, rows.length * ROW_HEIGHT)) }}
          onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        >
          <div style={{ height: rows.length * ROW_HEIGHT, position: 'relative' }}>
            {rows.slice(win.from, win.to).map((r, i) => (
              <div
                key={r.index}
                role="row"
                aria-rowindex={win.from + i + 2}
                aria-selected={same(selected, r)}
                className={same(selected, r) ? 'decay-table-row decay-table-selected' : 'decay-table-row'}
                style={{ top: (win.from + i) * ROW_HEIGHT, height: ROW_HEIGHT }}
                onClick={() => pick(r)}
              >
                <span role="cell" className="decay-table-cell">
                  {formatStep(r.step)}
                </span>
                <span role="cell" className="decay-table-cell">
                  {r.familyLabel}
                </span>
                <span role="cell" className="decay-table-cell">
                  {r.channel}
                </span>
                <span role="cell" className="decay-table-cell">
                  {formatValue(r.cRate)}
                </span>
                <span role="cell" className="decay-table-cell">
                  {formatValue(r.cLen)}
                </span>
                <span role="cell" className="decay-table-cell">
                  {formatValue(r.decay)}
                </span>
              </div>
            ))}
            {rows.length === 0 && <div className="decay-table-empty">No rectification events.</div>}
          </div>
        </div>
      </div>
    </div>
  );
}
