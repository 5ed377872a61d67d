import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../data/rng';
import { DataError } from '../data/types';
import { ImportMismatchError } from './import-weights';
import { writeSafetensors } from './safetensors';
import { evaluateImported, fetchCheckpoint, importWeightBytes, nameFromUrl, sha256Hex } from './start-weights';
import { writeTorchZip, stateDictValue } from './torch-fixture';
import { referenceResnet, torchResnetState, type TorchResnetSpec } from './torch-reference';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const spec: TorchResnetSpec = { blocks: 3, shortcut: 'B', downsample: 'shortcut', classifier: 'linear' };
const state = torchResnetState(spec, 3);
const torchBytes = writeTorchZip(stateDictValue(state));

describe('start from weights: the worker-side import path', () => {
  it('hashes the file as sha256sum does', async () => {
    expect(await sha256Hex(torchBytes)).toBe(createHash('sha256').update(torchBytes).digest('hex'));
  });

  it('imports a ResNet-20 checkpoint into a cloneable report with its hash', async () => {
    const { imported, report } = await importWeightBytes(torchBytes, { name: 'r20.pth', inputNorm: 'cifar10-kuangliu' });
    expect(imported.def.name).toBe('resnet20');
    expect(report).toMatchObject({ name: 'r20.pth', url: '', model: 'resnet20', format: 'pytorch', missing: [], unexpected: [], misShaped: [], bytes: torchBytes.length });
    expect(report.matched).toBe([...state.keys()].filter((k) => !k.endsWith('num_batches_tracked')).length);
    expect(report.sha256).toBe(createHash('sha256').update(torchBytes).digest('hex'));
    expect(report.normalizationSource).toBe('given');
    // What crosses the worker boundary must survive structured cloning unchanged.
    expect(structuredClone(report)).toEqual(report);
  });

  it('refuses a file whose hash differs from the one the experiment names, before parsing it', async () => {
    const other = writeSafetensors(state);
    const want = await sha256Hex(torchBytes);
    const err = await importWeightBytes(other, { name: 'other.safetensors', inputNorm: 'auto', expectSha256: want }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain(want);
    expect((err as Error).message).toContain(await sha256Hex(other));
    expect((err as Error).message).toMatch(/^other\.safetensors: /);
    // The right file passes the same check.
    await expect(importWeightBytes(torchBytes, { name: 'r20.pth', inputNorm: 'auto', expectSha256: want })).resolves.toBeTruthy();
  });

  it('refuses a checkpoint with a missing key with PyTorch’s strict report', async () => {
    const broken = new Map(state);
    broken.delete('layer2.0.bn1.running_var');
    const err = await importWeightBytes(writeSafetensors(broken), { name: 'broken.safetensors', inputNorm: 'auto' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportMismatchError);
    expect((err as ImportMismatchError).report.missing).toEqual(['layer2.0.bn1.running_var']);
    expect((err as Error).message).toContain('Missing key(s) in state_dict: "layer2.0.bn1.running_var"');
  });

  it('evaluates the imported network: accuracy agrees with an independent NCHW reference', async () => {
    const n = 4;
    const rng = createRng(7);
    const images = Uint8Array.from({ length: n * 3072 }, () => rng.int(256));
    const { imported } = await importWeightBytes(torchBytes, { name: 'r20.pth', inputNorm: 'cifar10-kuangliu' });
    const { mean, std } = imported.normalization;
    const predicted = Array.from({ length: n }, (_, i) => {
      const logits = referenceResnet(state, spec, images.subarray(i * 3072, (i + 1) * 3072), mean, std);
      return logits.indexOf(Math.max(...logits));
    });
    // Labels: the reference's predictions for the first half, something else for the rest.
    const labels = Uint8Array.from(predicted, (p, i) => (i < n / 2 ? p : (p + 1) % 10));
    const before = tf.memory().numTensors;
    const ev = await evaluateImported(imported, { images, labels, count: n }, 3);
    expect(ev).toMatchObject({ acc: 0.5, images: n });
    expect(Number.isFinite(ev.loss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fetches a checkpoint and names the URL when the server refuses', async () => {
    const ok = (async () => new Response(torchBytes.slice(), { headers: { 'content-type': 'application/octet-stream' } })) as typeof fetch;
    expect(await fetchCheckpoint('ck/r20.pth', 'https://app.example/dpm/', ok)).toEqual(torchBytes);
    const seen: string[] = [];
    const missing = (async (u: string) => {
      seen.push(u);
      return new Response('nope', { status: 404, statusText: 'Not Found' });
    }) as unknown as typeof fetch;
    await expect(fetchCheckpoint('ck/r20.pth', 'https://app.example/dpm/', missing)).rejects.toThrow('ck/r20.pth: the server answered 404 Not Found');
    expect(seen).toEqual(['https://app.example/dpm/ck/r20.pth']);
    const html = (async () => new Response('<html></html>', { headers: { 'content-type': 'text/html' } })) as typeof fetch;
    await expect(fetchCheckpoint('r20.pth', 'https://app.example/', html)).rejects.toThrow(/HTML page/);
    expect(nameFromUrl('https://x.example/a/resnet56-4bfd9763.th?dl=1')).toBe('resnet56-4bfd9763.th');
  });
});
