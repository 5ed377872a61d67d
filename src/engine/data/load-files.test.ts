import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CIFAR10_CLASS_NAMES, parseCifarBatch } from './cifar-binary';
import { gzipDeterministic, makeCifarFixtureArchive, makeCifarFixtureFiles, writeTar } from './fixture';
import { loadFiles } from './load-files';
import { loadPath } from './load-path';
import { loadCifarFromUrl, loadFromUrl } from './load-url';
import { dataError, rejectsWithDataError } from './data-error.test-util';
import { IMAGE_BYTES } from './types';

const bytesOf = (s: string) => new TextEncoder().encode(s);

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

describe('loadFiles', () => {
  it('loads the official archive layout: train in batch order, test, class names, summary', () => {
    const archive = makeCifarFixtureArchive({ recordsPerBatch: 6, testRecords: 4, seed: 3 });
    const members = makeCifarFixtureFiles({ recordsPerBatch: 6, testRecords: 4, seed: 3 });
    const { dataset, summary } = loadFiles([{ name: 'cifar-10-binary.tar.gz', bytes: archive.buffer as ArrayBuffer }]);
    expect(dataset.name).toBe('cifar10');
    expect(dataset.train.count).toBe(30);
    expect(dataset.test.count).toBe(4);
    expect(dataset.classNames).toEqual([...CIFAR10_CLASS_NAMES]);
    const batch3 = parseCifarBatch('b3', members.find((m) => m.name.endsWith('data_batch_3.bin'))!.bytes);
    expect(Buffer.compare(dataset.train.images.subarray(12 * IMAGE_BYTES, 18 * IMAGE_BYTES), batch3.images)).toBe(0);
    expect([...dataset.train.labels.subarray(12, 18)]).toEqual([...batch3.labels]);
    expect(summary).toMatchObject({ name: 'cifar10', train: 30, test: 4, warnings: [] });
    expect(summary.files.map((f) => [baseName(f.name), f.records])).toEqual([
      ['data_batch_1.bin', 6],
      ['data_batch_2.bin', 6],
      ['data_batch_3.bin', 6],
      ['data_batch_4.bin', 6],
      ['data_batch_5.bin', 6],
      ['test_batch.bin', 4],
    ]);
  });

  it('loads loose .bin files given in any order, and a plain .tar', () => {
    const files = makeCifarFixtureFiles({ recordsPerBatch: 3, seed: 5 }).map((f) => ({ name: baseName(f.name), bytes: f.bytes }));
    const fromLoose = loadFiles([...files].reverse());
    const fromTar = loadFiles([{ name: 'c.tar', bytes: writeTar(makeCifarFixtureFiles({ recordsPerBatch: 3, seed: 5 })) }]);
    expect(fromLoose.dataset.train.count).toBe(15);
    expect(Buffer.compare(fromLoose.dataset.train.images, fromTar.dataset.train.images)).toBe(0);
    expect(Buffer.compare(fromLoose.dataset.test.labels, fromTar.dataset.test.labels)).toBe(0);
  });

  it('uses the train batches present and warns about the missing ones', () => {
    const archive = makeCifarFixtureArchive({ recordsPerBatch: 4, trainBatches: [1, 3] });
    const { dataset, summary } = loadFiles([{ name: 'part.tar.gz', bytes: archive }]);
    expect(dataset.train.count).toBe(8);
    expect(summary.warnings.join('\n')).toContain('Only 2 of 5 training batches');
    expect(summary.warnings.join('\n')).toContain('data_batch_2.bin');
  });

  it('holds out training images when there is no test batch', () => {
    const archive = makeCifarFixtureArchive({ recordsPerBatch: 10, includeTest: false });
    const { dataset, summary } = loadFiles([{ name: 'a.tar.gz', bytes: archive }]);
    expect(dataset.train.count).toBe(45);
    expect(dataset.test.count).toBe(5);
    expect(summary.warnings.join()).toContain('held out');
  });

  it('refuses test data alone, unknown loose names, and archives without CIFAR-10 members', () => {
    const test = makeCifarFixtureFiles({ recordsPerBatch: 2, trainBatches: [] });
    expect(dataError(() => loadFiles(test)).problem).toMatch(/no training data.*only test_batch.bin/);
    expect(dataError(() => loadFiles([{ name: 'cat.bin', bytes: new Uint8Array(3073) }])).file).toBe('cat.bin');
    const other = gzipDeterministic(writeTar([{ name: 'readme.html', bytes: bytesOf('<p>') }]));
    expect(dataError(() => loadFiles([{ name: 'x.tar.gz', bytes: other }])).problem).toMatch(/no CIFAR-10 batch files/);
    const py = gzipDeterministic(writeTar([{ name: 'cifar-10-batches-py/data_batch_1', bytes: bytesOf('pickle') }]));
    expect(dataError(() => loadFiles([{ name: 'cifar-10-python.tar.gz', bytes: py }])).problem).toMatch(/Python \(pickle\) version/);
    expect(dataError(() => loadFiles([{ name: 'x.tar.gz', bytes: bytesOf('<html>') }])).problem).toMatch(/neither gzip nor tar/);
    expect(dataError(() => loadFiles([])).problem).toMatch(/no files/);
  });

  it('reads class names from batches.meta.txt and warns about a malformed one', () => {
    const files = makeCifarFixtureFiles({ recordsPerBatch: 2, includeMeta: false });
    const names = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const ok = loadFiles([...files, { name: 'batches.meta.txt', bytes: bytesOf(names.join('\n')) }]);
    expect(ok.dataset.classNames).toEqual(names);
    const bad = loadFiles([...files, { name: 'batches.meta.txt', bytes: bytesOf('a\nb') }]);
    expect(bad.dataset.classNames).toEqual([...CIFAR10_CLASS_NAMES]);
    expect(bad.summary.warnings.join()).toContain('expected 10 class names');
  });

  it('warns when a batch is given twice and keeps the last', () => {
    const files = makeCifarFixtureFiles({ recordsPerBatch: 2 });
    const extra = makeCifarFixtureFiles({ recordsPerBatch: 3, trainBatches: [2], includeTest: false, includeMeta: false });
    const { dataset, summary } = loadFiles([...files, ...extra]);
    expect(dataset.train.count).toBe(2 * 4 + 3);
    expect(summary.warnings.join()).toContain('more than once');
  });
});

