import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { classifyMember } from './cifar-binary';
import { classifyIdxMember, FashionMnistCollector } from './fashion-mnist';
import { addInputFile, CifarCollector, type LoadOptions, type LoadResult } from './load-files';
import { DataError } from './types';
import { errorMessage } from '../error-message';

/**
 * Node-only loader for the CLI and benchmarks (the only data module that imports node:*):
 * a path to the official tar.gz, a .tar, one .bin file, or a folder of .bin files (or a
 * folder holding cifar-10-batches-bin/ or cifar-10-binary.tar.gz).
 */

const ARCHIVE_NAMES = ['cifar-10-binary.tar.gz', 'cifar-10-binary.tgz', 'cifar-10-binary.tar'];

async function kind(path: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : null;
  } catch {
    return null;
  }
}

/** The files a folder contributes: its CIFAR-10 members, else a batches subfolder, else the archive. */
async function folderFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir);
  const members = entries.filter((e) => classifyMember(e) !== null).sort();
  if (members.some((m) => m.endsWith('.bin'))) return members.map((m) => join(dir, m));
  if (entries.includes('cifar-10-batches-bin') && (await kind(join(dir, 'cifar-10-batches-bin'))) === 'dir') {
    return folderFiles(join(dir, 'cifar-10-batches-bin'));
  }
  const archive = ARCHIVE_NAMES.find((a) => entries.includes(a));
  if (archive) return [join(dir, archive)];
  throw new DataError(
    dir,
    'no CIFAR-10 files in this folder. Expected data_batch_1.bin … data_batch_5.bin and test_batch.bin, ' +
      'a cifar-10-batches-bin folder, or cifar-10-binary.tar.gz (npm run data:cifar10 puts them in public/data/cifar-10/).',
  );
}

async function readBytes(p: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(p);
    // A plain Uint8Array view: Buffer's slice() does not copy, which code written for Uint8Array assumes.
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new DataError(p, `could not be read (${errorMessage(e)}).`);
  }
}

export async function loadPath(path: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const k = await kind(path);
  if (k === null) throw new DataError(path, 'no such file or folder.');
  const paths = k === 'dir' ? await folderFiles(path) : [path];
  const collector = new CifarCollector();
  for (const p of paths) addInputFile(collector, { name: p, bytes: await readBytes(p) }, opts);
  return collector.finish(path, opts);
}

/**
 * Fashion-MNIST from a folder holding its IDX files (gzipped or not), e.g.
 * /usr/share/datasets/fashion-mnist, or from one train-images file with its siblings beside it.
 */
export async function loadFashionMnistPath(path: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const k = await kind(path);
  if (k === null) throw new DataError(path, 'no such file or folder.');
  const dir = k === 'dir' ? path : dirname(path);
  const members = (await readdir(dir)).filter((e) => classifyIdxMember(e) !== null).sort();
  if (members.length === 0) {
    throw new DataError(
      dir,
      'no Fashion-MNIST files in this folder. Expected train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, ' +
        't10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (Debian: apt-get install dataset-fashion-mnist puts them in /usr/share/datasets/fashion-mnist).',
    );
  }
  // Both a .gz and its unpacked twin may sit side by side: read one of each role.
  const byRole = new Map<string, string>();
  for (const m of members) {
    const r = classifyIdxMember(m)!;
    const key = `${r.split}/${r.kind}`;
    if (!byRole.has(key) || !m.toLowerCase().endsWith('.gz')) byRole.set(key, m);
  }
  const collector = new FashionMnistCollector();
  for (const m of [...byRole.values()].sort()) {
    const p = join(dir, m);
    collector.add({ name: p, bytes: await readBytes(p) }, opts);
  }
  return collector.finish(dir, opts);
}
