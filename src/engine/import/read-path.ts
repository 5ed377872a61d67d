import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { DataError } from '../data/types';
import { readCheckpoint, type ReadCheckpoint } from './read-checkpoint';
import { checkCheckpointSize } from './tensors';

/** Node-only (CLI): reads a checkpoint file, refusing an oversized one by its size before reading. */
export async function readCheckpointPath(path: string): Promise<ReadCheckpoint> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new DataError(path, 'is not a file');
    size = s.size;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(path, `cannot read the checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  checkCheckpointSize(basename(path), size);
  return readCheckpoint(basename(path), new Uint8Array(await readFile(path)));
}