describe('loadPath (node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cifar-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a tar.gz, a folder of .bin files, a folder with the archive, and one .bin file', async () => {
    writeFileSync(join(dir, 'cifar-10-binary.tar.gz'), makeCifarFixtureArchive({ recordsPerBatch: 2 }));
    const bins = join(dir, 'bins');
    mkdirSync(bins);
    for (const f of makeCifarFixtureFiles({ recordsPerBatch: 2 })) writeFileSync(join(bins, baseName(f.name)), f.bytes);
    const a = await loadPath(join(dir, 'cifar-10-binary.tar.gz'));
    const b = await loadPath(bins);
    const c = await loadPath(dir);
    expect(a.dataset.train.count).toBe(10);
    expect(Buffer.compare(a.dataset.train.images, b.dataset.train.images)).toBe(0);
    expect(c.dataset.test.count).toBe(2);
    const one = await loadPath(join(bins, 'data_batch_1.bin'));
    expect(one.dataset.train.count + one.dataset.test.count).toBe(2);
  });

  it('says what is wrong with a missing path or an empty folder', async () => {
    expect((await rejectsWithDataError(loadPath(join(dir, 'nope')))).problem).toMatch(/no such file/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect((await rejectsWithDataError(loadPath(empty))).problem).toMatch(/no CIFAR-10 files/);
  });
});

describe('loadCifarFromUrl', () => {
  const files = new Map(
    makeCifarFixtureFiles({ recordsPerBatch: 3 }).map((f) => [baseName(f.name), f.bytes] as const),
  );
  const fakeFetch = (missing: string | null, fail: string | null): typeof fetch =>
    (async (input: string | URL | Request) => {
      const url = String(input);
      const name = baseName(url);
      if (name === fail) throw new TypeError('Failed to fetch');
      const body = files.get(name);
      if (!body || name === missing) return new Response('not found', { status: 404, statusText: 'Not Found' });
      return new Response(new Uint8Array(body), { status: 200, headers: { 'content-type': 'application/octet-stream' } });
    }) as typeof fetch;

  it('fetches the six shards with progress, resolved against the page', async () => {
    const progress: number[] = [];
    const { dataset, summary } = await loadCifarFromUrl('data/cifar-10/', {
      fetch: fakeFetch(null, null),
      pageUrl: 'https://example.org/app/',
      onProgress: (p) => progress.push(p.fraction),
    });
    expect(dataset.train.count).toBe(15);
    expect(dataset.test.count).toBe(3);
    expect(summary.files[0].name).toBe('https://example.org/app/data/cifar-10/data_batch_1.bin');
    expect(progress.length).toBeGreaterThan(5);
    expect(progress.at(-1)).toBe(1);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
  });

  it('names the URL on a 404 and on a network failure', async () => {
    const e404 = await rejectsWithDataError(
      loadCifarFromUrl('https://h.test/c10', { fetch: fakeFetch('data_batch_4.bin', null) }),
    );
    expect(e404.file).toBe('https://h.test/c10/data_batch_4.bin');
    expect(e404.problem).toContain('404');
    const eNet = await rejectsWithDataError(loadFromUrl('https://h.test/c10/', undefined, { fetch: fakeFetch(null, 'test_batch.bin') }));
    expect(eNet.file).toBe('https://h.test/c10/test_batch.bin');
    expect(eNet.problem).toContain('Failed to fetch');
  });

  it('refuses an HTML page served in place of a shard', async () => {
    const htmlFetch = (async () => new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } })) as typeof fetch;
    const e = await rejectsWithDataError(loadCifarFromUrl('https://h.test/', { fetch: htmlFetch }));
    expect(e.problem).toContain('HTML');
  });
});
