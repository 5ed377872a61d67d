import { describe, expect, it } from 'vitest';
import { defaultExperiment } from '../../engine/experiment';
import { createMemoryStore } from '../../persist';
import { sampleLog } from '../../store/testLog';
import { pagePort } from './archive';

describe('page archive port', () => {
  it('falls back to memory with a reason where there is no IndexedDB (Node)', async () => {
    const { store, memoryOnly } = await pagePort.open();
    expect(store.kind).toBe('memory');
    expect(memoryOnly).toMatch(/IndexedDB/);
  });

  it('exports a run file that imports back with the same log', async () => {
    const a = createMemoryStore();
    const log = sampleLog(6, 3);
    const run = await a.createRun({ name: 'tiny · SP+SR', config: defaultExperiment(), status: 'done' });
    await a.appendEvents(run.id, log);
    const { fileName, blob } = await pagePort.exportRun(a, run.id);
    expect(fileName).toMatch(/\.json$/);
    const b = createMemoryStore();
    const imported = await pagePort.importRun(b, new File([await blob.text()], fileName));
    expect(imported.name).toBe('tiny · SP+SR');
    expect(imported.status).toBe('done');
    expect(await b.loadEvents(imported.id)).toEqual(log);
    await expect(pagePort.importRun(b, new File(['{"format":"nope"}'], 'x.json'))).rejects.toThrow();
    await expect(pagePort.exportRun(a, 'missing')).rejects.toThrow('no longer exists');
  });
});
