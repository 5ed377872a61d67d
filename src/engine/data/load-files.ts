import { readArchive, isGzip, isTar, type ArchiveOptions } from './archive';
import {
  CIFAR10_CLASS_NAMES,
  CIFAR10_TEST_FILE,
  baseName,
  classifyMember,
  concatSplits,
  parseCifarBatch,
  parseClassNames,
  requireMember,
  sliceSplit,
} from './cifar-binary';
import { isFashionMnistInput, loadFashionMnistFiles } from './fashion-mnist';
import { looksLikeIdx } from './idx';
import { DataError, type Dataset, type ImageSplit } from './types';

/**
 * Turns whatever the user gave (the official tar.gz, a .tar, loose .bin/.txt files, or a
 * mix) into one CIFAR-10 Dataset. Batches are parsed as soon as they are read, so only one
 * raw batch is held at a time next to the resident data.
 */

export interface InputFile {
  name: string;
  bytes: Uint8Array | ArrayBuffer;
}

/** Same shape as the worker protocol's DatasetSummary. */
export interface LoadSummary {
  name: string;
  train: number;
  test: number;
  /** Each CIFAR-10 batch that was used, with its record count (archive members as 'archive:member'). */
  files: { name: string; records: number }[];
  warnings: string[];
}

export interface LoadResult {
  dataset: Dataset;
  summary: LoadSummary;
}

export interface LoadOptions extends Pick<ArchiveOptions, 'maxBytes'> {
  /** Fraction of the training records held out as the test split when there is no test_batch.bin. */
  holdOut?: number;
}

/** Fraction of training images held out for testing when no test batch was given. */
export const DEFAULT_HOLD_OUT = 0.1;

/** Accumulates parsed batches by role; a later copy of the same batch replaces the earlier one. */
export class CifarCollector {
  private readonly train = new Map<number, { source: string; split: ImageSplit }>();
  private test: { source: string; split: ImageSplit } | null = null;
  private classNames: string[] | null = null;
  readonly warnings: string[] = [];

  /** Adds one CIFAR-10 member; `strict` makes an unknown name a DataError instead of a warning. */
  add(source: string, bytes: Uint8Array, strict: boolean): void {
    const member = strict ? requireMember(source) : classifyMember(source);
    // Other archive members (the official archive's readme.html) are simply not data.
    if (!member) return;
    if (member.kind === 'meta') {
      const parsed = parseClassNames(bytes);
      if ('names' in parsed) this.classNames = parsed.names;
      else this.warnings.push(`${source}: ${parsed.problem}; using the standard CIFAR-10 class names.`);
      return;
    }
    const split = parseCifarBatch(source, bytes);
    if (member.kind === 'test') {
      if (this.test) this.warnings.push(`${source}: ${CIFAR10_TEST_FILE} given more than once (also ${this.test.source}); the last one is used.`);
      this.test = { source, split };
    } else {
      const prev = this.train.get(member.index);
      if (prev) this.warnings.push(`${source}: ${baseName(source)} given more than once (also ${prev.source}); the last one is used.`);
      this.train.set(member.index, { source, split });
    }
  }

