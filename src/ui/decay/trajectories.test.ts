import { describe, expect, it } from 'vitest';
import { extractTrajectories, familyChannels, rectifyEvents } from './trajectories';
import { syncTelemetry } from './telemetryLog';
import { smallRun } from './fixtures.test-util';
import { TelemetryStore } from './telemetryStore';

describe('trajectories', () => {
  it('marks the rectified channel at its release step, where the decay curve turns up', () => {
    const events = smallRun();
    const { store } = syncTelemetry(events);
    expect(store).not.toBeNull();
    const set = extractTrajectories(store!, [{ family: 'c1', channel: 1 }, { family: 'c2', channel: 0 }], rectifyEvents(events));
    expect(set.requested).toBe(2);
    expect(set.truncated).toBe(false);
    // the rectified channel comes first
    const [rect, plain] = set.lines;
    expect(rect.key).toBe('c2#0');
    expect(rect.rectified).toBe(true);
    expect(rect.familyLabel).toBe('conv2');
    expect(rect.rectifications).toEqual([{ step: 30, decay: 0.5, norm: 1.5 }]);
    const low = rect.decay.reduce((a, b) => (b.value < a.value ? b : a));
    expect(low.step).toBe(30);
    expect(low.value).toBe(0.5);
    const after = rect.decay.find((p) => p.step === 40);
    expect(after?.value).toBe(1);
    expect(plain.rectified).toBe(false);
    expect(plain.rectifications).toEqual([]);
    expect(plain.decay.at(-1)).toEqual({ step: 100, value: 0 });
  });

  it('keeps the dip and its step when downsampled', () => {
    const store = new TelemetryStore([{ id: 'f', label: 'F', channels: 1 }], { maxColumns: 4096 });
    for (let step = 0; step < 3000; step++) {
      const d = step < 1000 ? 1 : step <= 1777 ? 1 - (step - 1000) / 1000 : 1;
      store.append(step, [d], [d]);
    }
    const rect = { type: 'rectify' as const, step: 1777, family: 'f', channel: 0, cRate: 1, cLen: 1, decay: 0.223 };
    const [line] = extractTrajectories(store, [{ family: 'f', channel: 0 }], [rect], { maxPoints: 50 }).lines;
    expect(line.decay.length).toBe(50);
    const low = line.decay.reduce((a, b) => (b.value < a.value ? b : a));
    expect(low.step).toBe(1777);
    expect(low.value).toBeCloseTo(0.223, 5);
    expect(line.norm.length).toBe(50);
    expect(line.rectifications[0].step).toBe(1777);
  });

  it('caps the number of lines, drops unknown channels and duplicates', () => {
    const events = smallRun();
    const { store } = syncTelemetry(events);
    const refs = [...familyChannels(store!, 'c1'), ...familyChannels(store!, 'c2'), { family: 'c1', channel: 0 }, { family: 'zz', channel: 0 }];
    expect(refs.length).toBe(9);
    const set = extractTrajectories(store!, refs, rectifyEvents(events), { maxLines: 3 });
    expect(set.requested).toBe(7);
    expect(set.truncated).toBe(true);
    expect(set.lines.map((l) => l.key)).toEqual(['c2#0', 'c1#0', 'c1#1']);
    expect(familyChannels(store!, 'missing')).toEqual([]);
  });

  it('shares one store per log and reads only new events', () => {
    const events = smallRun();
    const half = events.slice(0, 10);
    const a = syncTelemetry(half);
    const cols = a.store!.columns;
    const b = syncTelemetry(events.slice());
    expect(b.store).toBe(a.store);
    expect(b.store!.columns).toBeGreaterThan(cols);
    expect(b.version).toBe(11);
    expect(syncTelemetry([]).store).toBeNull();
  });
});
