import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { EngineEvent } from '../engine/events';
import { defaultExperiment } from '../engine/experiment';
import { EVENT_SAMPLES } from './event-samples.fixture';
import { createMemoryStore } from './memory-store';
import {
  importRun,
  parseRunFile,
  RUN_FILE_FORMAT,
  runFileBlob,
  runFileFromRun,
  runFileName,
  runFileSchema,
  serializeRunFile,
  statusFromEvents,
  summaryFromEvents,
  type RunFile,
} from './run-file';
import { isQuotaError } from './types';

expectTypeOf<z.infer<typeof runFileSchema>>().toEqualTypeOf<RunFile>();

const config = (() => {
  const c = defaultExperiment();
  c.train.model = 'resnet20';
  c.prune.decaySteps = 77;
  return c;
})();

const events: EngineEvent[] = [...Object.values(EVENT_SAMPLES).filter((e) => e.type !== 'error'), { ...EVENT_SAMPLES.step, step: 121, loss: Number.NaN, imagesPerSec: Infinity, lr: -Infinity }];

function file(): RunFile {
  return runFileFromRun({ name: 'My run', createdAt: 1700000000000, config, summary: { testAcc: 0.4, steps: 120 } }, events);
}

async function error(input: string | Blob | ArrayBuffer, maxBytes?: number): Promise<string> {
  const r = await parseRunFile(input, maxBytes === undefined ? {} : { maxBytes });
  if (r.ok) throw new Error('expected the file to be refused');
  return r.error;
}

function edited(change: (f: Record<string, unknown>) => void): string {
  const f = JSON.parse(serializeRunFile(file())) as Record<string, unknown>;
  change(f);
  return JSON.stringify(f);
}

describe('run file', () => {
  it('round-trips config, every event type and non-finite metrics', async () => {
    const text = serializeRunFile(file());
    expect(text).toContain('"$nonFinite":"NaN"');
    const r = await parseRunFile(text);
    expect(r).toEqual({ ok: true, file: file() });
    const fromBlob = await parseRunFile(runFileBlob(file()));
    expect(fromBlob).toEqual(r);
    const fromBuffer = await parseRunFile(new TextEncoder().encode(text).buffer as ArrayBuffer);
    expect(fromBuffer).toEqual(r);
  });

  it('names what is wrong', async () => {
    expect(await error('{"format": ')).toMatch(/^The file is not JSON/);
    expect(await error('[1,2]')).toMatch(/holds a list/);
    expect(await error(edited((f) => delete f.format))).toMatch(/no format field/);
    expect(await error(edited((f) => (f.format = 'other-app')))).toMatch(/format is "other-app"; expected "dpm-playground-run"/);
    expect(await error(edited((f) => (f.version = 2)))).toMatch(/version 2, written by a newer/);
    expect(await error(edited((f) => delete f.version))).toMatch(/version is missing/);
    expect(await error(edited((f) => ((f.config as { train: { lr: number } }).train.lr = 50)))).toMatch(/config is invalid: train\.lr: Too big/);
    expect(await error(edited((f) => (f.events = {})))).toMatch(/events are an object, not a list/);
    expect(
      await error(edited((f) => ((f.events as Record<string, unknown>[])[3] = { ...EVENT_SAMPLES.step, loss: 'low' }))),
    ).toBe('Event 3 (type "step") is invalid: loss: expected a number.');
    expect(await error(edited((f) => ((f.events as unknown[])[5] = { type: 'warp' })))).toMatch(/^Event 5 \(type "warp"\) is invalid: type:/);
    expect(await error(edited((f) => ((f.events as unknown[])[0] = null)))).toMatch(/^Event 0 is invalid/);
    expect(await error(edited((f) => (f.summary = { testAcc: 'high' })))).toMatch(/summary\.testAcc/);
  });

  it('caps the size before reading', async () => {
    const text = serializeRunFile(file());
    expect(await error(text, 100)).toMatch(/larger than 0 MB are not imported/);
    expect(await error(new Blob([text]), 1024)).toMatch(/^The file is 0\.0 MB/);
    expect(await error(new Uint8Array([0x7b, 0xff, 0xfe]).buffer as ArrayBuffer)).toMatch(/not UTF-8/);
  });

  it('ignores nothing silently: prototype keys in JSON stay inert', async () => {
    const text = serializeRunFile(file()).replace('"name":', '"__proto__":{"polluted":1},"name":');
    const r = await parseRunFile(text);
    expect(r.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('imports into a store as a new run, all or nothing', async () => {
    const store = createMemoryStore();
    const run = await importRun(store, file());
    expect(run).toMatchObject({ name: 'My run', status: 'done', summary: { testAcc: 0.4, steps: 120 }, eventCount: events.length });
    expect(await store.loadEvents(run.id)).toEqual(events);
    expect((await store.getRun(run.id))?.config).toEqual(config);

    const tiny = createMemoryStore({ maxBytes: 200 });
    const err = await importRun(tiny, file()).catch((e: unknown) => e);
    expect(isQuotaError(err)).toBe(true);
    expect(await tiny.listRuns()).toEqual([]);
  });

  it('derives status and summary from the log', () => {
    expect(statusFromEvents(events)).toBe('done');
    expect(statusFromEvents([EVENT_SAMPLES.step])).toBe('stopped');
    expect(statusFromEvents([EVENT_SAMPLES.step, EVENT_SAMPLES.error])).toBe('error');
    expect(summaryFromEvents([EVENT_SAMPLES.epoch, EVENT_SAMPLES.step, EVENT_SAMPLES.cost, EVENT_SAMPLES.rectify])).toEqual({
      testAcc: 0.28,
      steps: 3,
      flopsFraction: 0.8,
      paramsFraction: 0.85,
      rectifications: 1,
    });
    expect(summaryFromEvents(events)).toMatchObject({ testAcc: 0.4, steps: 120, rectifications: 1, seconds: 30 });
  });

  it('names downloads safely', () => {
    expect(runFileName('ResNet-56 / 50% FLOPs!')).toBe('dpm-run-resnet-56-50-flops.json');
    expect(runFileName('???')).toBe('dpm-run-untitled.json');
    expect(RUN_FILE_FORMAT).toBe('dpm-playground-run');
  });
});
