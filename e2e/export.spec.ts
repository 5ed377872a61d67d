import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { expect, test, type Page } from '@playwright/test';
import { makeEvalBatch } from '../src/engine/data/batches';
import { createRng } from '../src/engine/data/rng';
import { importCheckpoint, type ImportedModel } from '../src/engine/import/import-weights';
import { disposeModel, forward, initParams } from '../src/engine/models/graph';
import { writeWeights } from '../src/engine/train/checkpoint';
import { collectPageErrors, tinyRunQuery, waitForStep } from './helpers';

/**
 * Exports of a finished run, and an earlier run as the starting point: a tiny run prunes to
 * completion in Chromium (CPU backend, twenty images), its export buttons download the dense
 * and slimmed networks, and the files are checked here in Node: the safetensors re-imported
 * into tfjs, the ONNX run in ONNX Runtime, both giving the same logits. After a reload the run
 * store still exports the same bytes, and a new run starts from the earlier run's network.
 */

const QUICK = { be: 'cpu', tel: 20, trl: 20, bs: 10, ep: 1 };
const PRUNE = { pr: 'depgraph', sch: 'abrupt', pts: 1, st: 0.5, t: 0.5 };

test.setTimeout(300_000);

interface Downloaded {
  name: string;
  bytes: Buffer;
}

/** Clicks an export button and collects the files it downloads (safetensors and tfjs give two). */
async function exportFiles(page: Page, testId: string, count: number): Promise<Downloaded[]> {
  const files: Promise<Downloaded>[] = [];
  const onDownload = (d: import('@playwright/test').Download) => files.push(d.path().then((p) => ({ name: d.suggestedFilename(), bytes: readFileSync(p) })));
  page.on('download', onDownload);
  try {
    await page.getByTestId(testId).click();
    await expect(page.getByTestId('export-status')).toContainText('Downloaded', { timeout: 60_000 });
    await expect.poll(() => files.length).toBe(count);
    return await Promise.all(files);
  } finally {
    page.off('download', onDownload);
  }
}

const N = 4;
const rng = createRng(11);
const images = Uint8Array.from({ length: N * 3072 }, () => rng.int(256));

/** tfjs's eval-mode logits of an imported network on the test images (Node, CPU backend). */
function tfjsLogits(imported: ImportedModel): Float32Array {
  const model = initParams(imported.def, 0);
  writeWeights(model.vars, imported.weights);
  const { x, y } = makeEvalBatch({ images, labels: new Uint8Array(N), count: N }, 0, N);
  const out = forward(model, x, false);
  const v = out.dataSync() as Float32Array;
  tf.dispose([x, y, out]);
  disposeModel(model);
  return v;
}

async function onnxLogits(bytes: Buffer): Promise<Float32Array> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(new Uint8Array(bytes));
  const { x, y } = makeEvalBatch({ images, labels: new Uint8Array(N), count: N }, 0, N);
  const nchw = tf.transpose(x, [0, 3, 1, 2]);
  const { logits } = await session.run({ input: new ort.Tensor('float32', nchw.dataSync() as Float32Array, [N, 3, 32, 32]) });
  tf.dispose([x, y, nchw]);
  expect(logits.dims).toEqual([N, 10]);
  return logits.data as Float32Array;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
const channels = (m: ImportedModel) => m.def.families.reduce((s, f) => s + f.channels, 0);

