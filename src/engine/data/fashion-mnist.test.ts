import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataError, rejectsWithDataError } from './data-error.test-util';
import { classifyIdxMember, FASHION_MNIST_SYSTEM_DIR, loadFashionMnistFiles } from './fashion-mnist';
import { gzipDeterministic, makeCifarFixtureFiles, makeFashionMnistFixtureFiles } from './fixture';
import { loadFiles } from './load-files';
import { loadFashionMnistPath } from './load-path';
import { loadFashionMnistFromUrl } from './load-url';

describe('Fashion-MNIST files', () => {
  it('classifies the official names, gzipped or not, and nothing else', () => {
    expect(classifyIdxMember('dir/train-images-idx3-ubyte.gz')).toEqual({ split: 'train', kind: 'images' });
    expect(classifyIdxMember('t10k-labels-idx1-ubyte')).toEqual({ split: 'test', kind: 'labels' });
    expect(classifyIdxMember('train-images.idx3-ubyte')).toEqual({ split: 'train', kind: 'images' });
    expect(classifyIdxMember('train-images-idx1-ubyte')).toBeNull();
    expect(classifyIdxMember('data_batch_1.bin')).toBeNull();
  });

  for (const gzip of [true, false]) {
    it(`loads the four files (${gzip ? 'gzipped' : 'unpacked'}) dropped in any order`, () => {
      const files = makeFashionMnistFixtureFiles({ train: 12, test: 6, gzip }).reverse();
      const { dataset, summary } = loadFiles(files);
      expect(dataset.name).toBe('fashion-mnist');
      expect(dataset.classNames[9]).toBe('Ankle boot');
      expect(dataset.train.count).toBe(12);
      expect(dataset.test.count).toBe(6);
      expect(summary).toMatchObject({ name: 'fashion-mnist', train: 12, test: 6, warnings: [] });
      // Image 5 of train: label 5, fill 7*5+5 = 40 inside a one-pixel border, padded by two.
      expect(dataset.train.labels[5]).toBe(5);
      const img = dataset.train.images.subarray(5 * 3072, 6 * 3072);
      expect(img[(3 * 32 + 3) * 3]).toBe(40);
      expect(img[(2 * 32 + 2) * 3]).toBe(0);
    });
  }

  it('holds out a test split when the t10k files are missing, with a warning', () => {
    const files = makeFashionMnistFixtureFiles({ train: 20 }).filter((f) => f.name.startsWith('train'));
    const { dataset, summary } = loadFashionMnistFiles(files);
    expect(dataset.train.count).toBe(18);
    expect(dataset.test.count).toBe(2);
    expect(summary.warnings[0]).toMatch(/No t10k files/);
  });

  it('clear errors: unpaired, mismatched counts, mixed with CIFAR-10, renamed, fake .gz', () => {
    const files = makeFashionMnistFixtureFiles({ train: 8, test: 4 });
    const [trainImages, trainLabels, testImages] = files;
    expect(dataError(() => loadFiles([trainImages])).problem).toMatch(/no labels: add train-labels-idx1-ubyte.gz/);
    expect(dataError(() => loadFiles([trainLabels, testImages])).problem).toMatch(/train labels have no images: add train-images-idx3-ubyte.gz/);
    const other = makeFashionMnistFixtureFiles({ train: 9, test: 4 });
    const e = dataError(() => loadFiles([trainImages, other[1]]));
    expect(e.problem).toMatch(/holds 8 images but .* holds 9 labels/);
    const cifar = makeCifarFixtureFiles({ recordsPerBatch: 2, trainBatches: [1], includeTest: false, includeMeta: false })[0];
    expect(dataError(() => loadFiles([...files, cifar])).problem).toMatch(/one data set at a time/);
    expect(dataError(() => loadFiles([{ name: 'images.dat', bytes: makeFashionMnistFixtureFiles({ gzip: false })[0].bytes }])).problem).toMatch(/IDX file .* under another name/);
    expect(dataError(() => loadFiles([{ name: 'train-images-idx3-ubyte.gz', bytes: new TextEncoder().encode('<html>') }])).problem).toMatch(/not gzip/);
    const truncated = gzipDeterministic(makeFashionMnistFixtureFiles({ gzip: false })[0].bytes.subarray(0, 100));
    expect(dataError(() => loadFiles([{ name: 'train-images-idx3-ubyte.gz', bytes: truncated }, trainLabels])).problem).toMatch(/truncated/);
  });

  it('fetches the four .gz files from a folder URL and names a missing one', async () => {
    const files = new Map(makeFashionMnistFixtureFiles({ train: 10, test: 5 }).map((f) => [f.name, f.bytes]));
    const serve = (missing?: string): typeof fetch =>
      (async (input: RequestInfo | URL) => {
        const name = String(input).split('/').pop()!;
        const body = name === missing ? undefined : files.get(name);
        return body ? new Response(new Uint8Array(body), { status: 200 }) : new Response('not found', { status: 404 });
      }) as typeof fetch;
    const progress: number[] = [];
    const { dataset } = await loadFashionMnistFromUrl('https://example.org/fm', { fetch: serve(), onProgress: (p) => progress.push(p.fraction) });
    expect(dataset.train.count).toBe(10);
    expect(progress.at(-1)).toBe(1);
    const e = await rejectsWithDataError(loadFashionMnistFromUrl('https://example.org/fm/', { fetch: serve('t10k-labels-idx1-ubyte.gz') }));
    expect(e.file).toBe('https://example.org/fm/t10k-labels-idx1-ubyte.gz');
    expect(e.problem).toMatch(/404.*Fashion-MNIST/);
  });

  it.runIf(existsSync(`${FASHION_MNIST_SYSTEM_DIR}/train-images-idx3-ubyte.gz`))(
    'loads the real data set from the Debian package folder',
    async () => {
      const { dataset, summary } = await loadFashionMnistPath(FASHION_MNIST_SYSTEM_DIR);
      expect(summary).toMatchObject({ name: 'fashion-mnist', train: 60_000, test: 10_000, warnings: [] });
      // Balanced classes: 6,000 training and 1,000 test images each.
      const hist = new Array(10).fill(0);
      for (const l of dataset.test.labels) hist[l]++;
      expect(hist).toEqual(new Array(10).fill(1000));
      // The padding border is black in every image; the 28x28 content is not.
      let border = 0;
      let content = 0;
      for (let i = 0; i < 100; i++) {
        const img = dataset.test.images.subarray(i * 3072, (i + 1) * 3072);
        for (let x = 0; x < 32; x++) border += img[x * 3] + img[(31 * 32 + x) * 3];
        content += img[(16 * 32 + 16) * 3];
      }
      expect(border).toBe(0);
      expect(content).toBeGreaterThan(0);
    },
    30_000,
  );

  it('a folder without the files is a DataError that says where Debian puts them', async () => {
    const e = await rejectsWithDataError(loadFashionMnistPath('src/engine/data'));
    expect(e.problem).toMatch(/dataset-fashion-mnist/);
  });
});
