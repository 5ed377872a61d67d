import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvalBatch } from '../data/batches';
import { syntheticDataset } from '../data/synthetic';
import { experimentSchema, type ExperimentConfig } from '../experiment';
import { importCheckpoint } from '../import/import-weights';
import { tiny } from '../models/tiny';
import { disposeModel, forward, type Model } from '../models/graph';
import { readWeights } from '../train/checkpoint';
import { runExperiment } from '../train/run';
import { buildFinalModel, exportBaseName, exportFinal, finalFromStored, type FinalModel } from './final-model';
import { loadExported } from './layers-model';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = syntheticDataset({ seed: 4, trainSize: 24, testSize: 8 });
// tiny's couplings at a few channels: the CPU backend trains it in a second.
const micro = () => tiny({ width: 4, headWidth: 8, stemStride: 4 });

function config(pruner: 'depgraph' | 'gate'): ExperimentConfig {
  return experimentSchema.parse({
    data: { augment: false },
    train: { model: 'tiny', epochs: 1, batchSize: 8, lr: 0.05, seed: 2 },
    prune: { pruner, schedule: 'abrupt', target: 0.5, startAt: 0.3, points: 1 },
    backend: 'cpu',
  });
}

async function finishedRun(pruner: 'depgraph' | 'gate'): Promise<{ final: FinalModel; slim: Model }> {
  const summary = await runExperiment(config(pruner), { dataset: data, emit: () => undefined, backend: 'cpu', modelDef: micro(), keepFinal: true });
  return { final: summary.final!, slim: summary.slimModel! };
}

function logits(model: Model): Float32Array {
  const { x, y } = makeEvalBatch(data.test, 0, 4);
  const out = forward(model, x, false);
  const v = out.dataSync() as Float32Array;
  tf.dispose([x, y, out]);
  return v;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));

describe('a finished run\'s final model', () => {
  it('rebuilds the slimmed network the run made, and a dense one that computes the same', async () => {
    const { final, slim } = await finishedRun('depgraph');
    const kept = Object.values(final.keep).reduce((s, k) => s + k.length, 0);
    expect(kept).toBeLessThan(final.def.families.reduce((s, f) => s + f.channels, 0));
    const rebuilt = buildFinalModel(final, 'slim');
    const want = await readWeights(slim.vars);
    for (const [k, t] of Object.entries(await readWeights(rebuilt.vars))) expect(t).toEqual(want[k]);
    const dense = buildFinalModel(final, 'dense');
    expect(dense.def.families.map((f) => f.channels)).toEqual(final.def.families.map((f) => f.channels));
    // Pruned channels are zero in the dense network: removing them changes nothing.
    expect(maxDiff(logits(dense), logits(rebuilt))).toBeLessThan(1e-4);
    // Stored as plain data (IndexedDB's structured clone) and read back, it is the same.
    const stored = finalFromStored(structuredClone(final))!;
    const again = buildFinalModel(stored, 'slim');
    expect(Array.from(logits(again))).toEqual(Array.from(logits(rebuilt)));
    expect(finalFromStored({ def: final.def, weights: final.weights, keep: { stem: [0.5] } })).toBeNull();
    expect(finalFromStored(undefined)).toBeNull();
    [slim, rebuilt, dense, again].forEach(disposeModel);
  });

  it('a Gate Decorator run: the dense network folds its gates and matches the slimmed one', async () => {
    const { final, slim } = await finishedRun('gate');
    expect(final.def.ops.some((o) => o.kind === 'gate')).toBe(true);
    const dense = buildFinalModel(final, 'dense');
    expect(dense.def.ops.some((o) => o.kind === 'gate')).toBe(false);
    expect(maxDiff(logits(dense), logits(slim))).toBeLessThan(1e-4);
    const files = await exportFinal(final, 'dense', 'safetensors', 'g');
    expect(files.map((f) => f.name)).toEqual(['g.safetensors', 'g.json']);
    [slim, dense].forEach(disposeModel);
  });

  it('exports ONNX, safetensors (+ manifest) and a tfjs layers model that give the same network back', async () => {
    const { final, slim } = await finishedRun('depgraph');
    const base = exportBaseName('tiny · depgraph abrupt → 50% flops · seed 2', 'slim');
    expect(base).toBe('tiny-depgraph-abrupt-50-flops-seed-2-slim');
    const expected = logits(slim);

    const [onnx] = await exportFinal(final, 'slim', 'onnx', base);
    expect(onnx.name).toBe(`${base}.onnx`);
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(onnx.bytes);
    const { x, y } = makeEvalBatch(data.test, 0, 4);
    const nchw = tf.transpose(x, [0, 3, 1, 2]);
    const out = await session.run({ input: new ort.Tensor('float32', nchw.dataSync() as Float32Array, [4, 3, 32, 32]) });
    expect(maxDiff(out.logits.data as Float32Array, expected)).toBeLessThan(1e-4 * Math.max(1, ...Array.from(expected, Math.abs)));

    const [st, manifest] = await exportFinal(final, 'slim', 'safetensors', base);
    expect(JSON.parse(new TextDecoder().decode(manifest.bytes))).toMatchObject({ model: 'tiny', families: Object.fromEntries(Object.entries(final.keep).map(([id, k]) => [id, k.length])) });
    const imported = importCheckpoint(st.name, st.bytes);
    const want = await readWeights(slim.vars);
    for (const [k, t] of Object.entries(imported.weights)) expect(t).toEqual(want[k]);

    const [json, bin] = await exportFinal(final, 'slim', 'tfjs', base);
    expect([json.name, bin.name]).toEqual([`${base}.model.json`, `${base}.weights.bin`]);
    const parsed = JSON.parse(new TextDecoder().decode(json.bytes)) as { weightsManifest: { paths: string[] }[] };
    expect(parsed.weightsManifest[0].paths).toEqual([bin.name]);
    const layers = await loadExported({ modelJson: new TextDecoder().decode(json.bytes), weights: bin.bytes.slice().buffer });
    const viaLayers = layers.predict(x) as tf.Tensor;
    expect(maxDiff(viaLayers.dataSync(), expected)).toBeLessThan(1e-4);
    tf.dispose([x, y, nchw, viaLayers]);
    layers.dispose();
    disposeModel(slim);
  });
});
