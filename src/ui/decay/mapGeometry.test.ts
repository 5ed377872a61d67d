import { describe, expect, it } from 'vitest';
import { FamilyIndex } from './layout';
import { mapGeometry, MIN_SPAN_STEPS } from './mapGeometry';
import { drawOverlay, type OverlayContext } from './mapOverlay';

// 100 px over steps [0, 400): 4 steps per pixel. 3 rows over 60 px: 20 px per row.
const whole = mapGeometry({ s0: 0, s1: 400, rowFrom: 0, rowTo: 3, width: 100, height: 60 });
// Zoomed into steps [100, 150) and rows [10, 20): 0.5 steps per pixel, 5 px per row.
const zoomed = mapGeometry({ s0: 100, s1: 150, rowFrom: 10, rowTo: 20, width: 100, height: 50 });

describe('mapGeometry', () => {
  it('maps steps to pixels and back', () => {
    expect(whole.xOf(0)).toBe(0);
    expect(whole.xOf(200)).toBe(50);
    expect(whole.xOf(400)).toBe(100);
    expect(whole.stepAt(50)).toBe(200);
    expect(zoomed.xOf(100)).toBe(0);
    expect(zoomed.xOf(125)).toBe(50);
    expect(zoomed.stepAt(10)).toBe(105);
    for (const g of [whole, zoomed]) {
      for (const x of [0, 0.5, 13, 37.25, 99, 100]) expect(g.xOf(g.stepAt(x))).toBeCloseTo(x, 9);
    }
    for (const s of [100, 101.5, 149]) expect(zoomed.stepAt(zoomed.xOf(s))).toBeCloseTo(s, 9);
  });

  it('maps rows to pixels and pixels to the row drawn there', () => {
    expect(whole.yOf(0)).toBe(0);
    expect(whole.yOf(1)).toBe(20);
    expect(whole.yOf(3)).toBe(60);
    expect(whole.rowAt(0)).toBe(0);
    expect(whole.rowAt(19.9)).toBe(0);
    expect(whole.rowAt(20)).toBe(1);
    expect(whole.rowAt(59)).toBe(2);
    // Zoomed rows are offset by rowFrom and clamped inside [rowFrom, rowTo).
    expect(zoomed.yOf(10)).toBe(0);
    expect(zoomed.yOf(12)).toBe(10);
    expect(zoomed.rowAt(12)).toBe(12);
    expect(zoomed.rowAt(-5)).toBe(10);
    expect(zoomed.rowAt(50)).toBe(19);
    expect(zoomed.rowAt(500)).toBe(19);
    for (let r = 10; r < 20; r++) expect(zoomed.rowAt(zoomed.yOf(r))).toBe(r);
  });

  it('hit-tests the pixel centre and clamps the pointer into the image', () => {
    expect(whole.hit(10, 25)).toEqual({ x: 10, y: 25, step: 42, row: 1 });
    expect(whole.hit(-20, -3)).toEqual({ x: 0, y: 0, step: 2, row: 0 });
    expect(whole.hit(250, 90)).toEqual({ x: 99, y: 59, step: 398, row: 2 });
    expect(zoomed.hit(0, 49)).toEqual({ x: 0, y: 49, step: 100.25, row: 19 });
  });

  it('turns a drag into a step range, either direction, and ignores short drags', () => {
    expect(whole.brushSteps(10, 30)).toEqual([40, 120]);
    expect(whole.brushSteps(30, 10)).toEqual([40, 120]);
    expect(whole.brushSteps(0, 100)).toEqual([0, 400]);
    // One pixel is 4 steps on the whole view: exactly MIN_SPAN_STEPS still zooms.
    expect(whole.brushSteps(10, 11)).toEqual([40, 40 + MIN_SPAN_STEPS]);
    // Zoomed, 7 px is 3.5 steps: too short. 8 px is 4 steps.
    expect(zoomed.brushSteps(20, 27)).toBeNull();
    expect(zoomed.brushSteps(20, 28)).toEqual([110, 114]);
  });

  it('treats an empty row range as one row so nothing divides by zero', () => {
    const g = mapGeometry({ s0: 0, s1: 10, rowFrom: 4, rowTo: 4, width: 10, height: 10 });
    expect(g.rowCount).toBe(1);
    expect(g.rowAt(7)).toBe(4);
    expect(g.yOf(5)).toBe(10);
  });
});

