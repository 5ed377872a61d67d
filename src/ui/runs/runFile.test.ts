import { describe, expect, it } from 'vitest';
import { gzipSync, strToU8 } from 'fflate';
import { defaultExperiment } from '../../engine/experiment';
import { createMemoryStore } from '../../persist/memory-store';
import { sampleLog } from '../../store/testLog';
import { decodeRunFile, encodeRunFile, exportRunToFile, importRunFromFile, runFileName } from './runFile';

describe('run file', () => {
  it('round-trips a stored run through export and import', async () => {
    const a = createMemoryStore();
    const log = sampleLog(8, 4);
    const rec = await a.createRun({ name: 'tiny · sr', config: defaultExperiment(), status: 'done' });
    await a.appendEvents(rec.id, log);
    await a.updateRun(rec.id, { summary: { testAcc: 0.72, flopsFraction: 0.5 } });
    const { fileName, blob } = await exportRunToFile(a, rec.id);
    expect(fileName).toBe('tiny-sr.dpmrun.json');

    const b = createMemoryStore();
    const imported = await importRunFromFile(b, new File([await blob.text()], fileName));
    expect(imported.name).toBe('tiny · sr');
    expect(imported.status).toBe('done');
    expect(imported.summary?.testAcc).toBe(0.72);
    expect(await b.loadEvents(imported.id)).toEqual(log);
  });

  it('reads gzipped files and marks a run exported mid-training as interrupted', () => {
    const run = { id: 'x', name: 'x', createdAt: 5, updatedAt: 5, config: defaultExperiment(), status: 'running' as const, eventCount: 0, chunkCount: 0, hasModel: false };
    const data = decodeRunFile(gzipSync(strToU8(encodeRunFile(run, sampleLog(2, 2)))));
    expect(data.status).toBe('interrupted');
    expect(data.events.length).toBe(sampleLog(2, 2).length);
  });

  it('refuses damaged or foreign files with a clear message', () => {
    const enc = (v: unknown) => strToU8(JSON.stringify(v));
    expect(() => decodeRunFile(strToU8('hello'))).toThrow('not a run file (it is not JSON)');
    expect(() => decodeRunFile(enc({ format: 'other' }))).toThrow(/not a valid run file: format/);
    const good = JSON.parse(encodeRunFile({ id: 'x', name: 'n', createdAt: 1, updatedAt: 1, config: defaultExperiment(), status: 'done', eventCount: 0, chunkCount: 0, hasModel: false }, [])) as {
      run: { config: { train: { epochs: number } } };
      events: unknown[];
    };
    good.run.config.train.epochs = -3;
    expect(() => decodeRunFile(enc(good))).toThrow(/settings are invalid: train.epochs/);
    good.run.config.train.epochs = 3;
    good.events = [{ type: 'script', src: 'x' }];
    expect(() => decodeRunFile(enc(good))).toThrow(/events.0.type/);
    expect(() => decodeRunFile(new Uint8Array([0x1f, 0x8b, 1, 2, 3]))).toThrow('damaged');
  });

  it('makes safe file names', () => {
    const base = { id: 'x', createdAt: 1, updatedAt: 1, config: defaultExperiment(), status: 'done' as const, eventCount: 0, chunkCount: 0, hasModel: false };
    expect(runFileName({ ...base, name: '../../etc/passwd' })).toBe('etc-passwd.dpmrun.json');
    expect(runFileName({ ...base, name: '***' })).toBe('run.dpmrun.json');
  });
});
