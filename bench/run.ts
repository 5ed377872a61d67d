import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setupNodeBackend } from '../src/cli/node-backend';
import { fastWebGpu, setFastWebGpu } from '../src/engine/kernels/webgpu/install';
import { deviceString, formatTable, isModelName, NODE_BACKENDS, type BenchOptions, type Figure, type NodeBackend } from './common';
import { BENCHES, BENCH_NAMES, runRegistered } from './registry';
import { errorMessage } from '../src/engine/error-message';

const USAGE = `usage: npm run bench -- <name|all> [--backend cpu|webgpu] [--model tiny|resnet20|resnet56|vgg16]
                        [--batch N] [--quick] [--warmup N] [--windows N] [--steps N] [--target F] [--seconds N] [--out FILE]
                        [--kernels fast|stock|both]
benchmarks:
${BENCH_NAMES.map((n) => `  ${n.padEnd(20)} ${BENCHES[n].about}`).join('\n')}
Each figure is printed as one JSON line, then a table. --out appends the JSON lines to FILE.
--kernels (webgpu): our kernels (fast, the default), tfjs 4.22's own (stock), or both in turn in one process.`;

export interface CliArgs {
  names: string[];
  opts: BenchOptions;
  out?: string;
  /** WebGPU kernel sets to run each benchmark with, in order; undefined: leave the switch alone. */
  kernels?: Kernels[];
}

type Kernels = 'fast' | 'stock';

export function parseBenchArgs(argv: string[]): CliArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      backend: { type: 'string', default: 'cpu' },
      model: { type: 'string' },
      batch: { type: 'string' },
      quick: { type: 'boolean', default: false },
      warmup: { type: 'string' },
      windows: { type: 'string' },
      steps: { type: 'string' },
      target: { type: 'string' },
      seconds: { type: 'string' },
      out: { type: 'string' },
      kernels: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length !== 1) throw new UsageError(USAGE);
  const name = positionals[0];
  if (name !== 'all' && !BENCHES[name]) throw new UsageError(`unknown benchmark "${name}"\n${USAGE}`);
  const backend = values.backend;
  if (!(NODE_BACKENDS as readonly string[]).includes(backend)) throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(', ')}`);
  if (values.model !== undefined && !isModelName(values.model)) throw new UsageError(`unknown model "${values.model}"`);
  const opts: BenchOptions = {
    backend: backend as NodeBackend,
    quick: values.quick,
    model: values.model !== undefined && isModelName(values.model) ? values.model : undefined,
    batch: count(values.batch, 'batch'),
    warmup: count(values.warmup, 'warmup', 0),
    windows: count(values.windows, 'windows'),
    steps: count(values.steps, 'steps'),
    target: values.target === undefined ? undefined : fraction(values.target),
    seconds: count(values.seconds, 'seconds'),
  };
  return { names: name === 'all' ? BENCH_NAMES : [name], opts, out: values.out, kernels: kernelsArg(values.kernels, opts.backend) };
}

export class UsageError extends Error {}

function count(s: string | undefined, what: string, min = 1): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${what} must be an integer >= ${min}, got "${s}"`);
  return n;
}

function kernelsArg(s: string | undefined, backend: NodeBackend): Kernels[] | undefined {
  if (s === undefined) return undefined;
  if (backend !== 'webgpu') throw new UsageError('--kernels needs --backend webgpu');
  // Ours first: if the stock run is slow enough to hit a time limit, our figures are already out.
  if (s === 'both') return ['fast', 'stock'];
  if (s === 'fast' || s === 'stock') return [s];
  throw new UsageError(`--kernels must be fast, stock or both, got "${s}"`);
}

function fraction(s: string): number {
  const f = Number(s);
  if (!(f > 0 && f < 1)) throw new UsageError(`--target must be a fraction in (0, 1), got "${s}"`);
  return f;
}

/** Runs the benchmarks named on the command line; resolves to the process exit code. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  let args: CliArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (e) {
    console.error(errorMessage(e));
    return 2;
  }
  const date = new Date().toISOString();
  const needsBackend = args.names.some((n) => !BENCHES[n].browser);
  let device = '';
  if (needsBackend) {
    await setupNodeBackend(args.opts.backend);
    device = await deviceString(args.opts.backend);
  }
  const all: Figure[] = [];
  let failed = 0;
  for (const name of args.names) {
    for (const kernels of args.kernels ?? [undefined]) {
      const label = kernels ? `${name} (${kernels} kernels)` : name;
      try {
        if (kernels) setFastWebGpu(kernels === 'fast');
        const figures = (await runRegistered(name, args.opts, { backend: args.opts.backend, device, date })).map((f) => stampKernels(f, args.opts.backend));
        // Printed per benchmark as it finishes: a run cut short by a time limit keeps what it had.
        const lines = figures.map((f) => JSON.stringify(f));
        for (const l of lines) console.log(l);
        if (args.out && lines.length > 0) {
          const path = resolve(args.out);
          await mkdir(dirname(path), { recursive: true });
          await appendFile(path, lines.join('\n') + '\n');
        }
        all.push(...figures);
      } catch (e) {
        failed++;
        console.error(`benchmark ${label} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    }
  }
  console.log('');
  console.log(formatTable(all));
  return failed > 0 ? 1 : 0;
}

/** On WebGPU every figure says which kernels produced it, unless the benchmark said so itself. */
function stampKernels(f: Figure, backend: NodeBackend): Figure {
  if (backend !== 'webgpu' || f.kernels) return f;
  return { ...f, kernels: fastWebGpu() ? 'fast' : 'stock' };
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  // Dawn keeps the event loop alive after the work is done: exit explicitly.
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exit(1);
    },
  );
}
