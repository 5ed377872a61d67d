import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvalBatch } from '../data/batches';
import { createRng } from '../data/rng';
import { importCheckpoint, normalizationOf } from '../import/import-weights';
import { writeSafetensors } from '../import/safetensors';
import { torchResnetState } from '../import/torch-reference';
import { MODELS } from '../models';
import { disposeModel, forward, initParams, type Model, type ModelDef } from '../models/graph';
import { resnetCifar } from '../models/resnet';
import { tiny } from '../models/tiny';
import { vgg16 } from '../models/vgg';
import { createGates, slimModel, withGates } from '../pruning/groups';
import { readWeights, writeWeights } from '../train/checkpoint';
import { buildOnnxGraph, convPadding, exportOnnx, type OnnxOptions } from './onnx';

beforeAll(async () => {
  await tf.setBackend('cpu');
  ort.env.wasm.numThreads = 1;
});

const models: Model[] = [];
afterAll(() => models.forEach(disposeModel));

const rng = createRng(5);

/** Fresh weights, with BN statistics and affines far from their identity init so folding is tested. */
function randomModel(def: ModelDef, seed: number): Model {
  const m = initParams(def, seed);
  for (const [name, v] of m.vars) {
    const n = v.size;
    const values = (f: () => number) => Float32Array.from({ length: n }, f);
    if (name.endsWith('.mean') || name.endsWith('.beta')) v.assign(tf.tensor(values(() => (rng.next() - 0.5) * 0.4), v.shape));
    else if (name.endsWith('.var') || name.endsWith('.gamma') || name.endsWith('.gate')) v.assign(tf.tensor(values(() => 0.5 + rng.next()), v.shape));
  }
  models.push(m);
  return m;
}

function pixels(count: number) {
  return { images: Uint8Array.from({ length: count * 3072 }, () => rng.int(256)), labels: new Uint8Array(count), count };
}

/** Max |ORT - tfjs| over the logits, relative to the largest |logit|, for a batch of `count`. */
async function compare(model: Model, count = 2, opts: OnnxOptions = {}, session?: ort.InferenceSession): Promise<number> {
  const s = session ?? (await ort.InferenceSession.create(await exportOnnx(model, opts)));
  const { x, y } = makeEvalBatch(pixels(count), 0, count);
  const expected = forward(model, x, false);
  const nchw = tf.transpose(x, [0, 3, 1, 2]);
  const result = await s.run({ input: new ort.Tensor('float32', nchw.dataSync() as Float32Array, [count, 3, 32, 32]) });
  const want = expected.dataSync() as Float32Array;
  tf.dispose([x, y, expected, nchw]);
  expect(result.logits.dims).toEqual([count, 10]);
  const got = result.logits.data as Float32Array;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  expect(scale).toBeGreaterThan(0);
  return diff / scale;
}

const TOL = 1e-4;

describe('convPadding: TF same vs PyTorch', () => {
  it('TF pads a stride-2 conv on an even input at the bottom/right only; PyTorch on both sides', () => {
    expect(convPadding(32, 3, 2, 'same')).toEqual([[0, 1], 16]);
    expect(convPadding(32, 3, 1, 'same')).toEqual([[1, 1], 32]);
    expect(convPadding(31, 3, 2, 'same')).toEqual([[1, 1], 16]);
    expect(convPadding(32, 1, 2, 'same')).toEqual([[0, 0], 16]);
    expect(convPadding(32, 3, 2, 'torch')).toEqual([[1, 1], 16]);
    expect(convPadding(32, 1, 2, 'torch')).toEqual([[0, 0], 16]);
  });
});

