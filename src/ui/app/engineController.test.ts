import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/events';
import { defaultExperiment } from '../../engine/experiment';
import { createRunsStore } from '../../store/runsStore';
import { createSessionStore } from '../../store/sessionStore';
import { toArray } from '../../store/series';
import { EngineCrashedError, type EngineClientHandlers } from '../../worker/client';
import type { StartRequest, WeightsReport } from '../../worker/protocol';
import { createEngineController, type ClientFactory } from './engineController';

const REPORT: WeightsReport = {
  name: 'r20.th', url: '', sha256: 'ab'.repeat(32), bytes: 1000, model: 'resnet20', label: 'ResNet-20 (option-B shortcuts)', format: 'pytorch', path: '', strippedModulePrefix: false,
  matched: 120, missing: [], unexpected: [], misShaped: [], folded: 0, ignored: 0, normalization: { mean: [0, 0, 0], std: [1, 1, 1] }, normalizationSource: 'given',
};

/** A stand-in worker: each start() plays a few events and waits for the test to end it. */
class FakeEngine {
  handlers: EngineClientHandlers | null = null;
  starts: StartRequest[] = [];
  expects: (string | undefined)[] = [];
  running: string | null = null;
  created = 0;
  stopped = 0;
  private finish: (() => void) | null = null;
  private fail: ((e: Error) => void) | null = null;

  factory: ClientFactory = (handlers) => {
    this.handlers = handlers;
    this.created++;
    return {
      start: (req) => {
        this.starts.push(req);
        this.running = req.runId;
        handlers.onEvents(req.runId, [
          { type: 'backend', backend: 'cpu', requested: req.config.backend },
          { type: 'status', phase: 'training', message: 'go', progress: 0 },
          { type: 'step', step: 1, epoch: 1, loss: 2, lr: 0.1, imagesPerSec: 10 },
        ]);
        return new Promise<void>((resolve, reject) => {
          this.finish = resolve;
          this.fail = reject;
        });
      },
      pause: async () => undefined,
      resume: async () => undefined,
      stop: async () => {
        this.stopped++;
        this.end();
      },
      loadFiles: async (files) => {
        if (files.some((f) => f.name.endsWith('.txt'))) throw new Error('batches.meta.txt: not a CIFAR-10 binary file');
        return { name: 'cifar10', train: 10, test: 2, files: files.map((f) => ({ name: f.name, records: 10 })), warnings: [] };
      },
      importWeights: async (source, _config, expectSha256) => {
        this.expects.push(expectSha256);
        const name = 'file' in source ? source.file.name : source.url;
        if (name.includes('bad')) throw new Error(`${name}: does not fit ResNet-20`);
        return {
          report: { ...REPORT, name, url: 'url' in source ? source.url : '' },
          evaluation: { acc: 0.25, loss: 2, images: 100 },
        };
      },
      importRunWeights: async (runId, _config, expectSha256) => {
        this.expects.push(expectSha256);
        if (runId === 'unfinished') throw new Error('the run is stopped: only a finished run has a final model (resume it to the end first)');
        return { report: { ...REPORT, name: `${runId}-slim.safetensors`, model: 'tiny', label: 'tiny' }, evaluation: { acc: 0.5, loss: 1, images: 20 } };
      },
      exportModel: async (req) => {
        if (req.runId === 'unfinished') throw new Error('the run is stopped: only a finished run has a final model (resume it to the end first)');
        return [{ name: `${req.runId}-${req.variant}.${req.format}`, type: 'application/octet-stream', bytes: new Uint8Array([1, 2, 3]) }];
      },
      clearWeights: async () => undefined,
      dispose: () => undefined,
    };
  };

