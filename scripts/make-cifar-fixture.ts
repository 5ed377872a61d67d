/**
 * npx tsx scripts/make-cifar-fixture.ts OUT.tar.gz [--records N] [--test-records N] [--seed S]
 *
 * Writes a small archive in the official CIFAR-10 binary layout (cifar-10-batches-bin/…),
 * deterministic for given options, for tests and e2e (the real data cannot be downloaded here).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeCifarFixtureArchive } from '../src/engine/data/fixture';

export async function main(argv: string[]): Promise<number> {
  let out: string | null = null;
  let records = 20;
  let testRecords: number | undefined;
  let seed = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--records') records = num();
    else if (a === '--test-records') testRecords = num();
    else if (a === '--seed') seed = num();
    else if (!a.startsWith('--') && out === null) out = a;
    else {
      process.stderr.write(`unknown argument ${a}\n`);
      return 2;
    }
  }
  if (!out || records < 1) {
    process.stderr.write('usage: make-cifar-fixture.ts OUT.tar.gz [--records N (>=1)] [--test-records N] [--seed S]\n');
    return 2;
  }
  const bytes = makeCifarFixtureArchive({ recordsPerBatch: records, testRecords, seed });
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFile(out, bytes);
  process.stdout.write(`wrote ${out} (${bytes.length} bytes; ${records} records per train batch, ${testRecords ?? records} test)\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
