import { useEffect, useMemo, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';
import { hidpiContext } from '../common/hidpi';
import { DECAY_SCALE, NORM_SCALE } from './colormap';
import type { Reducer } from './downsample';
import { formatStep, formatValue, niceTicks } from './format';
import { useControllable, useTelemetry } from './hooks';
import { mapGeometry, zoomRange } from './mapGeometry';
import { drawOverlay, RECTIFY_COLOR } from './mapOverlay';
import { MapRaster, type ColorMode, type MapView } from './mapRaster';
import type { TelemetryStore } from './telemetryStore';
import { rectifyEvents } from './trajectories';
import { channelKey, type ChannelRef, type EventLog } from './types';

export interface DecayMapProps {
  /** The run's event log (append-only); the map reads 'model', 'telemetry' and 'rectify'. */
  events: EventLog;
  /** Channels to highlight (outlined rows). */
  selected?: readonly ChannelRef[];
  /**
   * Called on a click on a row: with that channel alone, or with it toggled in `selected`
   * when Shift, Ctrl or Cmd is held.
   */
  onSelectChannels?: (channels: ChannelRef[]) => void;
  /** Family id whose rows alone are shown; null = every family. Uncontrolled if undefined. */
  zoomFamily?: string | null;
  onZoomFamilyChange?: (family: string | null) => void;
  /** Step range shown; null = the whole run. Uncontrolled if undefined. */
  stepRange?: readonly [number, number] | null;
  onStepRangeChange?: (range: readonly [number, number] | null) => void;
  /** Colour source; uncontrolled (default 'decay') if undefined. */
  colorMode?: ColorMode;
  onColorModeChange?: (mode: ColorMode) => void;
  /**
   * When several channels share a pixel row: 'min' (default) darkens the row if any of them
   * is pruned, 'mean' shows the fraction. Steps within a pixel always use the metric's reducer.
   */
  rowReduce?: RowReduce;
  onRowReduceChange?: (mode: RowReduce) => void;
  /** Draws a vertical guide at this step (e.g. the rectification picked in the timeline). */
  highlightStep?: number | null;
  /** Draws the replay cursor at this step (the views show the run as it stood then). */
  cursorStep?: number | null;
  /** Heat-map size in CSS pixels (one canvas pixel each); labels and legend come on top. */
  width?: number;
  height?: number;
}

export type RowReduce = 'min' | 'mean';

interface Hover {
  x: number;
  y: number;
  lines: string[];
}

const LABEL_GUTTER = 132;

const MODE_LABELS: Record<ColorMode, string> = {
  decay: 'Decay factor',
  'norm-family': 'Norm (per family)',
  'norm-global': 'Norm (global)',
};

/**
 * Every channel of the model (rows, grouped by family) against training steps (columns),
 * coloured by decay factor or weight norm. A canvas heat map redrawn incrementally from the
 * shared telemetry store; rectifications are marked in an overlay canvas.
 */
export function DecayMap(props: DecayMapProps) {
  const { events, selected = [], onSelectChannels, highlightStep = null, cursorStep = null, width = 880, height = 480 } = props;
  const { model, store, version } = useTelemetry(events);
  const [zoomFamily, setZoomFamily] = useControllable<string | null>(props.zoomFamily, props.onZoomFamilyChange, null);
  const [stepRange, setStepRange] = useControllable<readonly [number, number] | null>(
    props.stepRange,
    props.onStepRangeChange,
    null,
  );
  const [mode, setMode] = useControllable<ColorMode>(props.colorMode, props.onColorModeChange, 'decay');
  const [rowReduce, setRowReduce] = useControllable<RowReduce>(props.rowReduce, props.onRowReduceChange, 'min');
  const [hover, setHover] = useState<Hover | null>(null);
  const [brush, setBrush] = useState<{ from: number; to: number } | null>(null);

  const heatRef = useRef<HTMLCanvasElement>(null);
  const overlayRef = useRef<HTMLCanvasElement>(null);
  const stackRef = useRef<HTMLDivElement>(null);
  const rasterRef = useRef(new MapRaster());
  const imageRef = useRef<ImageData | null>(null);
  const frameRef = useRef(0);
  const dragRef = useRef<{ x: number; moved: boolean } | null>(null);

  const lastStep = store && store.columns > 0 ? store.lastStep : 0;
  const domainMax = Math.max(model?.totalSteps ?? 0, lastStep, 1);
  const s0 = stepRange ? stepRange[0] : 0;
  const s1 = stepRange ? stepRange[1] : domainMax;

  const zoomIndex = store && zoomFamily !== null ? store.layout.familyIndex(zoomFamily) : -1;
  const rowFrom = store && zoomIndex >= 0 ? store.layout.offsets[zoomIndex] : 0;
  const rowTo = store ? (zoomIndex >= 0 ? store.layout.offsets[zoomIndex + 1] : store.channels) : 0;
  const rowCount = Math.max(1, rowTo - rowFrom);

  const channelsPerRow = rowCount / height;
  // Norm always averages; only decay has a choice, and only when rows actually merge.
  const channelReducer = mode === 'decay' && channelsPerRow > 1 ? rowReduce : undefined;
  const view = useMemo<MapView>(
    () => ({ s0, s1, rowFrom, rowTo, width, height, mode, channelReducer }),
    [s0, s1, rowFrom, rowTo, width, height, mode, channelReducer],
  );
  const geometry = useMemo(() => mapGeometry({ s0, s1, rowFrom, rowTo, width, height }), [s0, s1, rowFrom, rowTo, width, height]);

  // Heat map: coalesce every change into one draw per animation frame; MapRaster redraws
  // only the pixel columns new telemetry touched. The frame reads the newest store and view.
  const latestRef = useRef({ store, view });
  useEffect(() => {
    latestRef.current = { store, view };
    if (!store || frameRef.current) return;
    frameRef.current = requestAnimationFrame(() => {
      frameRef.current = 0;
      const { store: st, view: v } = latestRef.current;
      const ctx = heatRef.current?.getContext('2d');
      if (!st || !ctx) return;
      const raster = rasterRef.current;
      const span = raster.update(st, v);
      if (!span) return;
      let image = imageRef.current;
      if (!image || image.data !== raster.rgba) {
        image = new ImageData(raster.rgba, v.width, v.height);
        imageRef.current = image;
      }
      if (span.x1 > span.x0) ctx.putImageData(image, 0, 0, span.x0, 0, span.x1 - span.x0, v.height);
    });
  }, [store, version, view]);

  useEffect(
    () => () => {
      if (frameRef.current) cancelAnimationFrame(frameRef.current);
      frameRef.current = 0;
    },
    [],
  );

  // A new store (another run) must not reuse the old raster's "already drawn" state.
  useEffect(() => {
    rasterRef.current.invalidate();
  }, [store]);

  const rectifies = useMemo(() => rectifyEvents(events), [events]);

  // Overlay: family separators, selection, rectification markers, highlighted step.
  useEffect(() => {
    const ctx = hidpiContext(overlayRef.current, width, height);
    if (!ctx || !store) return;
    drawOverlay(ctx, geometry, { layout: store.layout, rowFrom, rowTo, s0, s1, width, height, selected, rectifies, highlightStep, cursorStep });
  }, [store, geometry, rectifies, selected, highlightStep, cursorStep, s0, s1, rowFrom, rowTo, width, height]);

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const el = stackRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = el.getBoundingClientRect();
      const frac = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
      const next = zoomRange(s0, s1, frac, e.deltaY > 0 ? 1.25 : 0.8, domainMax);
      setStepRange(next[0] <= 0 && next[1] >= domainMax ? null : next);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [s0, s1, domainMax, setStepRange]);

  const pointer = (e: ReactMouseEvent) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return geometry.hit(e.clientX - rect.left, e.clientY - rect.top);
  };

  const onMouseMove = (e: ReactMouseEvent) => {
    if (!store) return;
    const p = pointer(e);
    const drag = dragRef.current;
    if (drag) {
      if (Math.abs(p.x - drag.x) > 4) drag.moved = true;
      if (drag.moved) setBrush({ from: Math.min(drag.x, p.x), to: Math.max(drag.x, p.x) });
    }
    setHover({ x: p.x, y: p.y, lines: describeCell(store, p.row, p.step) });
  };

  const onMouseDown = (e: ReactMouseEvent) => {
    if (e.button !== 0) return;
    dragRef.current = { x: pointer(e).x, moved: false };
  };

  const onMouseUp = (e: ReactMouseEvent) => {
    const drag = dragRef.current;
    dragRef.current = null;
    setBrush(null);
    if (!drag || !store) return;
    const p = pointer(e);
    if (drag.moved) {
      const range = geometry.brushSteps(drag.x, p.x);
      if (range) setStepRange(range);
      return;
    }
    const ref = store.layout.refOfRow(p.row);
    if (!ref || !onSelectChannels) return;
    if (e.shiftKey || e.ctrlKey || e.metaKey) {
      const key = channelKey(ref);
      const has = selected.some((s) => channelKey(s) === key);
      onSelectChannels(has ? selected.filter((s) => channelKey(s) !== key) : [...selected, ref]);
    } else onSelectChannels([ref]);
  };

  const onMouseLeave = () => {
    dragRef.current = null;
    setBrush(null);
    setHover(null);
  };

  if (!store || !model) {
    return (
      <div className="decay-map decay-empty" style={{ width: width + LABEL_GUTTER }}>
        Channel decay map — waiting for the model and its first telemetry.
      </div>
    );
  }

  const ticks = niceTicks(s0, s1, Math.max(2, Math.floor(width / 110)));
  const scale = mode === 'decay' ? DECAY_SCALE : NORM_SCALE;
  const families = store.families;

  return (
    <div className="decay-map" style={{ width: width + LABEL_GUTTER }}>
      <div className="decay-toolbar">
        <div className="decay-segmented" role="group" aria-label="Colour by">
          {(Object.keys(MODE_LABELS) as ColorMode[]).map((m) => (
            <button
              key={m}
              type="button"
              className={m === mode ? 'decay-seg decay-seg-on' : 'decay-seg'}
              aria-pressed={m === mode}
              onClick={() => setMode(m)}
            >
              {MODE_LABELS[m]}
            </button>
          ))}
        </div>
        <label className="decay-field">
          Rows
          <select value={zoomFamily ?? ''} onChange={(e) => setZoomFamily(e.target.value === '' ? null : e.target.value)}>
            <option value="">All {families.length} families ({store.channels} channels)</option>
            {families.map((f) => (
              <option key={f.id} value={f.id}>
                {f.label} ({f.channels})
              </option>
            ))}
          </select>
        </label>
        {mode === 'decay' && channelsPerRow > 1 && (
          <label className="decay-field" title={`${channelsPerRow.toFixed(1)} channels per pixel row`}>
            Merged rows
            <select value={rowReduce} onChange={(e) => setRowReduce(e.target.value === 'mean' ? 'mean' : 'min')}>
              <option value="min">any pruned (min)</option>
              <option value="mean">pruned fraction (mean)</option>
            </select>
          </label>
        )}
        <span className="decay-muted">
          steps {formatStep(s0)}–{formatStep(s1)}
          {store.stride > 1 ? ` · ${store.stride} samples per column` : ''}
        </span>
        <button
          type="button"
          className="decay-button"
          disabled={stepRange === null && zoomFamily === null}
          onClick={() => {
            setStepRange(null);
            setZoomFamily(null);
          }}
        >
          Reset zoom
        </button>
      </div>

      <div className="decay-map-body">
        <div className="decay-map-labels" style={{ width: LABEL_GUTTER, height }}>
          {zoomIndex >= 0
            ? channelTicks(families[zoomIndex].channels).map((c) => (
                <span key={c} className="decay-map-label" style={{ top: geometry.yOf(rowFrom + c + 0.5) - 7 }}>
                  ch {c}
                </span>
              ))
            : families.map((f, i) => {
                const top = geometry.yOf(store.layout.offsets[i]);
                const h = geometry.yOf(store.layout.offsets[i + 1]) - top;
                return (
                  <button
                    key={f.id}
                    type="button"
                    className="decay-map-family"
                    style={{ top, height: h, fontSize: h >= 11 ? undefined : 0 }}
                    title={`${f.label}: ${f.channels} channels — click to zoom`}
                    onClick={() => setZoomFamily(f.id)}
                  >
                    {f.label}
                  </button>
                );
              })}
        </div>
        <div
          ref={stackRef}
          className="decay-map-stack"
          style={{ width, height }}
          onMouseMove={onMouseMove}
          onMouseDown={onMouseDown}
          onMouseUp={onMouseUp}
          onMouseLeave={onMouseLeave}
        >
          <canvas ref={heatRef} className="decay-map-canvas" width={width} height={height} aria-label="Channel decay map" />
          <canvas ref={overlayRef} className="decay-map-canvas" style={{ width, height }} aria-hidden="true" />
          {brush && <div className="decay-map-brush" style={{ left: brush.from, width: brush.to - brush.from }} />}
          {hover && !brush && (
            <div
              className="decay-tooltip"
              style={{
                left: hover.x + 14 + 200 > width ? hover.x - 214 : hover.x + 14,
                top: Math.min(hover.y + 12, height - 84),
              }}
            >
              {hover.lines.map((l, i) => (
                <div key={i}>{l}</div>
              ))}
            </div>
          )}
        </div>
      </div>

      <div className="decay-axis" style={{ marginLeft: LABEL_GUTTER, width }}>
        {ticks.map((t) => (
          <span key={t} className="decay-tick" style={{ left: geometry.xOf(t) }}>
            {formatStep(t)}
          </span>
        ))}
        <span className="decay-axis-title">training step</span>
      </div>

      <div className="decay-legend" style={{ marginLeft: LABEL_GUTTER }}>
        <div className="decay-colorbar-wrap">
          <span>{mode === 'decay' ? '0 pruned' : '0'}</span>
          <span className="decay-colorbar" style={{ background: scale.gradient }} />
          <span>{legendMax(mode, store)}</span>
        </div>
        <span className="decay-legend-item">
          <span className="decay-diamond" style={{ background: RECTIFY_COLOR }} /> rectification
        </span>
        <span className="decay-muted decay-legend-note">{legendNote(mode, channelReducer)}</span>
      </div>
    </div>
  );
}

