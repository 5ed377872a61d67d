import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvalBatch } from '../data/batches';
import { createRng } from '../data/rng';
import { importCheckpoint, type ImportedModel } from '../import/import-weights';
import { readSafetensors, writeSafetensors } from '../import/safetensors';
import { referenceResnet, torchResnetState } from '../import/torch-reference';
import { MODELS } from '../models';
import { disposeModel, forward, initParams, type Model } from '../models/graph';
import { slimModel, zeroChannels } from '../pruning/groups';
import { readWeights, writeWeights } from '../train/checkpoint';
import { exportTorch } from './torch-export';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 2;
const rng = createRng(9);
const pixels = Uint8Array.from({ length: N * 3072 }, () => rng.int(256));
const split = { images: pixels, labels: new Uint8Array(N), count: N };

function build(imported: ImportedModel): Model {
  const m = initParams(imported.def, 1);
  writeWeights(m.vars, imported.weights);
  return m;
}

function logits(model: Model): Float32Array {
  const { x, y } = makeEvalBatch(split, 0, N);
  const out = forward(model, x, false);
  const data = out.dataSync() as Float32Array;
  tf.dispose([x, y, out]);
  return data;
}

describe('export to safetensors with PyTorch names', () => {
  it('a dense import exports the checkpoint it came from (less num_batches_tracked), and re-imports', async () => {
    const state = torchResnetState({ blocks: 3, shortcut: 'A' }, 2);
    const imported = importCheckpoint('r.safetensors', writeSafetensors(state));
    const model = build(imported);
    const { safetensors, manifest } = await exportTorch(model, imported.arch);
    const back = readSafetensors('e.safetensors', safetensors).tensors;
    expect([...back.keys()]).toEqual([...state.keys()].filter((k) => !k.endsWith('num_batches_tracked')));
    for (const [k, t] of back) {
      expect(t.shape).toEqual(state.get(k)!.shape);
      expect(t.data).toEqual(state.get(k)!.data);
    }
    expect(manifest).toMatchObject({ model: 'resnet20a', shortcutPad: { layer2: [8, 8], layer3: [16, 16] } });
    manifest.normalization.mean.forEach((m, c) => expect(m).toBeCloseTo(imported.normalization.mean[c], 6));
    const again = importCheckpoint('e.safetensors', safetensors);
    expect(again.normalizationSource).toBe('from the export manifest');
    expect(again.normalization.std.map((s) => s.toFixed(6))).toEqual(imported.normalization.std.map((s) => s.toFixed(6)));
    disposeModel(model);
  });

  it('a slimmed option-A network: re-imports to the same model, and PyTorch\'s forward with the manifest\'s padding gives its logits', async () => {
    const spec = { blocks: 3, shortcut: 'A' as const };
    const state = torchResnetState(spec, 3);
    const imported = importCheckpoint('r.safetensors', writeSafetensors(state));
    const model = build(imported);
    const keep = new Map<string, number[]>();
    for (const f of model.def.families) {
      const drop = f.id === 'stage2.pre' ? [0, 3] : f.id === 'stage3.post' ? [1, 2, 5, 15] : [f.channels - 1];
      zeroChannels(model, f, drop);
      keep.set(f.id, [...Array(f.channels).keys()].filter((c) => !drop.includes(c)));
    }
    const slim = slimModel(model, keep);
    const expected = logits(slim);
    const { safetensors, manifest } = await exportTorch(slim, imported.arch);
    expect(manifest.families['stage2.pre']).toBe(6);
    expect(manifest.shortcutPad).toEqual({ layer2: [6, 7], layer3: [15, 12] });
    expect(manifest.convOut['layer3.0.conv2']).toBe(15 + 6 + 15 + 7 + 12);

    const again = build(importCheckpoint('slim.safetensors', safetensors));
    const w0 = await readWeights(slim.vars);
    const w1 = await readWeights(again.vars);
    for (const k of Object.keys(w0)) expect(w1[k]).toEqual(w0[k]);
    expect(Array.from(logits(again))).toEqual(Array.from(expected));

    const exported = new Map([...readSafetensors('slim.safetensors', safetensors).tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
    const { mean, std } = imported.normalization;
    for (let i = 0; i < N; i++) {
      const ref = referenceResnet(exported, { ...spec, pads: manifest.shortcutPad }, pixels.subarray(i * 3072, (i + 1) * 3072), mean, std);
      const got = expected.subarray(i * 10, i * 10 + 10);
      const scale = Math.max(1, ...ref.map(Math.abs));
      for (let c = 0; c < 10; c++) expect(Math.abs(got[c] - ref[c]) / scale).toBeLessThan(2e-4);
    }
    [model, slim, again].forEach(disposeModel);
  });

  it('our own ResNet-20 (option B) exports under chenyaofo\'s names and re-imports', async () => {
    const model = initParams(MODELS.resnet20(), 4);
    const { safetensors, manifest } = await exportTorch(model);
    expect(manifest.arch).toMatchObject({ kind: 'resnet', shortcut: 'B', classifier: 'fc' });
    const keys = [...readSafetensors('o.safetensors', safetensors).tensors.keys()];
    expect(keys).toContain('layer2.0.downsample.0.weight');
    expect(keys).toContain('fc.weight');
    const again = importCheckpoint('o.safetensors', safetensors);
    expect(again.def.name).toBe('resnet20');
    const w = await readWeights(model.vars);
    for (const k of Object.keys(w)) expect(again.weights[k]).toEqual(w[k]);
    disposeModel(model);
  });

  it('the tiny net, slimmed, exports under module-style names and re-imports to the same model', async () => {
    const model = initParams(MODELS.tiny(), 5);
    const keep = new Map(model.def.families.map((f) => [f.id, [...Array(f.channels).keys()].filter((c) => c % 3 !== 1)]));
    for (const f of model.def.families) zeroChannels(model, f, [...Array(f.channels).keys()].filter((c) => c % 3 === 1));
    const slim = slimModel(model, keep);
    const { safetensors, manifest } = await exportTorch(slim);
    expect(manifest).toMatchObject({ model: 'tiny', arch: { kind: 'tiny' }, families: { stem: 11, block: 11, head: 21 } });
    const keys = [...readSafetensors('t.safetensors', safetensors).tensors.keys()];
    expect(keys).toEqual(expect.arrayContaining(['stem.weight', 'stem_bn.running_var', 'block.conv1.weight', 'block.bn2.bias', 'head_bn.weight', 'fc.weight', 'fc.bias']));
    const imported = importCheckpoint('t.safetensors', safetensors);
    expect(imported.label).toBe("tiny (the app's demo net)");
    // The app's own normalisation: no affine op in front of the graph.
    expect(imported.def.ops.some((o) => o.kind === 'affine')).toBe(false);
    const again = build(imported);
    const w0 = await readWeights(slim.vars);
    for (const [k, t] of Object.entries(await readWeights(again.vars))) expect(t).toEqual(w0[k]);
    expect(Array.from(logits(again))).toEqual(Array.from(logits(slim)));
    // Without the manifest, the keys alone are recognised as the dense tiny net.
    const dense = await exportTorch(model);
    const bare = new Map([...readSafetensors('d.safetensors', dense.safetensors).tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
    expect(importCheckpoint('bare.safetensors', writeSafetensors(bare)).def.name).toBe('tiny');
    [model, slim, again].forEach(disposeModel);
  });
});
