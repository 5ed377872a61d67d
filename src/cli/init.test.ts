import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { makeEvalBatch } from '../engine/data/batches';
import { encodeCifarBatch } from '../engine/data/cifar-binary';
import { createRng } from '../engine/data/rng';
import { importCheckpoint, normalizationOf } from '../engine/import/import-weights';
import { writeTorchZip, type PickleValue } from '../engine/import/torch-fixture';
import { MODELS } from '../engine/models';
import { disposeModel, forward, initParams } from '../engine/models/graph';
import { writeWeights } from '../engine/train/checkpoint';
import { referenceResnet, torchResnetState, type TorchState } from '../engine/import/torch-reference';
import * as tf from '@tensorflow/tfjs';
import { syntheticDataset } from '../engine/data/synthetic';
import { exportTorch } from '../engine/export/torch-export';
import { schedulePath } from './compare';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 240_000 });

const lines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);

function torchFile(state: TorchState): Uint8Array {
  const sd: PickleValue = {
    ordered: true,
    dict: [...state].map(([k, t]): [PickleValue, PickleValue] => [`module.${k}`, { tensor: { shape: t.shape, data: t.data, storage: k.endsWith('num_batches_tracked') ? 'LongStorage' : 'FloatStorage' } }]),
  };
  return writeTorchZip({ dict: [['epoch', 200], ['state_dict', sd]] }, 'resnet20');
}

/** The ONNX file's logits for app-normalised images (NHWC batch from makeEvalBatch, sent as NCHW). */
async function onnxLogits(file: string, images: Uint8Array, count: number): Promise<Float32Array> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(file)));
  const { x, y } = makeEvalBatch({ images, labels: new Uint8Array(count), count }, 0, count);
  const nchw = x.transpose([0, 3, 1, 2]);
  const input = new ort.Tensor('float32', nchw.dataSync() as Float32Array, [count, 3, 32, 32]);
  x.dispose();
  y.dispose();
  nchw.dispose();
  const { logits } = await session.run({ input });
  expect(logits.dims).toEqual([count, 10]);
  return logits.data as Float32Array;
}

const maxAbs = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));

const dir = mkdtempSync(join(tmpdir(), 'dpm-init-'));
const spec = { blocks: 3, shortcut: 'A' as const };
const state = torchResnetState(spec, 7);
const ckpt = join(dir, 'resnet20-12fca82f.th');
writeFileSync(ckpt, torchFile(state));