  emit(events: EngineEvent[], runId = this.running) {
    this.handlers?.onEvents(runId, events);
  }
  end() {
    this.emit([{ type: 'status', phase: 'done', message: 'done', progress: 1 }]);
    this.finish?.();
  }
  crash(message: string) {
    this.handlers?.onCrash(message);
    this.fail?.(new EngineCrashedError(message));
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const immediate = (fn: () => void) => {
  queueMicrotask(fn);
  return () => undefined;
};

function setup() {
  const fake = new FakeEngine();
  const runs = createRunsStore();
  const session = createSessionStore();
  let n = 0;
  const ended: string[] = [];
  const started: string[] = [];
  const downloads: { name: string; blob: Blob }[] = [];
  const controller = createEngineController({
    download: (name, blob) => downloads.push({ name, blob }),
    createClient: fake.factory,
    runs,
    session,
    newRunId: () => `run-${++n}`,
    onRunEnded: (id) => ended.push(id),
    onRunStarted: (id) => started.push(id),
    scheduler: immediate,
    loadStoredEvents: async () => [{ type: 'step', step: 5, epoch: 1, loss: 1, lr: 0.1, imagesPerSec: 3 }],
  });
  return { fake, runs, session, controller, ended, started, downloads };
}

describe('engine controller', () => {
  it('routes a run’s events into its store entry and tidies up when it ends', async () => {
    const { fake, runs, session, controller, ended, started } = setup();
    const done = controller.startRun(defaultExperiment());
    await tick();
    expect(session.getState().engineRunId).toBe('run-1');
    expect(runs.getState().activeRunId).toBe('run-1');
    expect(runs.getState().runs['run-1'].derived.latestStep).toBe(1);
    expect(session.getState().backend?.backend).toBe('cpu');
    fake.end();
    await done;
    expect(runs.getState().runs['run-1'].derived.status).toBe('done');
    expect(runs.getState().runs['run-1'].live).toBe(false);
    expect(session.getState().engineRunId).toBeNull();
    expect(ended).toEqual(['run-1']);
    expect(started).toEqual(['run-1']);
  });

  it('runs the schedule comparison one run after another and stop drops the rest', async () => {
    const { fake, runs, session, controller } = setup();
    const done = controller.compareSchedules(defaultExperiment());
    await tick();
    expect(fake.starts.map((s) => s.config.prune.schedule)).toEqual(['abrupt']);
    expect(session.getState().queue).toMatchObject({ index: 0, runIds: ['run-1', 'run-2', 'run-3'] });
    expect(runs.getState().comparison).toEqual(['run-1', 'run-2', 'run-3']);
    fake.end();
    await tick();
    expect(fake.starts.map((s) => s.config.prune.schedule)).toEqual(['abrupt', 'sp']);
    expect(session.getState().queue?.index).toBe(1);
    // A straggling event of the first run, arriving after the second started, stays with the first.
    fake.emit([{ type: 'step', step: 9, epoch: 1, loss: 1, lr: 0.1, imagesPerSec: 1 }], 'run-1');
    await tick();
    expect(runs.getState().runs['run-1'].derived.latestStep).toBe(9);
    expect(runs.getState().runs['run-2'].derived.latestStep).toBe(1);
    controller.stop();
    await done;
    expect(fake.starts.length).toBe(2);
    expect(session.getState().queue).toBeNull();
    expect(fake.stopped).toBe(1);
  });

  it('turns a worker crash into an error and uses a new worker next time', async () => {
    const { fake, runs, session, controller } = setup();
    const done = controller.startRun(defaultExperiment());
    await tick();
    fake.crash('out of memory');
    await done;
    expect(session.getState().engineError).toContain('out of memory');
    const run = runs.getState().runs['run-1'].derived;
    expect(run.status).toBe('error');
    expect(toArray(run.errors)[0].message).toContain('out of memory');
    const again = controller.startRun(defaultExperiment());
    await tick();
    expect(fake.created).toBe(2);
    expect(session.getState().engineError).toBeNull();
    fake.end();
    await again;
  });

  it('resumes a stored run: its log is loaded first, then the engine continues it', async () => {
    const { fake, runs, controller } = setup();
    const config = defaultExperiment();
    const done = controller.resumeRun({ runId: 'old', config, name: 'old run', createdAt: 1 });
    await tick();
    expect(fake.starts[0]).toMatchObject({ runId: 'old', resume: true });
    const events = toArray(runs.getState().runs.old.derived.events);
    expect(events[0]).toMatchObject({ type: 'step', step: 5 });
    expect(events.length).toBe(4);
    fake.end();
    await done;
  });

  it('reports a data file problem and keeps the data set it had', async () => {
    const { session, controller } = setup();
    await controller.loadFiles([new File([new Uint8Array(4)], 'data_batch_1.bin')]);
    expect(session.getState().dataset).toMatchObject({ state: 'ready', summary: { train: 10 } });
    expect(session.getState().config.data.dataset).toBe('cifar10');
    await controller.loadFiles([new File(['x'], 'batches.meta.txt')]);
    const ds = session.getState().dataset;
    expect(ds.state).toBe('error');
    if (ds.state === 'error') {
      expect(ds.message).toContain('not a CIFAR-10 binary file');
      expect(ds.previous?.train).toBe(10);
    }
  });

  it('imports weights into the experiment, and keeps them when a later import is refused', async () => {
    const { fake, session, controller } = setup();
    await controller.importWeights({ file: new File([new Uint8Array(4)], 'r20.th') });
    expect(session.getState().weights).toMatchObject({ state: 'ready', result: { report: { model: 'resnet20' }, evaluation: { acc: 0.25 } } });
    expect(session.getState().config.train).toMatchObject({ model: 'resnet20', initSha256: 'ab'.repeat(32), initName: 'r20.th', initUrl: '' });
    await controller.importWeights({ url: 'bad.th' });
    const w = session.getState().weights;
    expect(w).toMatchObject({ state: 'error', source: 'bad.th', message: 'bad.th: does not fit ResNet-20' });
    if (w.state === 'error') expect(w.previous?.report.name).toBe('r20.th');
    expect(session.getState().config.train.initName).toBe('r20.th');
    await controller.clearWeights();
    expect(session.getState().weights.state).toBe('none');
    expect(session.getState().config.train).toMatchObject({ initSha256: '', initName: '', initUrl: '', model: 'resnet20' });
    // Replacing loaded weights is free; a link's hash binds until its file is loaded.
    expect(fake.expects).toEqual([undefined, undefined]);
    session.getState().setConfig({ ...defaultExperiment(), train: { ...defaultExperiment().train, initSha256: 'cd'.repeat(32) } });
    await controller.importWeights({ file: new File([new Uint8Array(4)], 'r20.th') });
    expect(fake.expects[2]).toBe('cd'.repeat(32));
  });

  it('starts from an earlier run like from a dropped file, and a refusal keeps the weights before', async () => {
    const { session, controller } = setup();
    await controller.importWeights({ run: { id: 'r1', name: 'tiny · dense' } });
    expect(session.getState().weights).toMatchObject({ state: 'ready', result: { report: { name: 'r1-slim.safetensors' }, evaluation: { acc: 0.5 } } });
    expect(session.getState().config.train).toMatchObject({ model: 'tiny', initName: 'r1-slim.safetensors', initSha256: 'ab'.repeat(32), initUrl: '' });
    await controller.importWeights({ run: { id: 'unfinished', name: 'tiny · stopped' } });
    expect(session.getState().weights).toMatchObject({ state: 'error', source: 'run “tiny · stopped”', message: expect.stringContaining('only a finished run') as unknown, previous: { report: { name: 'r1-slim.safetensors' } } });
    expect(session.getState().config.train.initName).toBe('r1-slim.safetensors');
  });

  it('downloads what the engine exports, and passes its refusal on', async () => {
    const { controller, downloads } = setup();
    expect(await controller.exportModel({ runId: 'r1', variant: 'slim', format: 'onnx' })).toEqual(['r1-slim.onnx']);
    expect(downloads.map((d) => d.name)).toEqual(['r1-slim.onnx']);
    expect(new Uint8Array(await downloads[0].blob.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    await expect(controller.exportModel({ runId: 'unfinished', variant: 'dense', format: 'safetensors' })).rejects.toThrow('only a finished run');
    expect(downloads).toHaveLength(1);
  });
});
