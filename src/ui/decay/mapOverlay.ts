import type { FamilyIndex } from './layout';
import type { MapGeometry } from './mapGeometry';
import type { ChannelRef } from './types';

export const RECTIFY_COLOR = '#00a6d6';
const CURSOR_COLOR = '#d97706';

export interface OverlayScene {
  layout: FamilyIndex;
  /** Flat rows shown, [rowFrom, rowTo). */
  rowFrom: number;
  rowTo: number;
  /** Steps shown, [s0, s1]. */
  s0: number;
  s1: number;
  width: number;
  height: number;
  selected: readonly ChannelRef[];
  /** Rectification markers: a diamond at (step, channel). */
  rectifies: readonly (ChannelRef & { step: number })[];
  /** A vertical guide, e.g. the rectification picked in the timeline. */
  highlightStep: number | null;
  /** The replay cursor: a solid line; absent or null when not replaying. */
  cursorStep?: number | null;
}

/** The subset of CanvasRenderingContext2D the overlay draws with (so tests can record calls). */
export type OverlayContext = Pick<
  CanvasRenderingContext2D,
  | 'clearRect'
  | 'fillRect'
  | 'strokeRect'
  | 'beginPath'
  | 'moveTo'
  | 'lineTo'
  | 'closePath'
  | 'fill'
  | 'stroke'
  | 'fillStyle'
  | 'strokeStyle'
  | 'lineWidth'
>;

/** Family separators, selected-row outlines, the highlighted step and rectification diamonds. */
export function drawOverlay(ctx: OverlayContext, g: MapGeometry, scene: OverlayScene): void {
  const { layout, rowFrom, rowTo, s0, s1, width, height } = scene;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = 'rgba(255,255,255,0.85)';
  for (let f = 1; f < layout.families.length; f++) {
    const r = layout.offsets[f];
    if (r > rowFrom && r < rowTo) ctx.fillRect(0, Math.round(g.yOf(r)), width, 1);
  }
  ctx.strokeStyle = '#1f6feb';
  ctx.lineWidth = 1.5;
  for (const ref of scene.selected) {
    const row = layout.row(ref);
    if (row < rowFrom || row >= rowTo) continue;
    const y0 = g.yOf(row);
    const h = Math.max(2, g.yOf(row + 1) - y0);
    ctx.strokeRect(0.75, y0 - 0.75, width - 1.5, h + 1.5);
  }
  const hs = scene.highlightStep;
  if (hs !== null && hs >= s0 && hs <= s1) {
    ctx.fillStyle = 'rgba(31,111,235,0.6)';
    ctx.fillRect(Math.round(g.xOf(hs)), 0, 1, height);
  }
  const cs = scene.cursorStep ?? null;
  if (cs !== null && cs >= s0 && cs <= s1) {
    ctx.fillStyle = CURSOR_COLOR;
    ctx.fillRect(Math.round(g.xOf(cs)) - 1, 0, 2, height);
  }
  ctx.fillStyle = RECTIFY_COLOR;
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 1;
  for (const ev of scene.rectifies) {
    const row = layout.row(ev);
    if (row < rowFrom || row >= rowTo || ev.step < s0 || ev.step > s1) continue;
    const x = g.xOf(ev.step);
    const y = (g.yOf(row) + g.yOf(row + 1)) / 2;
    ctx.beginPath();
    ctx.moveTo(x, y - 4);
    ctx.lineTo(x + 4, y);
    ctx.lineTo(x, y + 4);
    ctx.lineTo(x - 4, y);
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
  }
}
