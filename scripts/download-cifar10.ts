/**
 * npm run data:cifar10 [-- --out DIR] [--from FILE] [--url URL] [--timeout SECONDS] [--no-md5]
 *
 * Downloads the official CIFAR-10 binary archive, checks its MD5, and extracts the six .bin
 * batches and batches.meta.txt into public/data/cifar-10/, where the app fetches them from
 * (same origin). With --from it extracts an archive you downloaded yourself; --no-md5 skips
 * the checksum, for generated fixtures (scripts/make-cifar-fixture.ts) only.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { extractArchive } from '../src/engine/data/archive';
import { baseName, checkCifarSize, classifyMember } from '../src/engine/data/cifar-binary';
import { DataError } from '../src/engine/data/types';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const DEFAULT_OUT = 'public/data/cifar-10';

export class DownloadError extends Error {
  override name = 'DownloadError';
}

/** Fetches `url`, aborting if no bytes arrive for `idleSeconds` (a stalled or offline network). */
export async function download(url: string, idleSeconds: number, onProgress?: (bytes: number, total: number) => void): Promise<Uint8Array> {
  const ctrl = new AbortController();
  let timer = setTimeout(() => ctrl.abort(), idleSeconds * 1000);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(), idleSeconds * 1000);
  };
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: ctrl.signal });
    } catch (e) {
      const why = ctrl.signal.aborted ? `no answer within ${idleSeconds} s` : describe(e);
      throw new DownloadError(`could not reach ${url} (${why}). Check your internet connection, or download the file by other means and run: npm run data:cifar10 -- --from path/to/cifar-10-binary.tar.gz`);
    }
    if (!res.ok || !res.body) throw new DownloadError(`${url} answered ${res.status} ${res.statusText}.`);
    const total = Number(res.headers.get('content-length') ?? 0);
    const chunks: Uint8Array[] = [];
    let got = 0;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        touch();
        chunks.push(value);
        got += value.length;
        onProgress?.(got, total);
      }
    } catch (e) {
      const why = ctrl.signal.aborted ? `stalled for ${idleSeconds} s` : describe(e);
      throw new DownloadError(`the download of ${url} broke off after ${got} bytes (${why}). Run the command again.`);
    }
    return Buffer.concat(chunks);
  } finally {
    clearTimeout(timer);
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}

export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** Checks the archive and writes its CIFAR-10 members (flat) into `outDir`. Returns the files written. */
export async function extractCifar10(archiveName: string, bytes: Uint8Array, outDir: string, expectMd5: string | null = CIFAR10_MD5): Promise<string[]> {
  if (expectMd5) {
    const sum = md5(bytes);
    if (sum !== expectMd5) {
      throw new DownloadError(`${archiveName}: MD5 is ${sum}, expected ${expectMd5}. The file is damaged or not the official CIFAR-10 binary archive; delete it and download again.`);
    }
  }
  const { members, warnings } = extractArchive(archiveName, bytes);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const wanted = members.filter((m) => classifyMember(m.name) !== null);
  if (!wanted.some((m) => m.name.endsWith('.bin'))) throw new DataError(archiveName, 'the archive holds no CIFAR-10 .bin batches.');
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const m of wanted) {
    const name = baseName(m.name);
    if (name.endsWith('.bin')) checkCifarSize(m.name, m.bytes.length);
    const path = join(outDir, name);
    await writeFile(path, m.bytes);
    written.push(path);
  }
  return written;
}

interface Args {
  out: string;
  from: string | null;
  url: string;
  timeout: number;
  checkMd5: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { out: DEFAULT_OUT, from: null, url: CIFAR10_URL, timeout: 30, checkMd5: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new DownloadError(`${a} needs a value`);
      return v;
    };
    if (a === '--out') args.out = value();
    else if (a === '--from') args.from = value();
    else if (a === '--url') args.url = value();
    else if (a === '--timeout') args.timeout = Number(value());
    else if (a === '--no-md5') args.checkMd5 = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run data:cifar10 [-- --out DIR] [--from cifar-10-binary.tar.gz] [--url URL] [--timeout SECONDS] [--no-md5]\n');
      process.exit(0);
    } else throw new DownloadError(`unknown argument ${a} (try --help)`);
  }
  if (!(args.timeout > 0)) throw new DownloadError('--timeout must be a positive number of seconds');
  return args;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    let bytes: Uint8Array;
    let name: string;
    if (args.from) {
      name = args.from;
      bytes = await readFile(args.from).catch((e) => {
        throw new DownloadError(`cannot read ${args.from}: ${describe(e)}`);
      });
    } else {
      name = args.url;
      process.stdout.write(`downloading ${args.url}\n`);
      let lastShown = 0;
      bytes = await download(args.url, args.timeout, (got, total) => {
        if (got - lastShown < 8e6) return;
        lastShown = got;
        process.stdout.write(`  ${(got / 1e6).toFixed(0)}${total ? ` of ${(total / 1e6).toFixed(0)}` : ''} MB\n`);
      });
    }
    const written = await extractCifar10(name, bytes, resolve(args.out), args.checkMd5 ? CIFAR10_MD5 : null);
    process.stdout.write(`${args.checkMd5 ? 'MD5 ok; ' : ''}wrote ${written.length} files to ${args.out}:\n${written.map((w) => `  ${w}`).join('\n')}\n`);
    return 0;
  } catch (e) {
    if (e instanceof DownloadError || e instanceof DataError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
