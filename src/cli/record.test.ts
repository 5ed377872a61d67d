import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../engine/events';
import { defaultExperiment } from '../engine/experiment';
import { parseRunFile } from '../persist/run-file';
import { writeRunRecord } from './record';

describe('cli --record', () => {
  it('writes a run file the app imports: same config, same events, a summary, non-finite numbers kept', async () => {
    const config = { ...defaultExperiment(), backend: 'cpu' as const };
    const events: EngineEvent[] = [
      { type: 'backend', backend: 'cpu', requested: 'cpu' },
      { type: 'step', step: 1, epoch: 0, loss: Number.NaN, lr: 0.05, imagesPerSec: 10 },
      { type: 'done', testAcc: 0.5, flopsFraction: 0.4, paramsFraction: 0.3, rectifications: 2, steps: 1, seconds: 3 },
    ];
    const path = join(mkdtempSync(join(tmpdir(), 'dpm-record-')), 'sub', 'run.json');
    await writeRunRecord(path, config, events);
    const parsed = await parseRunFile(readFileSync(path, 'utf8'));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.file.config).toEqual(config);
    expect(parsed.file.events).toEqual(events);
    expect(parsed.file.summary).toMatchObject({ testAcc: 0.5, flopsFraction: 0.4, rectifications: 2 });
    expect(parsed.file.name).toBe('tiny · depgraph SP+SR → 50% flops · seed 1 · CLI');
  });
});
