/** Device pixels per CSS pixel, capped: a 4x backing store for a wide canvas costs more than it shows. */
export function canvasScale(): number {
  const dpr = typeof globalThis.devicePixelRatio === 'number' ? globalThis.devicePixelRatio : 1;
  return Math.min(3, Math.max(1, dpr || 1));
}

/**
 * Sizes a canvas's backing store to the screen's pixel density and returns a context that
 * draws in CSS pixels, so lines and markers stay sharp on high-DPI screens.
 */
export function hidpiContext(canvas: HTMLCanvasElement | null, width: number, height: number): CanvasRenderingContext2D | null {
  if (!canvas) return null;
  const scale = canvasScale();
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d');
  ctx?.setTransform(scale, 0, 0, scale, 0, 0);
  return ctx;
}