describe('ONNX export runs in ONNX Runtime with the tfjs logits', () => {
  it('tiny (stride-2 TF-same stem: pads [0,0,1,1]), BN folded and as nodes, any batch size', async () => {
    const m = randomModel(tiny(), 1);
    const graph = buildOnnxGraph(m.def, await readWeights(m.vars));
    const stem = graph.nodes.find((n) => n.name === 'stem')!;
    expect(stem.attributes).toContainEqual({ name: 'pads', ints: [0, 0, 1, 1] });
    expect(graph.nodes.filter((n) => n.opType === 'BatchNormalization')).toHaveLength(0);
    const session = await ort.InferenceSession.create(await exportOnnx(m));
    for (const n of [1, 3]) expect(await compare(m, n, {}, session)).toBeLessThan(TOL);
    const unfolded = buildOnnxGraph(m.def, await readWeights(m.vars), { foldBatchNorm: false });
    expect(unfolded.nodes.filter((n) => n.opType === 'BatchNormalization')).toHaveLength(4);
    expect(await compare(m, 2, { foldBatchNorm: false })).toBeLessThan(TOL);
  });

  it('resnet20, option B: TF-same and PyTorch padding', async () => {
    expect(await compare(randomModel(MODELS.resnet20(), 2))).toBeLessThan(TOL);
    expect(await compare(randomModel(resnetCifar('resnet20', 3, 16, 'torch'), 3))).toBeLessThan(TOL);
  });

  it('resnet20a, option A: subsampled, zero-padded shortcuts as split families', async () => {
    const m = randomModel(MODELS.resnet20a(), 4);
    const ops = buildOnnxGraph(m.def, await readWeights(m.vars)).nodes.map((n) => n.opType);
    expect(ops).toContain('AveragePool');
    // Split convs are summed before their BN, which then stays a node.
    expect(ops).toContain('BatchNormalization');
    expect(await compare(m)).toBeLessThan(TOL);
    expect(await compare(m, 2, { foldBatchNorm: false })).toBeLessThan(TOL);
  });

  it('slimmed models: resnet20a with channels dropped in pre/post, stage and block families; tiny', async () => {
    const keepEvery = (channels: number, step: number) => Array.from({ length: channels }, (_, c) => c).filter((c) => c % step !== 1);
    for (const [def, ids] of [
      [MODELS.resnet20a(), ['stage1', 'stage2.pre', 'stage3.post', 's1b2', 's3b1']],
      [tiny(), ['stem', 'block', 'head']],
    ] as const) {
      const dense = randomModel(def, 5);
      const keep = new Map(ids.map((id) => [id, keepEvery(def.families.find((f) => f.id === id)!.channels, 3)]));
      const slim = slimModel(dense, keep);
      models.push(slim);
      for (const id of ids) expect(slim.def.families.find((f) => f.id === id)!.channels).toBeLessThan(def.families.find((f) => f.id === id)!.channels);
      expect(await compare(slim)).toBeLessThan(TOL);
    }
  });

  it('a gated model (Gate Decorator gates as Mul) and an imported one (input affine as Mul/Add)', async () => {
    const gated = randomModel(tiny(), 6);
    gated.def = withGates(gated.def);
    createGates(gated).forEach((g) => g.assign(tf.tensor(Float32Array.from({ length: g.size }, () => 0.5 + rng.next()), g.shape)));
    expect(buildOnnxGraph(gated.def, await readWeights(gated.vars)).nodes.filter((n) => n.opType === 'Mul')).toHaveLength(4);
    expect(await compare(gated)).toBeLessThan(TOL);

    const imported = importCheckpoint('r.safetensors', writeSafetensors(torchResnetState({ blocks: 3, shortcut: 'A' }, 8)), { normalization: normalizationOf('imagenet') });
    expect(imported.def.ops[0].kind).toBe('affine');
    const m = initParams(imported.def, 1);
    models.push(m);
    writeWeights(m.vars, imported.weights);
    expect(await compare(m)).toBeLessThan(TOL);
  });

  it('vgg16 with the three-layer classifier (narrowed to 32 hidden units)', async () => {
    expect(await compare(randomModel(vgg16({ hidden: [32, 32] }), 7), 1)).toBeLessThan(TOL);
  }, 180_000);
});
