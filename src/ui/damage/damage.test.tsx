import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/events';
import { engineEventSchema } from '../../persist/event-schema';
import { initialRunDerived, reduceEvents, type DamageEvent } from '../../store/runReducer';
import { toArray } from '../../store/series';
import { DamagePanel } from './DamagePanel';
import { damageHeadline, damageRows, plannedPointSteps, verdict } from './damageRows';

const text = (html: string) => html.replace(/<!-- -->/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

const hit: DamageEvent = {
  type: 'damage',
  step: 10,
  schedule: 'abrupt',
  channels: 5,
  window: 8,
  lossBefore: 1.2,
  peakRise: 0.6,
  peakStep: 14,
  tolerance: 0.06,
  recoverySteps: 25,
  accBefore: 0.7,
  accAfter: 0.4,
};
const calm: DamageEvent = { ...hit, step: 30, schedule: 'sp', window: 20, peakRise: 0.01, peakStep: 40, recoverySteps: 0, accBefore: 0.72, accAfter: 0.71 };

const log: EngineEvent[] = [
  { type: 'prune', step: 10, family: 'a', channels: [1, 2], scores: [0, 0], schedule: 'abrupt' },
  { type: 'prune', step: 10, family: 'b', channels: [3, 4, 5], scores: [0, 0, 0], schedule: 'abrupt' },
  { type: 'prune', step: 50, family: 'a', channels: [6], scores: [0], schedule: 'abrupt' },
  { type: 'prune', step: 50, family: 'b', channels: [7, 8], scores: [0, 0], schedule: 'abrupt' },
  hit,
];

describe('what pruning did', () => {
  it('lists only the planned points: a Self-Rectifying replacement between them is no point of its own', () => {
    const planned = plannedPointSteps(100, { startAt: 0.1, points: 2, every: 40, target: 0.5 });
    expect([...planned!]).toEqual([10, 50]);
    const withReplacement: EngineEvent[] = [...log, { type: 'prune', step: 13, family: 'a', channels: [9], scores: [0], schedule: 'sr' }];
    const derived = reduceEvents(initialRunDerived(), withReplacement);
    expect(damageRows(toArray(derived.damage), toArray(derived.prunes), planned).map((r) => [r.step, r.kind])).toEqual([
      [10, 'measured'],
      [50, 'measuring'],
    ]);
    expect(damageRows(toArray(derived.damage), toArray(derived.prunes)).map((r) => r.step)).toEqual([10, 13, 50]);
  });

  it('one row per point: measured ones with their figures, later ones as "measuring" with their channel count', () => {
    const derived = reduceEvents(initialRunDerived(), log);
    const rows = damageRows(toArray(derived.damage), toArray(derived.prunes));
    expect(rows.map((r) => [r.step, r.kind])).toEqual([
      [10, 'measured'],
      [50, 'measuring'],
    ]);
    expect(rows[1]).toMatchObject({ channels: 3, schedule: 'abrupt' });
  });

  it('says in words what each point did', () => {
    expect(verdict(hit)).toBe(
      'The smoothed loss rose by 0.600 (50%) at once, peaking at step 14, and was back within tolerance after 25 steps. Probe accuracy 70.0% → 40.0%.',
    );
    expect(verdict(calm)).toBe('The loss stayed within its tolerance (±0.060) during its 20-step decay. Probe accuracy 72.0% → 71.0%.');
    expect(verdict({ ...hit, recoverySteps: null, accAfter: null })).toContain('had not recovered by the end of the run.');
    expect(damageHeadline([hit, calm])).toBe('2 point(s) measured. Largest loss rise 0.600 (step 10); longest recovery 25 steps.');
  });

  it('renders from a replayed log exactly as from the live one (the events pass the import schema)', () => {
    const imported = JSON.parse(JSON.stringify(log)).map((e: unknown) => engineEventSchema.parse(e)) as EngineEvent[];
    const html = text(renderToString(<DamagePanel derived={reduceEvents(initialRunDerived(), imported)} />));
    expect(html).toContain('What pruning did');
    expect(html).toContain('1 point(s) measured');
    expect(html).toMatch(/10 abrupt 1\.200 \+0\.600 25 steps 70\.0% → 40\.0%/);
    expect(html).toContain('50 abrupt 3 channel(s) selected; measuring…');
    expect(text(renderToString(<DamagePanel derived={initialRunDerived()} />))).toContain('No pruning point yet');
  });
});