describe('cli --init and eval', () => {
  it('eval reports the test accuracy PyTorch would (labels set so that exactly 5 of 8 reference predictions are right); its ONNX export gives the reference logits', async () => {
    const rng = createRng(3);
    const count = 8;
    const images = Uint8Array.from({ length: count * 3072 }, () => rng.int(256));
    const { mean, std } = normalizationOf('imagenet');
    const labels = new Uint8Array(count);
    const reference: number[] = [];
    for (let i = 0; i < count; i++) {
      const logits = Array.from(referenceResnet(state, spec, images.subarray(i * 3072, (i + 1) * 3072), mean, std));
      reference.push(...logits);
      const predicted = logits.indexOf(Math.max(...logits));
      labels[i] = i < 5 ? predicted : (predicted + 1) % 10;
    }
    const testBatch = join(dir, 'test_batch.bin');
    writeFileSync(testBatch, encodeCifarBatch({ images, labels, count }));
    const onnx = join(dir, 'dense.onnx');
    const r = cli('eval', '--model', 'resnet20', '--init', ckpt, '--dataset', 'cifar10', '--data', testBatch, '--backend', 'cpu', '--json', '--export-onnx', onnx);
    expect(r.stderr).not.toMatch(/Error|at .*\.ts:/);
    expect(r.status).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toMatchObject({ type: 'import', model: 'resnet20a', path: 'state_dict', strippedModulePrefix: true, missing: 0, unexpected: 0 });
    expect(out.at(-1)).toMatchObject({ type: 'summary', model: 'resnet20a', testAcc: 5 / 8, images: 8 });
    expect(out.find((l) => l.type === 'export')).toMatchObject({ format: 'onnx', path: onnx });
    // The checkpoint's own (ImageNet) normalisation is inside the ONNX graph: it takes the app's input.
    const got = await onnxLogits(onnx, images, count);
    expect(maxDiff(got, reference)).toBeLessThan(1e-4 * maxAbs(reference));
  }, 120_000);

  it('prune --init starts from the checkpoint and runs a whole experiment; the slimmed ONNX and safetensors exports agree', async () => {
    const r = cli(
      'prune', '--init', ckpt, '--dataset', 'synthetic', '--synthetic-size', '100', '--train-limit', '16', '--test-limit', '8',
      '--epochs', '1', '--batch-size', '8', '--schedule', 'abrupt', '--start-at', '0', '--points', '1', '--target', '0.7', '--backend', 'cpu', '--json',
      '--export-safetensors', join(dir, 'slim.safetensors'), '--export-onnx', join(dir, 'slim.onnx'),
    );
    expect(r.stderr).not.toMatch(/Error|at .*\.ts:/);
    expect(r.status).toBe(0);
    const out = lines(r.stdout);
    expect(out.find((l) => l.type === 'model')).toMatchObject({ model: 'resnet20a' });
    const summary = out.at(-1)!;
    expect(summary.type).toBe('summary');
    expect(summary.flopsFraction).toBeLessThanOrEqual(0.7);
    // The slimmed network, under PyTorch's names, with its manifest; the app reads it back.
    const manifest = JSON.parse(readFileSync(join(dir, 'slim.json'), 'utf8')) as { families: Record<string, number> };
    const slim = importCheckpoint('slim.safetensors', new Uint8Array(readFileSync(join(dir, 'slim.safetensors'))));
    expect(slim.def.name).toBe('resnet20a');
    expect(Object.fromEntries(slim.def.families.map((f) => [f.id, f.channels]))).toEqual(manifest.families);
    const channels = (fams: { channels: number }[]) => fams.reduce((a, f) => a + f.channels, 0);
    expect(channels(slim.def.families)).toBeLessThan(channels(MODELS.resnet20a().families));
    // ONNX Runtime on slim.onnx gives what tfjs gives on the re-imported slim.safetensors.
    const images = Uint8Array.from({ length: 4 * 3072 }, (_, i) => (i * 37) % 256);
    const model = initParams(slim.def, 1);
    writeWeights(model.vars, slim.weights);
    const { x, y } = makeEvalBatch({ images, labels: new Uint8Array(4), count: 4 }, 0, 4);
    const logits = forward(model, x, false);
    const want = logits.dataSync();
    [x, y, logits].forEach((t) => t.dispose());
    disposeModel(model);
    expect(maxDiff(await onnxLogits(join(dir, 'slim.onnx'), images, 4), want)).toBeLessThan(1e-4 * maxAbs(want));
  }, 300_000);

  it('bad checkpoints exit 2 with the file and the problem, no stack trace', () => {
    const evil = join(dir, 'evil.pth');
    writeFileSync(evil, writeTorchZip({ dict: [['x', { reduce: ['os', 'system'], args: ['touch /tmp/x'] }]] }));
    for (const [args, msg] of [
      [['eval', '--init', evil], /evil\.pth.*refused the Python global os\.system/],
      [['eval', '--init', ckpt, '--model', 'vgg16'], /holds a ResNet-20 \(option-A shortcuts\), not the requested vgg16/],
      [['eval', '--init', join(dir, 'absent.pth')], /absent\.pth: cannot read the checkpoint \(ENOENT\)/],
      [['eval', '--init', ckpt, '--input-norm', 'bogus'], /--input-norm: normalisation "bogus"/],
    ] as const) {
      const r = cli(...args, '--backend', 'cpu');
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 240_000);

  it('compare --init starts every schedule from the checkpoint, and --export-* write one file per schedule', async () => {
    // The tiny net exported by the app, its classifier bias set so that it always answers class
    // 3: with a vanishing learning rate every schedule's test accuracy is class 3's share.
    const model = initParams(MODELS.tiny(), 2);
    const bias = new Float32Array(10);
    bias[3] = 100;
    model.vars.get('fc.b')!.assign(tf.tensor1d(bias));
    const init = join(dir, 'tiny-start.safetensors');
    writeFileSync(init, (await exportTorch(model)).safetensors);
    disposeModel(model);
    const out = join(dir, 'cmp.safetensors');
    const r = cli(
      'compare', '--init', init, '--schedules', 'abrupt,sp', '--dataset', 'synthetic', '--synthetic-size', '100', '--train-limit', '16', '--test-limit', '20',
      '--epochs', '1', '--batch-size', '8', '--lr', '1e-9', '--momentum', '0', '--weight-decay', '0', '--start-at', '0', '--points', '1', '--decay-steps', '1',
      '--target', '0.6', '--backend', 'cpu', '--json', '--export-safetensors', out,
    );
    expect(r.stderr).not.toMatch(/Error|at .*\.ts:/);
    expect(r.status).toBe(0);
    const rows = lines(r.stdout);
    expect(rows[0]).toMatchObject({ type: 'import', model: 'tiny', normalizationSource: 'from the export manifest' });
    const test = syntheticDataset({ seed: 1, trainSize: 100, testSize: 100 }).test.labels.subarray(0, 20);
    const share = test.filter((l) => l === 3).length / 20;
    expect(share).toBe(0.1);
    expect(rows.slice(1).map((row) => [row.schedule, row.testAcc])).toEqual([['abrupt', share], ['sp', share]]);
    for (const schedule of ['abrupt', 'sp']) {
      const slim = importCheckpoint(`cmp-${schedule}.safetensors`, new Uint8Array(readFileSync(join(dir, `cmp-${schedule}.safetensors`))));
      expect(slim.def.families.reduce((a, f) => a + f.channels, 0)).toBeLessThan(64);
      expect(slim.weights['fc.b'].data[3]).toBeCloseTo(100, 3);
      expect(JSON.parse(readFileSync(join(dir, `cmp-${schedule}.json`), 'utf8'))).toMatchObject({ model: 'tiny' });
    }
    expect(schedulePath('runs.v2/slim.onnx', 'sr')).toBe('runs.v2/slim-sr.onnx');
    expect(schedulePath('runs.v2/slim', 'sp')).toBe('runs.v2/slim-sp');
  }, 300_000);
});
