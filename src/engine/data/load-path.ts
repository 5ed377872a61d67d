import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyMember } from './cifar-binary';
import { addInputFile, CifarCollector, type LoadOptions, type LoadResult } from './load-files';
import { DataError } from './types';

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

export async function loadPath(path: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const k = await kind(path);
  if (k === null) throw new DataError(path, 'no such file or folder.');
  const paths = k === 'dir' ? await folderFiles(path) : [path];
  const collector = new CifarCollector();
  for (const p of paths) {
    let bytes: Uint8Array;
    try {
      const buf = await readFile(p);
      // A plain Uint8Array view: Buffer's slice() does not copy, which code written for Uint8Array assumes.
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      throw new DataError(p, `could not be read (${e instanceof Error ? e.message : String(e)}).`);
    }
    addInputFile(collector, { name: p, bytes }, opts);
  }
  return collector.finish(path, opts);
}
