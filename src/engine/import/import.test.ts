import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvalBatch } from '../data/batches';
import { dataError } from '../data/data-error.test-util';
import { createRng } from '../data/rng';
import { DataError } from '../data/types';
import { MODELS } from '../models';
import { disposeModel, forward, initParams, type Model } from '../models/graph';
import { writeWeights } from '../train/checkpoint';
import { importCheckpoint, ImportMismatchError, normalizationOf, parseNormalization, type ImportedModel } from './import-weights';
import { writeSafetensors } from './safetensors';
import { writeTorchZip, type PickleValue } from './torch-fixture';
import { referenceResnet, referenceVgg, torchResnetState, torchVggState, type TorchResnetSpec, type TorchState, type TorchVggSpec } from './torch-reference';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A state dict as torch.save writes it (num_batches_tracked as int64), optionally wrapped. */
function torchFile(state: TorchState, wrap?: string, prefix = ''): Uint8Array {
  const sd: PickleValue = {
    ordered: true,
    dict: [...state].map(([k, t]): [PickleValue, PickleValue] => [prefix + k, { tensor: { shape: t.shape, data: t.data, storage: k.endsWith('num_batches_tracked') ? 'LongStorage' : 'FloatStorage' } }]),
  };
  return writeTorchZip(wrap ? { dict: [['epoch', 200], [wrap, sd], ['best_prec1', { float: 93.4 }]] } : sd);
}

const N = 2;
const rng = createRng(42);
const pixels = Uint8Array.from({ length: N * 3072 }, () => rng.int(256));
const split = { images: pixels, labels: new Uint8Array(N), count: N };

function ourLogits(imported: ImportedModel, n = N): Float32Array {
  const model: Model = initParams(imported.def, 1);
  writeWeights(model.vars, imported.weights);
  const { x, y } = makeEvalBatch(split, 0, n);
  const logits = forward(model, x, false);
  const out = logits.dataSync() as Float32Array;
  tf.dispose([x, y, logits]);
  disposeModel(model);
  return out;
}

function expectClose(ours: Float32Array, reference: (i: number) => Float32Array): void {
  for (let i = 0; i < ours.length / 10; i++) {
    const ref = reference(i);
    const got = ours.subarray(i * 10, i * 10 + 10);
    const scale = Math.max(1, ...ref.map(Math.abs));
    for (let c = 0; c < 10; c++) expect(Math.abs(got[c] - ref[c]) / scale).toBeLessThan(2e-4);
    // Same prediction, and the logits are not trivially equal (e.g. all zero).
    expect(got.indexOf(Math.max(...got))).toBe(ref.indexOf(Math.max(...ref)));
  }
  expect(new Set(Array.from(ours).map((v) => v.toFixed(3))).size).toBeGreaterThan(5);
}

