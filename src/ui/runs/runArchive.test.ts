import { describe, expect, it } from 'vitest';
import { defaultExperiment } from '../../engine/experiment';
import type { EngineEvent } from '../../engine/events';
import { createMemoryStore } from '../../persist/memory-store';
import type { RunStore } from '../../persist/types';
import { createRunsStore } from '../../store/runsStore';
import { sampleLog } from '../../store/testLog';
import { toArray } from '../../store/series';
import { canResume, createRunArchive, type ArchivePort } from './runArchive';

function setup(live: string | null = null) {
  const store = createMemoryStore();
  const runs = createRunsStore();
  const downloads: { fileName: string; text: Promise<string> }[] = [];
  const port: ArchivePort = {
    open: async () => {
      await store.markInterrupted((id) => id === live);
      return { store, memoryOnly: 'IndexedDB is blocked in this window' };
    },
    exportRun: async (s, id) => {
      const run = await s.getRun(id);
      return { fileName: `${id}.json`, blob: new Blob([JSON.stringify({ run, events: await s.loadEvents(id) })]) };
    },
    importRun: async (s, file) => {
      const parsed = JSON.parse(await file.text()) as { run: { name: string }; events: EngineEvent[] };
      if (!Array.isArray(parsed.events)) throw new Error('not a run file');
      const rec = await s.createRun({ name: parsed.run.name, config: defaultExperiment(), status: 'done' });
      await s.appendEvents(rec.id, parsed.events);
      return rec;
    },
  };
  const archive = createRunArchive({ port, runs, liveRunId: () => live, download: (fileName, blob) => downloads.push({ fileName, text: blob.text() }) });
  return { store, runs, archive, downloads };
}

async function storedRun(store: RunStore, id: string, status: 'running' | 'done', events: EngineEvent[]) {
  await store.createRun({ id, name: `run ${id}`, config: defaultExperiment(), status });
  await store.appendEvents(id, events);
}

describe('run archive', () => {
  it('lists runs, marks dead running runs interrupted, and says it is memory only', async () => {
    const { store, archive } = setup('live');
    await storedRun(store, 'old', 'running', sampleLog(4, 2).slice(0, 5));
    await storedRun(store, 'live', 'running', []);
    await archive.refresh();
    const st = archive.state.getState();
    expect(st.memoryOnly).toContain('IndexedDB');
    const byId = Object.fromEntries(st.runs.map((r) => [r.id, r.status]));
    expect(byId).toEqual({ old: 'interrupted', live: 'running' });
  });

  it('opens a stored run by replaying its log, without training', async () => {
    const { store, runs, archive } = setup();
    const log = sampleLog(10, 5);
    await storedRun(store, 'a', 'done', log);
    await archive.open('a');
    const entry = runs.getState().runs.a;
    expect(runs.getState().activeRunId).toBe('a');
    expect(entry.live).toBe(false);
    expect(entry.derived.status).toBe('done');
    expect(toArray(entry.derived.events)).toEqual(log);
    await archive.open('missing');
    expect(archive.state.getState().error).toContain('no longer exists');
  });

  it('ticks stored runs for comparison, deletes, exports and imports', async () => {
    const { store, runs, archive, downloads } = setup();
    await storedRun(store, 'a', 'done', sampleLog(6, 3));
    await archive.setCompared('a', true);
    expect(runs.getState().comparison).toEqual(['a']);
    expect(runs.getState().runs.a.derived.epochs.length).toBe(2);

    await archive.exportRun('a');
    expect(downloads[0].fileName).toBe('a.json');
    const text = await downloads[0].text;

    await archive.remove('a');
    expect(await store.getRun('a')).toBeNull();
    expect(runs.getState().runs.a).toBeUndefined();
    expect(runs.getState().comparison).toEqual([]);

    await archive.importFile(new File([text], 'a.json'));
    expect(archive.state.getState().runs.map((r) => r.name)).toEqual(['run a']);
    expect(archive.state.getState().message).toContain('Imported');
    await archive.importFile(new File(['{"run":{},"events":5}'], 'bad.json'));
    expect(archive.state.getState().error).toBe('Could not import bad.json: not a run file');
  });

  it('records a finished run the worker could not store, from the page log', async () => {
    const { store, runs, archive } = setup();
    const log = sampleLog(6, 3);
    runs.getState().addRun({ runId: 'p', config: defaultExperiment(), name: 'page run' });
    runs.getState().appendEvents('p', log);
    await archive.recordEndedRun('p');
    const rec = await store.getRun('p');
    expect(rec?.name).toBe('page run');
    expect(rec?.status).toBe('done');
    expect(rec?.summary?.testAcc).toBe(0.72);
    expect(await store.loadEvents('p')).toEqual(log);
    expect(archive.state.getState().runs.length).toBe(1);
  });

  it('offers resume only for stopped-early runs with a checkpoint', () => {
    const base = { id: 'x', name: 'x', createdAt: 0, updatedAt: 0, config: defaultExperiment(), eventCount: 0, chunkCount: 0, hasModel: false };
    const cp = { step: 5, epoch: 1, savedAt: 1 };
    expect(canResume({ ...base, status: 'interrupted', checkpoint: cp })).toBe(true);
    expect(canResume({ ...base, status: 'interrupted' })).toBe(false);
    expect(canResume({ ...base, status: 'done', checkpoint: cp })).toBe(false);
    expect(canResume({ ...base, status: 'paused', checkpoint: cp })).toBe(true);
  });
});
