/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { selectBackend, watchDeviceLoss } from '../engine/backend';
import { loadFiles } from '../engine/data/load-files';
import { loadFromUrl } from '../engine/data/load-url';
import { syntheticDataset } from '../engine/data/synthetic';
import { DataError, type Dataset } from '../engine/data/types';
import type { EngineEvent } from '../engine/events';
import type { ExperimentConfig } from '../engine/experiment';
import { exportLayersModel } from '../engine/export/layers-model';
import { exportBaseName, exportFinal, layersModelFiles, type ExportedFile, type FinalModel } from '../engine/export/final-model';
import { disposeModel } from '../engine/models/graph';
import { RunControl } from '../engine/train/control';
import { runExperiment } from '../engine/train/run';
import { describeFailure } from '../engine/train/failure';
import { createEventWriter, holdRunLock, openRunStore, type CheckpointRecord, type RunStore } from '../persist';
import type { Checkpoint } from '../engine/train/checkpoint';
import type { PruningState } from '../engine/pruning/types';
import { EventBatcher } from './event-batcher';
import type { DataFile, DatasetSummary, EngineApi, ExportRequest, RunWeightsRequest, StartRequest, WeightsRequest, WeightsResult } from './protocol';
import { finalCheckpoint, finalOfRun, type StoredFinal } from './run-exports';
import { evaluateImported, fetchCheckpoint, importWeightBytes, nameFromUrl, type ImportedWeights } from '../engine/import/start-weights';
import { limitSplit } from '../engine/train/run';
import { errorMessage } from '../engine/error-message';
import { runName } from '../store/compare';

let listener: ((events: EngineEvent[]) => void) | null = null;
const batcher = new EventBatcher((events) => listener?.(events));
let uploaded: Dataset | null = null;
let synthetic: { key: string; data: Dataset } | null = null;
let control: RunControl | null = null;
/** The last run this worker finished, kept for its exports (also stored, for after a reload). */
let finished: { runId: string; name: string; final: FinalModel } | null = null;
let storePromise: Promise<RunStore | null> | null = null;
/** The imported starting weights, with the bytes they came from (re-imported if the normalisation changes). */
let weights: (ImportedWeights & { bytes: Uint8Array; inputNorm: string }) | null = null;

/** Fetches or takes the bytes, checks the hash the config names, imports. Leaves `weights` alone on failure. */
async function importWeights(req: WeightsRequest): Promise<ImportedWeights & { bytes: Uint8Array; inputNorm: string }> {
  const t = req.config.train;
  const bytes = req.file ? new Uint8Array(req.file.bytes) : await fetchCheckpoint(req.url ?? '', req.pageUrl);
  const name = req.file?.name ?? nameFromUrl(req.url ?? '');
  const done = await importWeightBytes(bytes, { name, url: req.file ? '' : req.url, inputNorm: t.inputNorm, expectSha256: req.expectSha256 });
  return { ...done, bytes, inputNorm: t.inputNorm };
}

/**
 * The starting weights a run's config names, or null for a seeded start. Reuses the imported
 * ones when they match; fetches a URL again (a shared link); a hash-only config whose file
 * was never supplied is refused with the file's name and hash.
 */
async function weightsFor(config: ExperimentConfig, emit: (e: EngineEvent) => void, pageUrl: string | undefined): Promise<ImportedWeights | null> {
  const t = config.train;
  if (!t.initUrl && !t.initSha256) return null;
  const matches = weights && (!t.initSha256 || weights.report.sha256 === t.initSha256) && (!t.initUrl || weights.report.url === t.initUrl || weights.report.sha256 === t.initSha256);
  if (matches && weights!.inputNorm === t.inputNorm) return weights;
  if (matches) {
    weights = { ...(await importWeightBytes(weights!.bytes, { name: weights!.report.name, url: weights!.report.url, inputNorm: t.inputNorm })), bytes: weights!.bytes, inputNorm: t.inputNorm };
    return weights;
  }
  if (!t.initUrl) {
    throw new DataError(t.initName || 'starting weights', `this experiment starts from the checkpoint ${t.initName ? `"${t.initName}" ` : ''}with SHA-256 ${t.initSha256}, which is not loaded: supply that file under "Start from weights"`);
  }
  emit({ type: 'status', phase: 'building-model', message: `fetching the starting weights from ${t.initUrl}` });
  // Relative URLs resolve against the page (which may live under any sub-path), not the worker.
  weights = await importWeights({ url: t.initUrl, pageUrl: pageUrl ?? new URL('..', self.location.href).href, config, expectSha256: t.initSha256 || undefined });
  return weights;
}

function store(): Promise<RunStore | null> {
  storePromise ??= openRunStore().then((s) => ('unavailable' in s ? null : s));
  return storePromise;
}

