import { DataError, type ImageSplit } from '../data/types';
import type { InputNorm } from '../experiment';
import { disposeModel, initParams } from '../models/graph';
import { writeWeights } from '../train/checkpoint';
import { evaluate } from '../train/evaluate';
import { importCheckpoint, normalizationOf, type ImportedModel } from './import-weights';
import { errorMessage } from '../error-message';

/**
 * "Start from weights" as the app's worker does it: bytes (dropped or fetched) -> SHA-256 ->
 * import -> a plain, cloneable report -> eval-mode accuracy on the test split. No DOM, no
 * React: the same code runs in the worker and in Node tests.
 */

/** Lower-case hex SHA-256 of the file, as `sha256sum` prints it (the experiment URL's `ih`). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export const shortHash = (sha256: string) => sha256.slice(0, 12);

/** What the page shows of an import; structured-cloneable (crosses the worker boundary). */
export interface WeightsReport {
  /** File name (dropped) or the URL's last path segment. */
  name: string;
  /** The URL it was fetched from, '' for a dropped file. */
  url: string;
  sha256: string;
  bytes: number;
  /** Our model name (resnet20, resnet56a, vgg16, ...) and its human label. */
  model: string;
  label: string;
  format: 'pytorch' | 'safetensors';
  /** Where in the saved object the state dict was ('' for a bare one). */
  path: string;
  strippedModulePrefix: boolean;
  matched: number;
  missing: string[];
  unexpected: string[];
  misShaped: { key: string; checkpoint: number[]; model: number[] }[];
  folded: number;
  ignored: number;
  normalization: { mean: number[]; std: number[] };
  normalizationSource: string;
}

export interface WeightsEvaluation {
  acc: number;
  loss: number;
  images: number;
}

export interface ImportBytesOptions {
  name: string;
  url?: string;
  inputNorm: InputNorm;
  /** The hash a shared link names: bytes that hash differently are refused. */
  expectSha256?: string;
}

export interface ImportedWeights {
  imported: ImportedModel;
  report: WeightsReport;
}

/** Checks the hash first (a wrong file is refused before it is parsed), then imports. */
export async function importWeightBytes(bytes: Uint8Array, opts: ImportBytesOptions): Promise<ImportedWeights> {
  const sha256 = await sha256Hex(bytes);
  if (opts.expectSha256 && opts.expectSha256 !== sha256) {
    throw new DataError(
      opts.name,
      `its SHA-256 is ${sha256}, but this experiment starts from a file whose SHA-256 is ${opts.expectSha256}: it is a different file. Supply that one, or clear the starting weights to use this one.`,
    );
  }
  const imported = importCheckpoint(opts.name, bytes, { normalization: opts.inputNorm === 'auto' ? undefined : normalizationOf(opts.inputNorm) });
  const r = imported.report;
  const report: WeightsReport = {
    name: opts.name,
    url: opts.url ?? '',
    sha256,
    bytes: bytes.length,
    model: imported.def.name,
    label: imported.label,
    format: imported.checkpoint.format,
    path: imported.checkpoint.path,
    strippedModulePrefix: imported.checkpoint.strippedModulePrefix,
    matched: r.matched.length,
    missing: r.missing,
    unexpected: r.unexpected,
    misShaped: r.misShaped,
    folded: r.folded.length,
    ignored: r.ignored.length,
    normalization: { mean: [...imported.normalization.mean], std: [...imported.normalization.std] },
    normalizationSource: imported.normalizationSource,
  };
  return { imported, report };
}

/** The imported network's eval-mode loss and accuracy on `test`, before any training. */
export async function evaluateImported(imported: ImportedModel, test: ImageSplit, batchSize = 100): Promise<WeightsEvaluation> {
  const model = initParams(imported.def, 0);
  try {
    writeWeights(model.vars, imported.weights);
    const { acc, loss } = await evaluate(model, test, batchSize);
    return { acc, loss, images: test.count };
  } finally {
    disposeModel(model);
  }
}

/** The file name in a URL (its last path segment), for messages. */
export function nameFromUrl(url: string): string {
  const path = url.split(/[?#]/)[0].replace(/\/+$/, '');
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || url;
}

/** Largest checkpoint fetched (VGG16-BN in float64 is ~120 MB). */
const MAX_FETCH_BYTES = 512 * 2 ** 20;

/**
 * Fetches a checkpoint. Relative URLs resolve against the page (the worker passes the page's
 * address); the page's CSP allows only its own origin and https.
 */
export async function fetchCheckpoint(url: string, pageUrl?: string, doFetch: typeof fetch = fetch): Promise<Uint8Array> {
  let target: URL;
  try {
    target = new URL(url, pageUrl ?? (typeof location !== 'undefined' ? location.href : undefined));
  } catch {
    throw new DataError(url, 'not a valid URL');
  }
  let res: Response;
  try {
    res = await doFetch(target.href);
  } catch (e) {
    throw new DataError(url, `could not be fetched (${errorMessage(e)}). The server must be this page's own or allow cross-origin requests over https.`);
  }
  if (!res.ok) throw new DataError(url, `the server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  if ((res.headers.get('content-type') ?? '').includes('text/html')) {
    throw new DataError(url, 'the server sent an HTML page instead of the checkpoint: the file is probably not there');
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_FETCH_BYTES) throw new DataError(url, `is ${(declared / 2 ** 20).toFixed(0)} MB; checkpoints over ${MAX_FETCH_BYTES / 2 ** 20} MB are not fetched`);
  const buf = new Uint8Array(await res.arrayBuffer());
  if (buf.length > MAX_FETCH_BYTES) throw new DataError(url, `is over ${MAX_FETCH_BYTES / 2 ** 20} MB; checkpoints that large are not fetched`);
  return buf;
}
