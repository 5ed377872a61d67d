import { afterEach, describe, expect, it } from 'vitest';
import { canvasScale, hidpiContext } from './hidpi';

const g = globalThis as { devicePixelRatio?: number };
afterEach(() => {
  delete g.devicePixelRatio;
});

function fakeCanvas() {
  const transforms: number[][] = [];
  const canvas = { width: 300, height: 150, getContext: () => ({ setTransform: (...m: number[]) => transforms.push(m) }) };
  return { canvas: canvas as unknown as HTMLCanvasElement, transforms };
}

describe('hidpi canvases', () => {
  it('sizes the backing store to the pixel density and draws in CSS pixels', () => {
    g.devicePixelRatio = 2;
    const { canvas, transforms } = fakeCanvas();
    expect(hidpiContext(canvas, 880, 96)).not.toBeNull();
    expect([canvas.width, canvas.height]).toEqual([1760, 192]);
    expect(transforms).toEqual([[2, 0, 0, 2, 0, 0]]);
  });

  it('falls back to 1 without a density and caps it at 3', () => {
    expect(canvasScale()).toBe(1);
    g.devicePixelRatio = 5;
    expect(canvasScale()).toBe(3);
    g.devicePixelRatio = 1.5;
    const { canvas } = fakeCanvas();
    hidpiContext(canvas, 101, 10);
    expect([canvas.width, canvas.height]).toEqual([152, 15]);
    expect(hidpiContext(null, 10, 10)).toBeNull();
  });
});
