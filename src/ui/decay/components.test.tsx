import { describe, expect, it } from 'vitest';
import { renderToString } from 'react-dom/server';
import { DecayMap, LayerSummary, RectificationTimeline, Trajectories, zoomRange } from './index';
import { slimEvents, smallRun } from './fixtures.test-util';

const text = (html: string) => html.replace(/<!-- -->/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('decay components (server render smoke checks)', () => {
  it('DecayMap renders family labels, the canvas pair and a legend; waits without a model', () => {
    const html = renderToString(<DecayMap events={smallRun()} width={300} height={120} />);
    expect(html.match(/<canvas/g)?.length).toBe(2);
    expect(text(html)).toContain('conv1');
    expect(text(html)).toContain('All 2 families (7 channels)');
    expect(text(html)).toContain('minimum decay');
    expect(text(renderToString(<DecayMap events={[]} />))).toContain('waiting for the model');
    const zoomed = renderToString(<DecayMap events={smallRun()} zoomFamily="c2" colorMode="norm-family" />);
    expect(text(zoomed)).toContain('ch 2');
    expect(text(zoomed)).toContain('family max');
  });

  it('Trajectories lists the lines, flags the rectified one and notes the cap', () => {
    const html = text(
      renderToString(
        <Trajectories events={smallRun()} selected={[{ family: 'c1', channel: 0 }]} family="c2" maxLines={2} />,
      ),
    );
    expect(html).toContain('Showing 2 of 4 channels');
    expect(html).toContain('conv2 #0 — released at step 30');
    expect(text(renderToString(<Trajectories events={smallRun()} selected={[]} />))).toContain('click a row');
  });

  it('RectificationTimeline lists every release in its table', () => {
    const html = text(renderToString(<RectificationTimeline events={smallRun()} selected={{ family: 'c2', channel: 0, step: 30 }} />));
    expect(html).toContain('1 release across 1 layer(s)');
    expect(html).toMatch(/30 conv2 0 1\.70 2\.30 0\.500/);
  });

  it('RectificationTimeline says how close Self-Rectifying came when nothing was released', () => {
    const crit = { type: 'criteria' as const, step: 40, steps: 10, family: 'c1', channel: 2, cRate: 0.12, cLen: 1.9, tRate: 0.5, tLen: 1.5, closeness: 0.24 };
    const events = [...smallRun().filter((e) => e.type !== 'rectify'), crit];
    const html = text(renderToString(<RectificationTimeline events={events} />));
    expect(html).toContain('Closest to release: conv1 · channel 2, steps 31–40');
    expect(html).toContain('lower T_rate for Self-Rectifying to act');
  });

  it('LayerSummary shows counts, slimming and latency or "not measured"', () => {
    const live = text(renderToString(<LayerSummary events={smallRun()} />));
    expect(live).toContain('not measured');
    expect(live).toContain('not slimmed yet');
    expect(live).toMatch(/Total 7 5 1 1 1/);
    const done = text(renderToString(<LayerSummary events={[...smallRun(), ...slimEvents()]} denseMsPerImage={4} slimMsPerImage={2} />));
    expect(done).toContain('4.000 ms/img');
    expect(done).toContain('2.00× faster');
    expect(done).toContain('7 → 6');
    expect(done).toContain('65.0%');
  });
});

describe('zoomRange', () => {
  it('zooms around the pointer and stays inside the run', () => {
    expect(zoomRange(0, 100, 0.5, 0.5, 100)).toEqual([25, 75]);
    expect(zoomRange(0, 100, 0, 0.5, 100)).toEqual([0, 50]);
    expect(zoomRange(50, 100, 1, 4, 100)).toEqual([0, 100]);
    expect(zoomRange(90, 100, 1, 1.5, 100)).toEqual([85, 100]);
  });
});
