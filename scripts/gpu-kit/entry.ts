/**
 * The GPU kit's one program, bundled into plain JS (scripts/gpu-kit/build.ts) and run by the
 * kit's own Node (gpu-kit/run.sh):
 *
 *   node bench.mjs <benchmark> [bench options]   the benchmark runner (bench/run.ts)
 *   node bench.mjs --probe                       starts WebGPU on Dawn and prints the adapter
 *   node bench.mjs --summary FILE                one line per figure of a JSON-lines file
 */
import { readFileSync } from 'node:fs';
import { setupNodeBackend } from '../../src/cli/node-backend';
import { deviceString, fmt } from '../../bench/common';
import { main } from '../../bench/run';

async function probe(): Promise<number> {
  await setupNodeBackend('webgpu');
  console.log(await deviceString('webgpu'));
  return 0;
}

interface Line {
  bench?: string;
  backend?: string;
  model?: string;
  batch?: number;
  variant?: string;
  kernels?: string;
  figure?: string;
  value?: number;
  unit?: string;
}

/** A compact table: the device tool returns only the tail of the output, so no notes or devices. */
function summarize(text: string): string {
  const rows: string[][] = [];
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    let f: Line;
    try {
      f = JSON.parse(raw) as Line;
    } catch {
      continue;
    }
    if (f.figure === undefined || typeof f.value !== 'number') continue;
    rows.push([f.bench ?? '', f.backend ?? '', f.model ?? '', f.batch === undefined ? '' : String(f.batch), [f.variant, f.kernels].filter(Boolean).join('/'), f.figure, fmt(f.value), f.unit ?? '']);
  }
  const head = ['bench', 'backend', 'model', 'batch', 'variant', 'figure', 'value', 'unit'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 6 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

async function kit(argv: string[]): Promise<number> {
  if (argv[0] === '--probe') return probe();
  if (argv[0] === '--summary') {
    if (!argv[1]) throw new Error('--summary needs a file');
    console.log(summarize(readFileSync(argv[1], 'utf8')));
    return 0;
  }
  return main(argv);
}

// Dawn keeps the event loop alive after the work is done: exit explicitly.
kit(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