test('a finished run exports its dense and slimmed networks; after a reload, a new run prunes from it', async ({ page }) => {
  await tf.setBackend('cpu');
  const errors = collectPageErrors(page);
  await page.goto(tinyRunQuery({ ...QUICK, ...PRUNE }));
  await page.getByTestId('start-button').click();
  await expect(page.getByTestId('final-accuracy')).toBeVisible({ timeout: 180_000 });
  const runId = await page.getByTestId('run-row').first().getAttribute('data-run-id');

  let slimSafetensors: Downloaded;
  await test.step('the export buttons download ONNX, safetensors + JSON and tfjs files that compute the same network', async () => {
    const [slimOnnx] = await exportFiles(page, 'export-slim-onnx', 1);
    // Named after the run as the runs list names it ("tiny · abrupt · 07:18 PM").
    const base = slimOnnx.name.replace(/\.onnx$/, '');
    expect(base).toMatch(/^tiny-abrupt-[a-z0-9-]+-slim$/);
    const [st, manifest] = await exportFiles(page, 'export-slim-safetensors', 2);
    slimSafetensors = st;
    expect([st.name, manifest.name]).toEqual([`${base}.safetensors`, `${base}.json`]);
    const slim = importCheckpoint(st.name, new Uint8Array(st.bytes));
    expect(slim.def.name).toBe('tiny');
    expect(Object.fromEntries(slim.def.families.map((f) => [f.id, f.channels]))).toEqual((JSON.parse(manifest.bytes.toString('utf8')) as { families: object }).families);
    const [denseOnnx] = await exportFiles(page, 'export-dense-onnx', 1);
    const [denseSt] = await exportFiles(page, 'export-dense-safetensors', 2);
    const dense = importCheckpoint(denseSt.name, new Uint8Array(denseSt.bytes));
    expect(channels(slim)).toBeLessThan(channels(dense));

    // Four files, two exporters, one network: ONNX Runtime and tfjs agree, and removing the
    // pruned (zero) channels changed nothing.
    const want = tfjsLogits(slim);
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    expect(maxDiff(await onnxLogits(slimOnnx.bytes), want) / scale).toBeLessThan(1e-4);
    expect(maxDiff(await onnxLogits(denseOnnx.bytes), want) / scale).toBeLessThan(1e-4);
    expect(maxDiff(tfjsLogits(dense), want) / scale).toBeLessThan(1e-4);

    const [json, bin] = await exportFiles(page, 'export-slim-tfjs', 2);
    expect(json.name).toBe(`${base}.model.json`);
    const parsed = JSON.parse(json.bytes.toString('utf8')) as { weightsManifest: { paths: string[]; weights: { shape: number[] }[] }[] };
    expect(parsed.weightsManifest[0].paths).toEqual([bin.name]);
    expect(bin.bytes.length).toBe(4 * parsed.weightsManifest[0].weights.reduce((s, w) => s + w.shape.reduce((a, d) => a * d, 1), 0));
  });

  await test.step('after a reload, the run opened from the list exports the same bytes from the run store', async () => {
    await page.reload();
    await page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`).getByRole('button', { name: 'Open' }).click();
    const [again] = await exportFiles(page, 'export-slim-safetensors', 2);
    expect(again.bytes.equals(slimSafetensors.bytes)).toBe(true);
  });

  await test.step('the earlier run is the starting point: the same report and accuracy as a dropped file, the URL names its export', async () => {
    const select = page.getByTestId('weights-run-select');
    await select.selectOption(runId!);
    const report = page.getByTestId('weights-report');
    await expect(report).toContainText("tiny (the app's demo net)", { timeout: 60_000 });
    await expect(report).toContainText('from the export manifest');
    await expect(page.getByTestId('weights-accuracy')).toHaveText(/Test accuracy before pruning: \d+(\.\d)? % on 20 images/, { timeout: 60_000 });
    const sha256 = createHash('sha256').update(slimSafetensors.bytes).digest('hex');
    await expect.poll(() => new URL(page.url()).searchParams.get('ih')).toBe(sha256);
    expect(new URL(page.url()).searchParams.get('in')).toBe(slimSafetensors.name);
  });

  await test.step('Start prunes the earlier run\'s slimmed network further', async () => {
    await page.getByTestId('start-button').click();
    await expect(page.getByTestId('run-row')).toHaveCount(2, { timeout: 60_000 });
    await expect(page.getByTestId('final-accuracy')).toBeVisible({ timeout: 180_000 });
    const [next] = await exportFiles(page, 'export-slim-safetensors', 2);
    const before = importCheckpoint(slimSafetensors.name, new Uint8Array(slimSafetensors.bytes));
    expect(channels(importCheckpoint(next.name, new Uint8Array(next.bytes)))).toBeLessThan(channels(before));
  });

  await test.step('the link, opened without the weights loaded, says which export to supply', async () => {
    const link = page.url();
    await page.goto('about:blank');
    await page.goto(link);
    const missing = page.getByTestId('weights-missing');
    await expect(missing).toContainText(`“${slimSafetensors.name}”`);
    await expect(missing).toContainText('Export safetensors + JSON');
  });
  expect(errors).toEqual([]);
});

test('an unfinished run says it has nothing to export yet', async ({ page }) => {
  await page.goto(tinyRunQuery({ ...QUICK, trl: 300, syn: 300, ep: 20 }));
  await page.getByTestId('start-button').click();
  await expect(page.getByTestId('export-unavailable')).toHaveText('Export buttons appear when the run has finished.', { timeout: 60_000 });
  await waitForStep(page, 1);
  await page.getByTestId('stop-button').click();
  await expect(page.getByTestId('export-unavailable')).toContainText('did not finish', { timeout: 60_000 });
  await expect(page.getByTestId('export-panel')).toHaveCount(0);
});