describe('drawOverlay', () => {
  const layout = new FamilyIndex([
    { id: 'a', label: 'A', channels: 2 },
    { id: 'b', label: 'B', channels: 2 },
  ]);

  function record(): { ctx: OverlayContext; calls: string[] } {
    const calls: string[] = [];
    const fn =
      (name: string) =>
      (...args: number[]) =>
        calls.push(`${name}(${args.join(',')})`);
    const ctx = {
      clearRect: fn('clearRect'),
      fillRect: fn('fillRect'),
      strokeRect: fn('strokeRect'),
      beginPath: fn('beginPath'),
      moveTo: fn('moveTo'),
      lineTo: fn('lineTo'),
      closePath: fn('closePath'),
      fill: fn('fill'),
      stroke: fn('stroke'),
      fillStyle: '',
      strokeStyle: '',
      lineWidth: 1,
    } as unknown as OverlayContext;
    return { ctx, calls };
  }

  it('draws separators, selection, guide and diamonds where the geometry puts them', () => {
    const view = { s0: 0, s1: 100, rowFrom: 0, rowTo: 4, width: 200, height: 40 };
    const { ctx, calls } = record();
    drawOverlay(ctx, mapGeometry(view), {
      ...view,
      layout,
      selected: [{ family: 'b', channel: 1 }],
      rectifies: [
        { family: 'a', channel: 1, step: 50 },
        { family: 'a', channel: 0, step: 150 }, // outside the steps shown
      ],
      highlightStep: 25,
    });
    expect(calls).toEqual([
      'clearRect(0,0,200,40)',
      'fillRect(0,20,200,1)', // family b starts at row 2 = 20 px
      'strokeRect(0.75,29.25,198.5,11.5)', // row 3 spans 30..40 px
      'fillRect(50,0,1,40)', // step 25 of 100 on 200 px
      'beginPath()',
      'moveTo(100,11)', // step 50, middle of row 1 (15 px) minus 4
      'lineTo(104,15)',
      'lineTo(100,19)',
      'lineTo(96,15)',
      'closePath()',
      'fill()',
      'stroke()',
    ]);
  });

  it('draws only rows inside a zoomed family', () => {
    const view = { s0: 0, s1: 100, rowFrom: 2, rowTo: 4, width: 200, height: 40 };
    const { ctx, calls } = record();
    drawOverlay(ctx, mapGeometry(view), {
      ...view,
      layout,
      selected: [{ family: 'a', channel: 0 }, { family: 'b', channel: 0 }],
      rectifies: [{ family: 'a', channel: 1, step: 50 }],
      highlightStep: null,
    });
    expect(calls).toEqual(['clearRect(0,0,200,40)', 'strokeRect(0.75,-0.75,198.5,21.5)']);
  });

  it('draws the replay cursor as a 2 px line at its step, and nothing for a step off screen', () => {
    const view = { s0: 0, s1: 100, rowFrom: 0, rowTo: 4, width: 200, height: 40 };
    const scene = { ...view, layout, selected: [], rectifies: [], highlightStep: null };
    const on = record();
    drawOverlay(on.ctx, mapGeometry(view), { ...scene, cursorStep: 30 });
    expect(on.calls).toEqual(['clearRect(0,0,200,40)', 'fillRect(0,20,200,1)', 'fillRect(59,0,2,40)']);
    const off = record();
    drawOverlay(off.ctx, mapGeometry(view), { ...scene, cursorStep: 130 });
    expect(off.calls).toEqual(['clearRect(0,0,200,40)', 'fillRect(0,20,200,1)']);
  });
});