async function datasetFor(config: ExperimentConfig, emit: (e: EngineEvent) => void, pageUrl: string | undefined): Promise<Dataset> {
  const d = config.data;
  if (d.dataset === 'synthetic') {
    const key = `${config.train.seed}/${d.syntheticSize}`;
    if (synthetic?.key !== key) {
      emit({ type: 'status', phase: 'loading-data', message: `generating ${d.syntheticSize} synthetic images` });
      synthetic = { key, data: syntheticDataset({ seed: config.train.seed, trainSize: d.syntheticSize, testSize: Math.max(100, Math.round(d.syntheticSize / 5)) }) };
    }
    return synthetic.data;
  }
  const label = d.dataset === 'fashion-mnist' ? 'Fashion-MNIST' : 'CIFAR-10';
  if (d.url) {
    emit({ type: 'status', phase: 'loading-data', message: `downloading ${label} from ${d.url}`, progress: 0 });
    uploaded = await loadFromUrl(d.url, (fraction, message) => emit({ type: 'status', phase: 'loading-data', message, progress: fraction }), { dataset: d.dataset, pageUrl });
    return uploaded;
  }
  const drop = d.dataset === 'fashion-mnist' ? 'the four Fashion-MNIST .gz files (train-images-idx3-ubyte.gz …)' : 'cifar-10-binary.tar.gz (or the .bin files)';
  if (!uploaded) throw new DataError(label, `no ${label} files are loaded: drop ${drop} on the page, or give a URL`);
  if (uploaded.name !== d.dataset) throw new DataError(label, `the files loaded are ${uploaded.name}, not ${label}: drop ${drop} on the page, or give a URL`);
  return uploaded;
}

const api: EngineApi = {
  importWeights: importAndEvaluate,

  async importRunWeights(req: RunWeightsRequest): Promise<WeightsResult> {
    if (control) throw new Error('a run is in progress: stop it before loading other weights');
    const { name, final, why } = await finalFor(req.runId);
    if (!final) throw new Error(why);
    // Exactly the bytes "Export safetensors" gives for the slimmed network: the hash a shared
    // link records then names a file that can be exported on the machine that has the run.
    const [file] = await exportFinal(final, 'slim', 'safetensors', exportBaseName(name, 'slim'));
    return importAndEvaluate({ file: { name: file.name, bytes: ownBuffer(file.bytes) }, pageUrl: req.pageUrl, config: req.config, expectSha256: req.expectSha256 });
  },

  async exportModel(req: ExportRequest): Promise<ExportedFile[]> {
    if (control) throw new Error('a run is in progress: export once it has finished or been stopped');
    const { name, final, why } = await finalFor(req.runId);
    let files: ExportedFile[];
    if (final) files = await exportFinal(final, req.variant, req.format, exportBaseName(name, req.variant));
    else {
      // A run finished before final weights were kept: its slimmed tfjs model may be all there is.
      const stored = req.format === 'tfjs' && req.variant === 'slim' ? await (await store())?.loadModel(req.runId) : null;
      if (!stored) throw new Error(why);
      files = layersModelFiles(stored, exportBaseName(name, 'slim'));
    }
    return Comlink.transfer(files, [...new Set(files.map((f) => f.bytes.buffer as ArrayBuffer))]);
  },

  clearWeights() {
    weights = null;
  },

  async loadFiles(files: DataFile[]): Promise<DatasetSummary> {
    const emit = (e: EngineEvent) => batcher.push(e);
    emit({ type: 'status', phase: 'loading-data', message: `reading ${files.map((f) => f.name).join(', ')}` });
    const { dataset, summary } = loadFiles(files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) })));
    uploaded = dataset;
    return { name: dataset.name, train: dataset.train.count, test: dataset.test.count, files: summary.files, warnings: summary.warnings };
  },

  async start(req: StartRequest): Promise<void> {
    if (control) throw new Error('a run is already in progress: stop it first');
    control = new RunControl();
    // The lock tells a later page load that this run was alive (not interrupted) while it is held.
    return holdRunLock(req.runId, () => runOnce(req, control!)).finally(() => {
      batcher.flush();
      control = null;
    });
  },

  pause() {
    control?.pause();
  },
  resume() {
    control?.resume();
    batcher.push({ type: 'status', phase: 'training', message: 'resumed' });
  },
  stop() {
    control?.stop();
  },
  listen(fn) {
    listener = fn;
  },
};

async function importAndEvaluate(req: WeightsRequest): Promise<WeightsResult> {
  if (control) throw new Error('a run is in progress: stop it before loading other weights');
  const next = await importWeights(req);
  weights = next;
  let evaluation: WeightsResult['evaluation'];
  try {
    await selectBackend(req.config.backend);
    const dataset = await datasetFor(req.config, (e) => batcher.push(e), req.pageUrl);
    evaluation = await evaluateImported(next.imported, limitSplit(dataset.test, req.config.data.testLimit));
  } catch (e) {
    evaluation = { error: describe(e) };
  }
  return { report: next.report, evaluation };
}

