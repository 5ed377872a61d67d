import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { EngineEvent } from '../engine/events';
import { EVENT_SAMPLES } from './event-samples.fixture';
import { ENGINE_EVENT_TYPES, engineEventSchema } from './event-schema';

type Parsed = z.infer<typeof engineEventSchema>;

// Compile-time: tsc fails if the schema and the union drift apart, in either direction.
expectTypeOf<Parsed>().toEqualTypeOf<EngineEvent>();
const toEvent = (e: Parsed): EngineEvent => e;
const toParsed = (e: EngineEvent): Parsed => e;

describe('engine event schema', () => {
  it('has exactly the event types of the union', () => {
    expect([...ENGINE_EVENT_TYPES].sort()).toEqual(Object.keys(EVENT_SAMPLES).sort());
  });

  it('accepts every event type unchanged', () => {
    for (const sample of Object.values(EVENT_SAMPLES)) {
      expect(toEvent(engineEventSchema.parse(toParsed(sample)))).toEqual(sample);
    }
  });

  it('accepts non-finite metrics, which a diverged run produces', () => {
    const e = { ...EVENT_SAMPLES.step, loss: Number.NaN, imagesPerSec: Infinity };
    expect(engineEventSchema.parse(e)).toEqual(e);
  });

  it('rejects wrong shapes with the offending field in the path', () => {
    const cases: [unknown, string][] = [
      [{ ...EVENT_SAMPLES.step, loss: '2.1' }, 'loss'],
      [{ ...EVENT_SAMPLES.step, step: -1 }, 'step'],
      [{ ...EVENT_SAMPLES.prune, schedule: 'gradual' }, 'schedule'],
      [{ ...EVENT_SAMPLES.status, phase: 'dreaming' }, 'phase'],
      [{ ...EVENT_SAMPLES.removed, channels: [1, 2.5] }, 'channels.1'],
      [{ ...EVENT_SAMPLES.model, dense: { params: 1 } }, 'dense.flops'],
      [{ type: 'teleport' }, 'type'],
      [{ ...EVENT_SAMPLES.error, recoverable: 'no' }, 'recoverable'],
    ];
    for (const [value, path] of cases) {
      const r = engineEventSchema.safeParse(value);
      expect(r.success, path).toBe(false);
      expect(r.error?.issues[0].path.join('.'), path).toBe(path);
    }
  });
});
