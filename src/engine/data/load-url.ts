import { joinChunks } from './archive';
import { CIFAR10_META_FILE, CIFAR10_RECORDS_PER_FILE, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, CIFAR_RECORD_BYTES } from './cifar-binary';
import { DEFAULT_FASHION_MNIST_URL, FASHION_MNIST_FILES, FASHION_MNIST_SYSTEM_DIR, FashionMnistCollector } from './fashion-mnist';
import { CifarCollector, type LoadOptions, type LoadResult } from './load-files';
import { DataError, type Dataset } from './types';
import { errorMessage } from '../error-message';

/**
 * Loads the six CIFAR-10 .bin shards (plus batches.meta.txt if present) from a folder URL,
 * by default the app's own `data/cifar-10/` (where `npm run data:cifar10` puts them).
 */

export const DEFAULT_CIFAR_URL = 'data/cifar-10/';
const EXPECTED_FILE_BYTES = CIFAR10_RECORDS_PER_FILE * CIFAR_RECORD_BYTES;

export interface UrlProgress {
  /** The shard being fetched. */
  file: string;
  /** Bytes received so far over all shards, and the expected total (official sizes). */
  loaded: number;
  total: number;
  /** loaded / total, 0..1. */
  fraction: number;
}

export interface UrlLoadOptions extends LoadOptions {
  onProgress?: (p: UrlProgress) => void;
  /**
   * What a relative base URL is resolved against. In a worker, `location` is the worker
   * script's URL (e.g. /assets/worker.js), so the page should pass its document.baseURI.
   * Defaults to the current origin's root.
   */
  pageUrl?: string;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export function resolveBaseUrl(baseUrl: string, pageUrl?: string): URL {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const page = pageUrl ?? (typeof location !== 'undefined' ? `${location.origin}/` : undefined);
  try {
    return new URL(base, page);
  } catch {
    throw new DataError(baseUrl, 'not a valid URL (a relative URL needs a page to resolve against).');
  }
}

const CIFAR_MISSING = 'Put the CIFAR-10 .bin files there (npm run data:cifar10), or load the files by hand.';

async function fetchBytes(
  url: string,
  doFetch: typeof fetch,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
  optional: boolean,
  missing = CIFAR_MISSING,
): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await doFetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new DataError(url, `could not be fetched (${errorMessage(e)}). Check the address and your connection.`);
  }
  if (!res.ok) {
    if (optional && res.status === 404) return null;
    throw new DataError(
      url,
      `the server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}. ` +
        (res.status === 404 ? missing : ''),
    );
  }
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('text/html')) {
    // Dev servers and SPA hosts answer unknown paths with index.html and status 200.
    if (optional) return null;
    throw new DataError(url, `the server sent an HTML page instead of the file: it is probably not there. ${missing}`);
  }
  if (!res.body) {
    const buf = new Uint8Array(await res.arrayBuffer());
    onBytes(buf.length);
    return buf;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      onBytes(value.length);
    }
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new DataError(url, `the download broke off after ${total} bytes (${errorMessage(e)}).`);
  }
  return joinChunks(chunks, total);
}

/** Fetches and parses the CIFAR-10 shards under `baseUrl`. Any failing shard is a DataError naming its URL. */
export async function loadCifarFromUrl(baseUrl: string = DEFAULT_CIFAR_URL, opts: UrlLoadOptions = {}): Promise<LoadResult> {
  const base = resolveBaseUrl(baseUrl || DEFAULT_CIFAR_URL, opts.pageUrl);
  const doFetch = opts.fetch ?? fetch;
  const names = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const total = names.length * EXPECTED_FILE_BYTES;
  let loaded = 0;
  const collector = new CifarCollector();

  const meta = await fetchBytes(new URL(CIFAR10_META_FILE, base).href, doFetch, opts.signal, () => {}, true).catch(() => null);
  if (meta && meta.length > 0 && meta.length < 4096) collector.add(CIFAR10_META_FILE, meta, true);

  for (const name of names) {
    const url = new URL(name, base).href;
    const bytes = await fetchBytes(url, doFetch, opts.signal, (n) => {
      loaded += n;
      opts.onProgress?.({ file: name, loaded, total, fraction: Math.min(1, loaded / total) });
    }, false);
    // Parsed right away so that only one raw shard is held at a time.
    collector.add(url, bytes!, true);
  }
  opts.onProgress?.({ file: '', loaded, total: Math.max(total, loaded), fraction: 1 });
  return collector.finish(base.href, opts);
}

/** The official gzipped sizes, for download progress. */
const FASHION_MNIST_GZ_BYTES = 26_421_856 + 29_491 + 4_422_079 + 5_125;
const FASHION_MISSING = `Put the four Fashion-MNIST .gz files there (e.g. copy ${FASHION_MNIST_SYSTEM_DIR} to public/${DEFAULT_FASHION_MNIST_URL}), or load the files by hand.`;

/** Fetches and parses the four gzipped Fashion-MNIST IDX files under `baseUrl`. */
export async function loadFashionMnistFromUrl(baseUrl: string = DEFAULT_FASHION_MNIST_URL, opts: UrlLoadOptions = {}): Promise<LoadResult> {
  const base = resolveBaseUrl(baseUrl || DEFAULT_FASHION_MNIST_URL, opts.pageUrl);
  const doFetch = opts.fetch ?? fetch;
  const total = FASHION_MNIST_GZ_BYTES;
  let loaded = 0;
  const collector = new FashionMnistCollector();
  for (const name of Object.values(FASHION_MNIST_FILES)) {
    const url = new URL(name, base).href;
    const bytes = await fetchBytes(url, doFetch, opts.signal, (n) => {
      loaded += n;
      opts.onProgress?.({ file: name, loaded, total: Math.max(total, loaded), fraction: Math.min(1, loaded / total) });
    }, false, FASHION_MISSING);
    collector.add({ name: url, bytes: bytes! }, opts);
  }
  opts.onProgress?.({ file: '', loaded, total: Math.max(total, loaded), fraction: 1 });
  return collector.finish(base.href, opts);
}

/**
 * The worker's entry point: the Dataset only, progress as (fraction, message). Warnings
 * (e.g. a malformed batches.meta.txt) are passed to `onWarning` when given.
 */
export async function loadFromUrl(
  baseUrl: string,
  onProgress?: (fraction: number, message: string) => void,
  opts: Omit<UrlLoadOptions, 'onProgress'> & { onWarning?: (w: string) => void; dataset?: 'cifar10' | 'fashion-mnist' } = {},
): Promise<Dataset> {
  const label = opts.dataset === 'fashion-mnist' ? 'Fashion-MNIST' : 'CIFAR-10';
  const load = opts.dataset === 'fashion-mnist' ? loadFashionMnistFromUrl : loadCifarFromUrl;
  const { dataset, summary } = await load(baseUrl, {
    ...opts,
    onProgress: (p) =>
      onProgress?.(p.fraction, p.file ? `downloading ${p.file} (${(p.loaded / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(0)} MB)` : `parsing ${label}`),
  });
  for (const w of summary.warnings) opts.onWarning?.(w);
  return dataset;
}