/** The final model of a finished run: the one this worker just ran, or the stored one (or why there is none). */
async function finalFor(runId: string): Promise<StoredFinal> {
  const runStore = await store();
  // The page renames a run when it ends: file names follow the name the runs list shows.
  if (finished?.runId === runId) return { ...finished, name: (await runStore?.getRun(runId))?.name ?? finished.name, why: '' };
  return finalOfRun(runStore, runId);
}

const ownBuffer = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

async function runOnce(req: StartRequest, ctl: RunControl): Promise<void> {
  const { runId, config } = req;
  const runStore = await store();
  const writer = runStore
    ? createEventWriter(runStore, runId, {
        onError: (e) => batcher.push({ type: 'error', message: `could not save events: ${describe(e)}`, recoverable: true, hint: 'the run goes on in memory; free some storage to keep it' }),
      })
    : null;
  const emit = (e: EngineEvent) => {
    batcher.push(e);
    writer?.push([e]);
    if (e.type === 'epoch' || e.type === 'checkpoint') void writer?.flush();
  };
  finished = null;
  try {
    const stored = req.resume && runStore ? await runStore.loadCheckpoint(runId) : null;
    if (req.resume && !stored) throw new Error('this run has no checkpoint to resume from');
    if (runStore && !req.resume) await runStore.createRun({ id: runId, name: runName(config), config, status: 'running' });
    else await runStore?.updateRun(runId, { status: 'running' });
    const choice = await selectBackend(config.backend);
    emit({ type: 'backend', backend: choice.backend, requested: config.backend, notice: choice.notice });
    watchDeviceLoss((message) => {
      emit({ type: 'error', message, recoverable: true, hint: 'your progress up to the last checkpoint is saved: resume the run (WebGPU again, or pick another backend)' });
      ctl.stop();
    });
    const dataset = await datasetFor(config, emit, req.pageUrl);
    const start = await weightsFor(config, emit, req.pageUrl);
    if (start && start.imported.def.name !== config.train.model) {
      throw new DataError(start.report.name, `holds a ${start.report.label}, but the experiment's model is ${config.train.model}: pick ${start.report.model}, or clear the starting weights`);
    }
    const summary = await runExperiment(config, {
      dataset,
      modelDef: start?.imported.def,
      initWeights: start?.imported.weights,
      emit,
      backend: choice.backend,
      control: ctl,
      resumeFrom: stored ? fromRecord(stored) : undefined,
      keepFinal: true,
      saveCheckpoint: runStore
        ? async (cp) => {
            await writer?.flush();
            await runStore.saveCheckpoint(runId, toRecord(cp));
            return `${runId}@${cp.step}`;
          }
        : undefined,
    });
    if (summary.slimModel) {
      try {
        if (runStore) await runStore.saveModel(runId, await exportLayersModel(summary.slimModel));
      } finally {
        disposeModel(summary.slimModel);
      }
    }
    if (summary.final) {
      const final: FinalModel = { ...summary.final, arch: start?.imported.arch };
      finished = { runId, name: runName(config), final };
      // Replaces the last resume checkpoint: a finished run is not resumed, it is exported.
      await runStore?.saveCheckpoint(runId, finalCheckpoint(final, { step: summary.steps, epoch: config.train.epochs, rectifications: summary.rectifications, elapsedSeconds: summary.seconds })).catch((e: unknown) => {
        emit({ type: 'error', message: `could not store the final weights: ${describe(e)}`, recoverable: true, hint: 'exports work until the page reloads; free some storage to keep them' });
      });
    }
    await writer?.close();
    await runStore?.updateRun(runId, {
      status: summary.stopped ? 'stopped' : 'done',
      summary: { testAcc: summary.testAcc, flopsFraction: summary.flopsFraction, paramsFraction: summary.paramsFraction, rectifications: summary.rectifications, steps: summary.steps, seconds: summary.seconds },
    });
  } catch (e) {
    const failure = describeFailure(e, config);
    emit({ type: 'error', message: failure.message, recoverable: failure.recoverable, hint: failure.hint });
    emit({ type: 'status', phase: 'error', message: failure.message });
    await writer?.close().catch(() => undefined);
    await runStore?.updateRun(runId, { status: 'error', summary: { message: failure.message } }).catch(() => undefined);
    throw new Error(failure.message, { cause: e });
  }
}

function toRecord(cp: Checkpoint): Omit<CheckpointRecord, 'savedAt'> {
  return { step: cp.step, epoch: cp.epoch, weights: cp.weights, optimizer: cp.optimizer, pruning: cp.pruning, rng: null, extra: { rectifications: cp.rectifications, elapsedSeconds: cp.elapsedSeconds } };
}

function fromRecord(r: CheckpointRecord): Checkpoint {
  const extra = (r.extra ?? {}) as { rectifications?: number; elapsedSeconds?: number };
  return { step: r.step, epoch: r.epoch, weights: r.weights, optimizer: r.optimizer, pruning: r.pruning as PruningState, rectifications: extra.rectifications ?? 0, elapsedSeconds: extra.elapsedSeconds ?? 0 };
}

function describe(e: unknown): string {
  return errorMessage(e);
}

Comlink.expose(api);
