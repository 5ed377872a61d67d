import { createHash } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { writeSafetensors } from '../src/engine/import/safetensors';
import { stateDictValue, writeTorchZip } from '../src/engine/import/torch-fixture';
import { torchResnetState, type TorchResnetSpec } from '../src/engine/import/torch-reference';
import { collectPageErrors, tinyRunQuery, waitForStep } from './helpers';

/**
 * "Start from weights": a ResNet-20 checkpoint in PyTorch's zip format, written here by the
 * test's own writer (no committed binary), dropped on the page; the worker imports and
 * evaluates it, and a run prunes from it. The CPU backend and twenty images keep it short.
 */

const spec: TorchResnetSpec = { blocks: 3, shortcut: 'B', downsample: 'shortcut', classifier: 'linear' };
const state = torchResnetState(spec, 5);
const checkpoint = Buffer.from(writeTorchZip({ dict: [['epoch', 182], ['state_dict', stateDictValue(state, 'module.')]] }));
const sha256 = createHash('sha256').update(checkpoint).digest('hex');
const file = { name: 'resnet20-e2e.pth', mimeType: 'application/octet-stream', buffer: checkpoint };

const QUICK = { be: 'cpu', tel: 20, trl: 20, bs: 10, ep: 1 };

test.setTimeout(300_000);

test('drops a ResNet-20 checkpoint, sees the import report and its accuracy, then prunes from it', async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto(tinyRunQuery({ ...QUICK, pr: 'depgraph', sch: 'abrupt', pts: 1, st: 0.5, t: 0.5 }));
  const report = page.getByTestId('weights-report');

  await test.step('the worker imports the file and reports its keys, normalisation and accuracy', async () => {
    await page.getByTestId('weights-file-input').setInputFiles(file);
    await expect(report).toContainText('ResNet-20 (option-B shortcuts)', { timeout: 120_000 });
    await expect(report).toContainText('under "state_dict"');
    await expect(report).toContainText('"module." prefix removed');
    const matched = [...state.keys()].filter((k) => !k.endsWith('num_batches_tracked')).length;
    await expect(page.getByTestId('weights-keys')).toContainText(`${matched} keys matched, 0 missing, 0 unexpected, 0 mis-shaped`);
    await expect(report).toContainText('Input normalisation: mean 0.4914, 0.4822, 0.4465');
    await expect(page.getByTestId('weights-accuracy')).toHaveText(/Test accuracy before pruning: \d+(\.\d)? % on 20 images/, { timeout: 120_000 });
  });

  await test.step('the experiment URL records the file by hash and name, and the model follows it', async () => {
    await expect.poll(() => new URL(page.url()).searchParams.get('ih')).toBe(sha256);
    expect(new URL(page.url()).searchParams.get('in')).toBe(file.name);
    await expect(page.locator('select[name="train.model"]')).toHaveValue('resnet20');
  });

  await test.step('a checkpoint for another network is refused and the imported one stays', async () => {
    const vggish = new Map([['features.0.weight', { shape: [64, 3, 3, 3], data: new Float32Array(64 * 27) }]]);
    await page.getByTestId('weights-file-input').setInputFiles({ name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(writeSafetensors(vggish)) });
    const refusal = page.getByTestId('weights-error');
    await expect(refusal).toContainText('Could not use broken.safetensors');
    await expect(refusal).toContainText('Missing key(s) in state_dict');
    await expect(refusal).toContainText(`still starting from ${file.name}`);
    expect(new URL(page.url()).searchParams.get('ih')).toBe(sha256);
  });

  await test.step('Start prunes and fine-tunes the imported network', async () => {
    await page.getByTestId('start-button').click();
    const summary = page.getByTestId('run-summary');
    await expect(summary).toContainText('resnet20', { timeout: 120_000 });
    // Both steps train the imported network and the abrupt pruning point removes channels.
    // (Slimming ResNet-20 at the end takes minutes on this CPU backend, so the test stops there.)
    await waitForStep(page, 2, 180_000);
    await expect(summary).toContainText(/Kept FLOPs \/ params\s*[1-9]\d?(\.\d+)?% \//);

  });
  expect(errors).toEqual([]);
});

test('a link that names the weights by hash asks for that file and refuses another', async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto(tinyRunQuery({ ...QUICK, m: 'resnet20', ih: sha256, in: file.name }));
  const missing = page.getByTestId('weights-missing');
  await expect(missing).toContainText(`“${file.name}”`);
  await expect(missing).toContainText(sha256);

  const other = Buffer.from(writeSafetensors(state));
  await page.getByTestId('weights-file-input').setInputFiles({ name: 'other.safetensors', mimeType: 'application/octet-stream', buffer: other });
  await expect(page.getByTestId('weights-error')).toContainText('it is a different file');
  await expect(page.getByTestId('weights-error')).toContainText(sha256);
  await expect(missing).toBeVisible();

  await page.getByTestId('weights-file-input').setInputFiles(file);
  await expect(page.getByTestId('weights-report')).toContainText('ResNet-20', { timeout: 120_000 });
  await expect(missing).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a link with a weights URL fetches, checks and imports them when it opens', async ({ page, context }) => {
  const errors = collectPageErrors(page);
  // The checkpoint is generated, not committed: the server's answer for its URL is this test's.
  await context.route('**/checkpoints/resnet20-e2e.pth', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: checkpoint }));
  await page.goto(tinyRunQuery({ ...QUICK, m: 'resnet20', iu: 'checkpoints/resnet20-e2e.pth', ih: sha256 }));
  const report = page.getByTestId('weights-report');
  await expect(report).toContainText('ResNet-20 (option-B shortcuts) from checkpoints/resnet20-e2e.pth', { timeout: 120_000 });
  await expect(page.getByTestId('weights-accuracy')).toHaveText(/Test accuracy before pruning: \d+(\.\d)? % on 20 images/, { timeout: 120_000 });
  await expect(page.getByTestId('weights-missing')).toHaveCount(0);
  expect(new URL(page.url()).searchParams.get('iu')).toBe('checkpoints/resnet20-e2e.pth');
  expect(errors).toEqual([]);
});

test('a link whose weights URL now serves another file is refused with both hashes', async ({ page, context }) => {
  await context.route('**/checkpoints/resnet20-e2e.pth', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.from(writeSafetensors(state)) }));
  await page.goto(tinyRunQuery({ ...QUICK, m: 'resnet20', iu: 'checkpoints/resnet20-e2e.pth', ih: sha256 }));
  const refusal = page.getByTestId('weights-error');
  await expect(refusal).toContainText('it is a different file', { timeout: 120_000 });
  await expect(refusal).toContainText(sha256);
  await expect(page.getByTestId('weights-report')).toHaveCount(0);
});
