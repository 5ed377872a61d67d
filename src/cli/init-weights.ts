import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CIFAR10_TEST_FILE, parseCifarBatch } from '../engine/data/cifar-binary';
import { loadPath } from '../engine/data/load-path';
import { syntheticDataset } from '../engine/data/synthetic';
import type { ImageSplit } from '../engine/data/types';
import type { ExperimentConfig } from '../engine/experiment';
import { exportOnnx } from '../engine/export/onnx';
import { exportTorch } from '../engine/export/torch-export';
import type { Architecture } from '../engine/import/layouts';
import { importStateDict, parseNormalization, type ImportedModel } from '../engine/import/import-weights';
import { readCheckpointPath } from '../engine/import/read-path';
import { disposeModel, initParams, type Model } from '../engine/models/graph';
import { writeWeights } from '../engine/train/checkpoint';
import { evaluate } from '../engine/train/evaluate';
import { UsageError, type Flags } from './args';
import { setupNodeBackend } from './node-backend';

type Out = (o: object, text: string) => void;

/**
 * `--init PATH`: a PyTorch or safetensors checkpoint as the starting weights. The network comes
 * from the checkpoint; `--model`, when given, must name the same network (resnet56 accepts
 * either shortcut option). `--input-norm` sets the input normalisation it was trained with.
 */
export async function loadInit(flags: Flags, out: Out): Promise<ImportedModel> {
  if (!flags.init) throw new UsageError('--init PATH is required');
  let normalization;
  try {
    normalization = flags['input-norm'] ? parseNormalization(flags['input-norm']) : undefined;
  } catch (e) {
    throw new UsageError(`--input-norm: ${(e as Error).message}`);
  }
  const read = await readCheckpointPath(flags.init);
  const imported = importStateDict(flags.init, read, { normalization, expect: flags.model });
  const { report } = imported;
  const fmt = (v: number[]) => v.map((x) => x.toFixed(4)).join(',');
  out(
    {
      type: 'import',
      file: flags.init,
      model: imported.def.name,
      label: imported.label,
      format: read.format,
      path: read.path,
      strippedModulePrefix: read.strippedModulePrefix,
      matched: report.matched.length,
      missing: report.missing.length,
      unexpected: report.unexpected.length,
      misShaped: report.misShaped.length,
      folded: report.folded.length,
      ignored: report.ignored.length,
      normalization: imported.normalization,
      normalizationSource: imported.normalizationSource,
    },
    `imported ${flags.init}: ${imported.label}, ${report.matched.length} keys matched${read.path ? ` (under "${read.path}")` : ''}${read.strippedModulePrefix ? ', "module." prefix removed' : ''}${report.folded.length ? `, ${report.folded.length} conv biases folded into BN` : ''}; input normalisation mean ${fmt(imported.normalization.mean)} std ${fmt(imported.normalization.std)} [${imported.normalizationSource}]`,
  );
  return imported;
}

/** `eval`: the imported network's test accuracy, no training; needs only the test split. */
export async function evalCommand(config: ExperimentConfig, flags: Flags, out: Out): Promise<number> {
  const backend = await setupNodeBackend(config.backend);
  const imported = await loadInit(flags, out);
  let test = await loadTestSplit(config, flags);
  const n = config.data.testLimit;
  if (n > 0 && n < test.count) test = { images: test.images.subarray(0, n * 3072), labels: test.labels.subarray(0, n), count: n };
  const model = initParams(imported.def, config.train.seed);
  const started = performance.now();
  try {
    writeWeights(model.vars, imported.weights);
    const { acc, loss } = await evaluate(model, test, Math.min(256, config.train.batchSize * 4));
    const seconds = (performance.now() - started) / 1000;
    if (flags['export-safetensors']) await writeTorchExport(flags['export-safetensors'], model, imported.arch, out);
    if (flags['export-onnx']) await writeOnnxExport(flags['export-onnx'], model, out);
    out(
      { type: 'summary', model: imported.def.name, label: imported.label, testAcc: acc, testLoss: loss, images: test.count, seconds, backend },
      `${imported.label}: test accuracy ${(acc * 100).toFixed(2)}% (loss ${loss.toFixed(4)}) on ${test.count} images in ${seconds.toFixed(1)} s on ${tf.getBackend()}`,
    );
    return 0;
  } finally {
    disposeModel(model);
  }
}

/** The test split alone: a test_batch.bin file or a folder holding one need no training batches. */
async function loadTestSplit(config: ExperimentConfig, flags: Flags): Promise<ImageSplit> {
  if (config.data.dataset === 'synthetic') {
    const size = config.data.syntheticSize;
    return syntheticDataset({ seed: config.train.seed, trainSize: 100, testSize: Math.max(100, Math.round(size / 5)) }).test;
  }
  if (!flags.data) throw new UsageError('--dataset cifar10 needs --data PATH (test_batch.bin, a folder holding it, or cifar-10-binary.tar.gz)');
  for (const candidate of [flags.data, join(flags.data, CIFAR10_TEST_FILE), join(flags.data, 'cifar-10-batches-bin', CIFAR10_TEST_FILE)]) {
    if (!candidate.endsWith('.bin')) continue;
    const s = await stat(candidate).catch(() => null);
    if (s?.isFile()) {
      const buf = await readFile(candidate);
      return parseCifarBatch(candidate, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    }
  }
  const { dataset, summary } = await loadPath(flags.data);
  for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
  return dataset.test;
}

/**
 * `--export-safetensors PATH`: the model under PyTorch's key names, and PATH with .json for
 * the manifest (kept channels, option-A padding, normalisation; docs/import.md rebuilds the
 * network from the two).
 */
export async function writeTorchExport(path: string, model: Model, arch: Architecture | undefined, out: Out): Promise<void> {
  const { safetensors, manifest } = await exportTorch(model, arch);
  const json = path.replace(/\.safetensors$/, '') + '.json';
  await writeFile(path, safetensors);
  await writeFile(json, `${JSON.stringify(manifest, null, 2)}\n`);
  out({ type: 'export', path, manifest: json, bytes: safetensors.length }, `exported ${manifest.model} to ${path} (${(safetensors.length / 2 ** 20).toFixed(1)} MB) and ${json}`);
}

/**
 * `--export-onnx PATH`: the model in eval mode as ONNX (BN folded into the convs): input
 * "input" NCHW [N,3,32,32] normalised as the app normalises, output "logits" [N,10].
 */
export async function writeOnnxExport(path: string, model: Model, out: Out): Promise<void> {
  const onnx = await exportOnnx(model);
  await writeFile(path, onnx);
  out({ type: 'export', format: 'onnx', path, bytes: onnx.length }, `exported ${model.def.name} to ${path} (ONNX, ${(onnx.length / 2 ** 20).toFixed(1)} MB)`);
}