function legendMax(mode: ColorMode, store: TelemetryStore): string {
  if (mode === 'decay') return '1 untouched';
  if (mode === 'norm-family') return 'family max';
  return formatValue(store.globalMaxNorm);
}

function legendNote(mode: ColorMode, channelReducer: Reducer | undefined): string {
  if (mode === 'decay') {
    const rows =
      channelReducer === 'mean'
        ? ' Channels sharing a pixel row are then averaged: the shade is the pruned fraction.'
        : '';
    return `Where a pixel covers several steps or channels it shows the minimum decay, so a pruned channel never fades under averaging.${rows} Drag or wheel to zoom steps; click a row to select, Shift-click to add; click a layer name to zoom into it.`;
  }
  return `Norm of each channel's coupled weights, divided by the largest norm ${
    mode === 'norm-family' ? 'its family' : 'any channel'
  } has reached so far; a pixel covering several cells shows their mean.`;
}

function channelTicks(n: number): number[] {
  if (n <= 1) return [0];
  // Keep the last channel labelled; drop a round tick that would collide with it.
  const t = niceTicks(0, n - 1, 8).filter((c) => Number.isInteger(c) && (n - 1 - c) / n > 0.06);
  return [...t, n - 1];
}

function describeCell(store: TelemetryStore, row: number, step: number): string[] {
  const ref = store.layout.refOfRow(row);
  if (!ref) return [];
  const fi = store.layout.familyIndex(ref.family);
  const col = step <= store.lastStep ? store.columnAtStep(step) : -1;
  const head = `${store.families[fi].label} · channel ${ref.channel}`;
  if (col < 0) return [head, `step ${formatStep(step)}: no telemetry`];
  const first = store.columnFirstStep(col);
  const last = store.columnLastStep(col);
  const stepText = first === last ? `step ${formatStep(first)}` : `steps ${formatStep(first)}–${formatStep(last)}`;
  return [
    head,
    stepText,
    `decay ${formatValue(store.value('decay', col, row))}${first === last ? '' : ' (min)'}`,
    `norm ${formatValue(store.value('norm', col, row))}${first === last ? '' : ' (mean)'}`,
  ];
}
