/**
 * npm run gpu:kit:test — proves gpu-kit/ works on its own: copies it to a fresh folder, runs
 * `run.sh --smoke` there with no Node on the PATH (every other program of the PATH is still
 * reachable) and the kit's own Vulkan loader forced, and checks the JSON lines it prints and
 * writes to $OUT/results.jsonl. Takes a minute or two on SwiftShader, so it is not part of
 * the unit suite. Run `npm run gpu:kit` first (gpu:kit:test does).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const KIT = join(ROOT, 'gpu-kit');
const NODE_NAMES = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack', 'tsx']);
const SMOKE_LIMIT_S = 180;

interface Figure {
  bench: string;
  backend: string;
  device: string;
  figure: string;
  value: number;
  model?: string;
  variant?: string;
  kernels?: string;
}

/** A folder of links to every program on the PATH except Node's. */
function pathWithoutNode(dir: string): string {
  mkdirSync(dir);
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d || !existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      if (NODE_NAMES.has(name) || existsSync(join(dir, name))) continue;
      try {
        if (!statSync(join(d, name)).isFile()) continue;
        symlinkSync(join(d, name), join(dir, name));
      } catch {
        // Dangling links and unreadable entries are not programs anyone needs.
      }
    }
  }
  return dir;
}

function check(ok: boolean, what: string, failures: string[]): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

function main(): number {
  if (!existsSync(join(KIT, 'run.sh'))) {
    console.error('gpu-kit/ is missing: run `npm run gpu:kit` first');
    return 1;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'dpm-gpu-kit-test-'));
  try {
    const kit = join(tmp, 'kit');
    cpSync(KIT, kit, { recursive: true });
    const out = join(tmp, 'out');
    const bin = pathWithoutNode(join(tmp, 'bin'));
    const env: NodeJS.ProcessEnv = { HOME: tmp, TMPDIR: tmp, PATH: bin, OUT: out, KIT_FORCE_VULKAN_DEB: '1', LANG: 'C.UTF-8' };
    const failures: string[] = [];
    check(spawnSync('bash', ['-c', 'command -v node'], { env }).status !== 0, 'no node on the PATH the kit runs with', failures);
    const t0 = Date.now();
    const r = spawnSync('bash', [join(kit, 'run.sh'), '--smoke'], { cwd: tmp, env, encoding: 'utf8', timeout: (SMOKE_LIMIT_S + 60) * 1000 });
    const seconds = (Date.now() - t0) / 1000;
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    console.log(`\nrun.sh --smoke: exit ${r.status}, ${seconds.toFixed(0)} s`);
    check(r.status === 0, 'run.sh --smoke exits 0', failures);
    check(seconds < SMOKE_LIMIT_S, `smoke run under ${SMOKE_LIMIT_S} s`, failures);
    check(/kit: mode smoke, .*node v\d+\.\d+\.\d+ \(.*dpm-gpu-kit\.[^/]+\/bin\/node\)/.test(r.stdout), "the kit's own node ran", failures);
    check(/Vulkan loader: the kit's libvulkan1_/.test(r.stdout), "the kit's Vulkan loader was used", failures);
    const stdoutLines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
    const resultsPath = join(out, 'results.jsonl');
    const fileLines = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8').split('\n').filter((l) => l.startsWith('{')) : [];
    check(fileLines.length > 0 && fileLines.join('\n') === stdoutLines.join('\n'), '$OUT/results.jsonl holds the JSON lines printed', failures);
    check(existsSync(join(out, 'run.log')), '$OUT/run.log written', failures);
    const figures = fileLines.map((l) => JSON.parse(l) as Figure);
    const webgpu = figures.filter((f) => f.backend === 'webgpu');
    check(webgpu.length > 0 && webgpu.every((f) => /^webgpu: .+; CPU: /.test(f.device) && !/unknown adapter/.test(f.device)), 'every WebGPU figure names its adapter', failures);
    const has = (pred: (f: Figure) => boolean, what: string) => check(figures.some(pred), what, failures);
    for (const variant of ['plain', 'dpm']) {
      for (const kernels of ['fast', 'stock']) {
        has((f) => f.bench === 'dispatches' && f.figure === 'dispatches_per_step' && f.variant === variant && f.kernels === kernels && f.value > 0, `dispatches ${variant}/${kernels}`);
      }
    }
    has((f) => f.figure === 'max_serial_macs_per_invocation' && f.model === 'resnet56', 'max serial MACs for resnet56');
    for (const kernels of ['fast', 'stock']) has((f) => f.bench === 'train-throughput' && f.backend === 'webgpu' && f.kernels === kernels && f.figure === 'train images/s', `train-throughput with ${kernels} kernels`);
    has((f) => f.bench === 'dpm-overhead' && f.figure === 'DPM overhead', 'dpm-overhead');
    has((f) => f.bench === 'slim-speedup' && f.figure === 'measured speed-up', 'slim-speedup');
    const torch = spawnSync('python3', ['-c', 'import torch'], { env }).status === 0;
    if (torch) has((f) => f.backend.startsWith('pytorch-'), 'pytorch reference');
    else check(/SKIP pytorch/.test(r.stdout), 'pytorch skipped with a line saying why (no torch here)', failures);
    check(/kit: DONE \(smoke\): \d+ figures, 0 failures/.test(r.stdout), 'the run ends with its summary line', failures);
    console.log(failures.length === 0 ? '\ngpu kit: all checks passed' : `\ngpu kit: ${failures.length} checks failed`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

process.exit(main());