describe('imported networks compute what PyTorch computes (plain-loop NCHW reference)', () => {
  it('ResNet-20, option A, akamaster layout: wrapped in state_dict, DataParallel prefix, ImageNet normalisation', () => {
    const spec: TorchResnetSpec = { blocks: 3, shortcut: 'A' };
    const state = torchResnetState(spec, 1);
    const imported = importCheckpoint('resnet20-12fca82f.th', torchFile(state, 'state_dict', 'module.'));
    expect(imported.def.name).toBe('resnet20a');
    expect(imported.label).toBe('ResNet-20 (option-A shortcuts)');
    expect(imported.checkpoint).toEqual({ format: 'pytorch', path: 'state_dict', strippedModulePrefix: true });
    expect(imported.normalizationSource).toMatch(/^imagenet \(guessed/);
    expect(imported.report.missing).toEqual([]);
    expect(imported.report.ignored).toHaveLength(19);
    expect(imported.report.matched).toHaveLength([...state.keys()].length - 19);
    const { mean, std } = imported.normalization;
    expectClose(ourLogits(imported), (i) => referenceResnet(state, spec, pixels.subarray(i * 3072, (i + 1) * 3072), mean, std));
  });

  it('ResNet-20, option B (downsample, fc): chenyaofo layout, as safetensors', () => {
    const spec: TorchResnetSpec = { blocks: 3, shortcut: 'B', downsample: 'downsample', classifier: 'fc' };
    const state = torchResnetState(spec, 2);
    const imported = importCheckpoint('cifar10_resnet20.safetensors', writeSafetensors(state));
    expect(imported.def.name).toBe('resnet20');
    expect(imported.checkpoint.format).toBe('safetensors');
    const { mean, std } = normalizationOf('cifar10-kuangliu');
    expect(imported.normalization).toEqual({ mean, std });
    expectClose(ourLogits(imported), (i) => referenceResnet(state, spec, pixels.subarray(i * 3072, (i + 1) * 3072), mean, std));
  });

  it('ResNet-20, option B with kuangliu\'s "shortcut" naming, under a given normalisation', () => {
    const spec: TorchResnetSpec = { blocks: 3, shortcut: 'B', downsample: 'shortcut' };
    const state = torchResnetState(spec, 3);
    const norm = parseNormalization('0.5,0.5,0.5/0.25,0.25,0.25');
    const imported = importCheckpoint('k.pth', torchFile(state, 'net'), { normalization: norm });
    expect(imported.normalizationSource).toBe('given');
    expectClose(ourLogits(imported), (i) => referenceResnet(state, spec, pixels.subarray(i * 3072, (i + 1) * 3072), norm.mean, norm.std));
  });

  it('VGG16-BN, three-layer classifier (classifier.0/3/6), conv biases folded into BN', () => {
    const spec: TorchVggSpec = { scheme: 'features', head: [0, 3, 6], hidden: 64, convBias: true };
    const state = torchVggState(spec, 4);
    const imported = importCheckpoint('vgg16_bn.pt', torchFile(state, 'model'));
    expect(imported.label).toBe('VGG16-BN (three-layer classifier, hidden 64/64)');
    expect(imported.report.folded).toHaveLength(13);
    const { mean, std } = imported.normalization;
    // One image: the plain-loop VGG reference is 313 M multiply-adds an image.
    expectClose(ourLogits(imported, 1), (i) => referenceVgg(state, spec, pixels.subarray(i * 3072, (i + 1) * 3072), mean, std));
  }, 60_000);

  it('VGG16-BN, one linear classifier, Torch-Pruning\'s block layout', () => {
    const spec: TorchVggSpec = { scheme: 'block', head: [], convBias: true };
    const state = torchVggState(spec, 5);
    const imported = importCheckpoint('vgg16_cifar10.pth', torchFile(state));
    expect(imported.label).toBe('VGG16-BN (one linear classifier)');
    const { mean, std } = imported.normalization;
    // One image: the plain-loop VGG reference is 313 M multiply-adds an image.
    expectClose(ourLogits(imported, 1), (i) => referenceVgg(state, spec, pixels.subarray(i * 3072, (i + 1) * 3072), mean, std));
  }, 60_000);
});

describe('recognition and strict loading', () => {
  it('recognises ResNet-56 option A and gives it resnet56a\'s families', () => {
    const imported = importCheckpoint('resnet56.th', torchFile(torchResnetState({ blocks: 9, shortcut: 'A' })));
    const reference = MODELS.resnet56a();
    expect(imported.def.name).toBe('resnet56a');
    expect(imported.def.families).toEqual(reference.families);
    expect(imported.def.params.map((p) => [p.name, p.shape])).toEqual(reference.params.map((p) => [p.name, p.shape]));
  });

  it('refuses a mismatch with PyTorch\'s strict report: missing, unexpected, mis-shaped keys', () => {
    const state = torchResnetState({ blocks: 3, shortcut: 'A', classes: 100 });
    state.delete('layer2.1.bn1.running_var');
    state.set('layer4.0.conv1.weight', { shape: [1], data: new Float32Array(1) });
    const e = dataError(() => importCheckpoint('c100.th', torchFile(state)));
    expect(e).toBeInstanceOf(ImportMismatchError);
    const r = (e as ImportMismatchError).report;
    expect(r.missing).toEqual(['layer2.1.bn1.running_var']);
    expect(r.unexpected).toEqual(['layer4.0.conv1.weight']);
    expect(r.misShaped).toEqual([
      { key: 'linear.weight', checkpoint: [100, 64], model: [10, 64] },
      { key: 'linear.bias', checkpoint: [100], model: [10] },
    ]);
    expect(e.message).toMatch(/^c100\.th: does not fit ResNet-20 \(option-A shortcuts\)/);
    expect(e.message).toContain('Missing key(s) in state_dict: "layer2.1.bn1.running_var".');
    expect(e.message).toContain('size mismatch for linear.weight: copying a param with shape [100, 64] from checkpoint, the shape in current model is [10, 64].');
  });

  it('names the key holding NaN weights or an integer dtype', () => {
    const state = torchResnetState({ blocks: 3, shortcut: 'A' });
    state.get('layer3.2.conv2.weight')!.data[5] = NaN;
    expect(dataError(() => importCheckpoint('nan.th', torchFile(state))).message).toMatch(/^nan\.th: layer3\.2\.conv2\.weight holds 1 NaN or infinite value/);
    const ints = torchResnetState({ blocks: 3, shortcut: 'A' });
    const sd: PickleValue = { ordered: true, dict: [...ints].map(([k, t]): [PickleValue, PickleValue] => [k, { tensor: { shape: t.shape, data: t.data.map(Math.round), storage: k === 'bn1.weight' || k.endsWith('num_batches_tracked') ? 'LongStorage' : 'FloatStorage' } }]) };
    expect(dataError(() => importCheckpoint('int.th', writeTorchZip(sd))).message).toMatch(/^int\.th: bn1\.weight has dtype I64; weights must be floating point/);
  });

  it('refuses another network than the one asked for, and unknown layouts', () => {
    const bytes = torchFile(torchResnetState({ blocks: 3, shortcut: 'B' }));
    expect(importCheckpoint('r.th', bytes, { expect: 'resnet20a' }).def.name).toBe('resnet20');
    expect(dataError(() => importCheckpoint('r.th', bytes, { expect: 'vgg16' })).message).toMatch(/holds a ResNet-20 \(option-B shortcuts\), not the requested vgg16/);
    const other = writeSafetensors(new Map([['encoder.layer.0.weight', { shape: [2], data: new Float32Array(2) }]]));
    expect(dataError(() => importCheckpoint('bert.safetensors', other)).message).toMatch(/match none of the supported networks.*encoder\.layer\.0\.weight/);
  });

  it('parses normalisations: presets and explicit mean/std', () => {
    expect(parseNormalization('imagenet').mean).toEqual([0.485, 0.456, 0.406]);
    expect(() => parseNormalization('0.5,0.5/1,1,1')).toThrow(/m1,m2,m3\/s1,s2,s3/);
    expect(() => parseNormalization('0,0,0/1,0,1')).toThrow(/std > 0/);
  });
});

describe('fuzz: damaged state dicts end in a model or a DataError', () => {
  it('dropped, added, reshaped and NaN-filled keys', () => {
    const base = torchResnetState({ blocks: 3, shortcut: 'A' }, 8);
    const keys = [...base.keys()];
    const mutation = fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
        fc.record({ op: fc.constant('reshape' as const), at: fc.nat(), shape: fc.array(fc.integer({ min: 0, max: 70 }), { maxLength: 4 }) }),
        fc.record({ op: fc.constant('add' as const), name: fc.string({ maxLength: 30 }) }),
        fc.record({ op: fc.constant('nan' as const), at: fc.nat() }),
      ),
      { maxLength: 4 },
    );
    const seen = new Set<string>();
    fc.assert(
      fc.property(mutation, (ms) => {
        const state = new Map(base);
        for (const m of ms) {
          const key = 'at' in m ? keys[m.at % keys.length] : '';
          if (m.op === 'drop') state.delete(key);
          else if (m.op === 'add') state.set(m.name, { shape: [1], data: new Float32Array(1) });
          else if (m.op === 'reshape') state.set(key, { shape: m.shape, data: new Float32Array(m.shape.reduce((a, b) => a * b, 1)) });
          else if (state.has(key)) state.set(key, { shape: state.get(key)!.shape, data: state.get(key)!.data.map(() => NaN) });
        }
        try {
          importCheckpoint('f.safetensors', writeSafetensors(state));
          seen.add('model');
        } catch (e) {
          if (!(e instanceof DataError)) throw e;
          seen.add('error');
        }
      }),
      { numRuns: 150, seed: 21 },
    );
    expect([...seen].sort()).toEqual(['error', 'model']);
  });
});