  finish(label: string, opts: LoadOptions = {}): LoadResult {
    const warnings = [...this.warnings];
    const indices = [...this.train.keys()].sort((a, b) => a - b);
    if (indices.length === 0) {
      throw new DataError(
        label,
        `no training data: none of data_batch_1.bin … data_batch_5.bin was found${this.test ? ` (only ${CIFAR10_TEST_FILE})` : ''}. ` +
          'Give the official cifar-10-binary.tar.gz or the data_batch_N.bin files.',
      );
    }
    const missing = [1, 2, 3, 4, 5].filter((i) => !this.train.has(i));
    if (missing.length > 0) {
      warnings.push(
        `Only ${indices.length} of 5 training batches found (missing ${missing.map((i) => `data_batch_${i}.bin`).join(', ')}); training on those present.`,
      );
    }
    const used = indices.map((i) => this.train.get(i)!);
    const files = used.map((u) => ({ name: u.source, records: u.split.count }));
    let train = concatSplits(used.map((u) => u.split));
    let test: ImageSplit;
    if (this.test) {
      test = this.test.split;
      files.push({ name: this.test.source, records: test.count });
    } else {
      const holdOut = opts.holdOut ?? DEFAULT_HOLD_OUT;
      const n = Math.max(1, Math.floor(train.count * holdOut));
      if (n < 1 || train.count - n < 1) {
        throw new DataError(label, `no ${CIFAR10_TEST_FILE} and too few training images (${train.count}) to hold some out for testing.`);
      }
      warnings.push(`No ${CIFAR10_TEST_FILE}: the last ${n} training images are held out as the test set.`);
      test = sliceSplit(train, train.count - n, n);
      train = sliceSplit(train, 0, train.count - n);
    }
    const dataset: Dataset = {
      name: 'cifar10',
      classNames: this.classNames ?? [...CIFAR10_CLASS_NAMES],
      train,
      test,
    };
    return {
      dataset,
      summary: { name: 'cifar10', train: train.count, test: test.count, files, warnings },
    };
  }
}

function asBytes(b: Uint8Array | ArrayBuffer): Uint8Array {
  return b instanceof Uint8Array ? b : new Uint8Array(b);
}

/** Adds one user-given file (archive or loose member) to a collector. */
export function addInputFile(c: CifarCollector, file: InputFile, opts: LoadOptions = {}): void {
  const bytes = asBytes(file.bytes);
  const lower = file.name.toLowerCase();
  const looksArchive = /\.(tar\.gz|tgz|tar|gz)$/.test(lower);
  if (isGzip(bytes) || (isTar(bytes) && !classifyMember(file.name)) || (looksArchive && bytes.length === 0)) {
    let members = 0;
    let pythonVersion = false;
    readArchive(
      file.name,
      bytes,
      (m) => {
        if (classifyMember(m.name)) members++;
        else if (/(^|\/)cifar-10-batches-py\//.test(m.name)) pythonVersion = true;
        c.add(`${file.name}:${m.name}`, m.bytes, false);
      },
      { maxBytes: opts.maxBytes, warnings: c.warnings },
    );
    if (members === 0) {
      throw new DataError(
        file.name,
        pythonVersion
          ? 'this is the Python (pickle) version of CIFAR-10; download the binary version, cifar-10-binary.tar.gz.'
          : 'the archive holds no CIFAR-10 batch files (data_batch_N.bin, test_batch.bin). Is it the binary version of CIFAR-10?',
      );
    }
    return;
  }
  if (looksArchive) {
    throw new DataError(file.name, 'the name says archive, but the contents are neither gzip nor tar. The download may be incomplete or an HTML error page.');
  }
  c.add(file.name, bytes, true);
}

/**
 * Loads CIFAR-10, or Fashion-MNIST when the files are named like its IDX files, from
 * user-given files. Throws a DataError the user can act on.
 */
export function loadFiles(files: InputFile[], opts: LoadOptions = {}): LoadResult {
  if (files.length === 0) throw new DataError('(no files)', 'no files were given.');
  if (isFashionMnistInput(files)) {
    const other = files.find((f) => classifyMember(f.name));
    if (other) throw new DataError(other.name, 'a CIFAR-10 file among Fashion-MNIST files: load one data set at a time.');
    return loadFashionMnistFiles(files, opts);
  }
  const idx = files.find((f) => looksLikeIdx(asBytes(f.bytes)));
  if (idx) {
    throw new DataError(idx.name, 'this is an IDX file (the MNIST / Fashion-MNIST format) under another name. Name it as released, e.g. train-images-idx3-ubyte or t10k-labels-idx1-ubyte.gz.');
  }
  const c = new CifarCollector();
  for (const f of files) addInputFile(c, f, opts);
  return c.finish(files.length === 1 ? files[0].name : `${files.length} files`, opts);
}
