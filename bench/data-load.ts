/**
 * Data loading speed: the official CIFAR-10 layout at full size (5 x 10,000 training records
 * plus a 10,000-record test batch, ~184 MB) generated in memory, then parsed to resident
 * NHWC uint8, from loose .bin files, from a .tar, and from a .tar.gz.
 *
 *   npm run bench -- data-load        (through the runner)
 *   npx tsx bench/data-load.ts [--quick]
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'fflate';
import { CIFAR10_RECORDS_PER_FILE, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, CIFAR_RECORD_BYTES } from '../src/engine/data/cifar-binary';
import { writeTar } from '../src/engine/data/fixture';
import { loadFiles, type InputFile } from '../src/engine/data/load-files';
import { formatTable, median, stampFigures, type BenchOptions, type FigureInput } from './common';

/** Random pixels with valid labels: parsing cost does not depend on the content. */
function makeBatchFile(records: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(records * CIFAR_RECORD_BYTES);
  const words = new Uint32Array(bytes.buffer, 0, bytes.length >>> 2);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    words[i] = s;
  }
  for (let r = 0; r < records; r++) bytes[r * CIFAR_RECORD_BYTES] = (r * 7 + seed) % 10;
  return bytes;
}

function time<T>(fn: () => T): { seconds: number; result: T } {
  const t0 = performance.now();
  const result = fn();
  return { seconds: (performance.now() - t0) / 1000, result };
}

export async function run(opts: Partial<BenchOptions> = {}): Promise<FigureInput[]> {
  const records = opts.quick ? 500 : CIFAR10_RECORDS_PER_FILE;
  const repeats = opts.quick ? 1 : 3;
  const names = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const files: InputFile[] = names.map((name, i) => ({ name, bytes: makeBatchFile(records, i + 1) }));
  const trainImages = records * CIFAR10_TRAIN_FILES.length;
  const note = `${trainImages} train + ${records} test records (${((names.length * records * CIFAR_RECORD_BYTES) / 2 ** 20).toFixed(0)} MB raw); median of ${repeats}`;

  const parse: number[] = [];
  let residentBytes = 0;
  for (let i = 0; i < repeats; i++) {
    const { seconds, result } = time(() => loadFiles(files));
    parse.push(seconds);
    const d = result.dataset;
    residentBytes = d.train.images.byteLength + d.train.labels.byteLength + d.test.images.byteLength + d.test.labels.byteLength;
  }

  const tar = writeTar(files.map((f) => ({ name: `cifar-10-batches-bin/${f.name}`, bytes: f.bytes as Uint8Array })));
  const tarTimes: number[] = [];
  for (let i = 0; i < repeats; i++) tarTimes.push(time(() => loadFiles([{ name: 'cifar-10-binary.tar', bytes: tar }])).seconds);

  const gz = gzipSync(tar, { level: 1 });
  const gzTimes: number[] = [];
  for (let i = 0; i < repeats; i++) gzTimes.push(time(() => loadFiles([{ name: 'cifar-10-binary.tar.gz', bytes: gz }])).seconds);

  const base = { note, backend: 'none' };
  return [
    { figure: 'parse_seconds', value: median(parse), unit: 's', ...base },
    { figure: 'parse_images_per_second', value: (trainImages + records) / median(parse), unit: 'images/s', ...base },
    { figure: 'resident_mb', value: residentBytes / 2 ** 20, unit: 'MB', ...base },
    { figure: 'tar_load_seconds', value: median(tarTimes), unit: 's', ...base },
    { figure: 'targz_load_seconds', value: median(gzTimes), unit: 's', ...base },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const quick = process.argv.includes('--quick');
  run({ quick }).then((raw) => {
    const figures = stampFigures('data-load', raw, { backend: 'none', device: cpus()[0]?.model ?? 'cpu', date: new Date().toISOString() });
    for (const f of figures) process.stdout.write(`${JSON.stringify(f)}\n`);
    process.stdout.write(`\n${formatTable(figures)}\n`);
  });
}
