import { gunzip, isGzip } from './archive';
import { baseName, sliceSplit } from './cifar-binary';
import { parseIdxImages, parseIdxLabels } from './idx';
import type { InputFile, LoadOptions, LoadResult } from './load-files';
import { DataError, type Dataset, type ImageSplit } from './types';

/**
 * Fashion-MNIST (Xiao et al. 2017, https://github.com/zalandoresearch/fashion-mnist) from its
 * four official IDX files, gzipped as distributed or already unpacked. Debian ships them in
 * the package dataset-fashion-mnist, under /usr/share/datasets/fashion-mnist.
 */

export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;

export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Where the app looks by default: `public/data/fashion-mnist/` copied into the build. */
export const DEFAULT_FASHION_MNIST_URL = 'data/fashion-mnist/';
export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

export interface IdxMember {
  split: 'train' | 'test';
  kind: 'images' | 'labels';
}

/**
 * Classifies a file by its base name: the official names, gzipped or not, also with a dot
 * before idx (as some mirrors spell them: train-images.idx3-ubyte). Null for anything else.
 */
export function classifyIdxMember(path: string): IdxMember | null {
  const m = /^(train|t10k)-(images|labels)[-.]idx([13])-ubyte(\.gz)?$/i.exec(baseName(path));
  if (!m) return null;
  const kind = m[2].toLowerCase() as IdxMember['kind'];
  if ((kind === 'images') !== (m[3] === '3')) return null;
  return { split: m[1].toLowerCase() === 'train' ? 'train' : 'test', kind };
}

function requireIdxMember(path: string): IdxMember {
  const m = classifyIdxMember(path);
  if (!m) {
    throw new DataError(
      path,
      `not a Fashion-MNIST file name. Expected ${Object.values(FASHION_MNIST_FILES).join(', ')} (gzipped or not).`,
    );
  }
  return m;
}

interface Part {
  images?: ImageSplit;
  labels?: Uint8Array;
  imageSource?: string;
  labelSource?: string;
}

/** Collects the IDX files by role; images and labels of a split are paired at the end. */
export class FashionMnistCollector {
  private readonly parts: Record<IdxMember['split'], Part> = { train: {}, test: {} };
  readonly warnings: string[] = [];

  add(file: InputFile, opts: LoadOptions = {}): void {
    const member = requireIdxMember(file.name);
    const raw = file.bytes instanceof Uint8Array ? file.bytes : new Uint8Array(file.bytes);
    const bytes = isGzip(raw) ? gunzip(file.name, raw, opts.maxBytes) : raw;
    if (/\.gz$/i.test(file.name) && bytes === raw) {
      if (raw.length === 0) throw new DataError(file.name, 'the file is empty (0 bytes). Re-download it.');
      throw new DataError(file.name, 'the name says .gz, but the contents are not gzip data. The download may be incomplete or an HTML error page.');
    }
    const part = this.parts[member.split];
    if (member.kind === 'images') {
      if (part.imageSource) this.warnings.push(`${file.name}: ${member.split} images given more than once (also ${part.imageSource}); the last one is used.`);
      part.images = parseIdxImages(file.name, bytes);
      part.imageSource = file.name;
    } else {
      if (part.labelSource) this.warnings.push(`${file.name}: ${member.split} labels given more than once (also ${part.labelSource}); the last one is used.`);
      part.labels = parseIdxLabels(file.name, bytes);
      part.labelSource = file.name;
    }
  }

  private pair(split: 'train' | 'test', label: string): ImageSplit | null {
    const p = this.parts[split];
    const prefix = split === 'train' ? 'train' : 't10k';
    if (!p.images && !p.labels) return null;
    if (!p.images) throw new DataError(p.labelSource!, `the ${split} labels have no images: add ${prefix}-images-idx3-ubyte.gz.`);
    if (!p.labels) throw new DataError(p.imageSource!, `the ${split} images have no labels: add ${prefix}-labels-idx1-ubyte.gz.`);
    if (p.images.count !== p.labels.length) {
      throw new DataError(
        label,
        `${p.imageSource} holds ${p.images.count} images but ${p.labelSource} holds ${p.labels.length} labels. The two files must come from the same release.`,
      );
    }
    return { images: p.images.images, labels: p.labels, count: p.images.count };
  }

  finish(label: string, opts: LoadOptions = {}): LoadResult {
    const warnings = [...this.warnings];
    let train = this.pair('train', label);
    if (!train || train.count === 0) {
      throw new DataError(label, `no training data: give ${FASHION_MNIST_FILES.trainImages} and ${FASHION_MNIST_FILES.trainLabels}.`);
    }
    const files = [
      { name: this.parts.train.imageSource!, records: train.count },
      { name: this.parts.train.labelSource!, records: train.count },
    ];
    let test = this.pair('test', label);
    if (test) {
      files.push({ name: this.parts.test.imageSource!, records: test.count }, { name: this.parts.test.labelSource!, records: test.count });
    } else {
      const n = Math.floor(train.count * (opts.holdOut ?? 0.1));
      if (n < 1 || train.count - n < 1) throw new DataError(label, `no t10k files and too few training images (${train.count}) to hold some out for testing.`);
      warnings.push(`No t10k files: the last ${n} training images are held out as the test set.`);
      test = sliceSplit(train, train.count - n, n);
      train = sliceSplit(train, 0, train.count - n);
    }
    const dataset: Dataset = { name: 'fashion-mnist', classNames: [...FASHION_MNIST_CLASS_NAMES], train, test };
    return { dataset, summary: { name: 'fashion-mnist', train: train.count, test: test.count, files, warnings } };
  }
}

/** True when any of the files is named like a Fashion-MNIST IDX file. */
export function isFashionMnistInput(files: readonly { name: string }[]): boolean {
  return files.some((f) => classifyIdxMember(f.name) !== null);
}

/** Loads Fashion-MNIST from user-given files. Throws a DataError the user can act on. */
export function loadFashionMnistFiles(files: InputFile[], opts: LoadOptions = {}): LoadResult {
  if (files.length === 0) throw new DataError('(no files)', 'no files were given.');
  const c = new FashionMnistCollector();
  for (const f of files) c.add(f, opts);
  return c.finish(files.length === 1 ? files[0].name : `${files.length} files`, opts);
}
