#!/usr/bin/env bash
# DPM Playground GPU kit, built by `npm run gpu:kit` (see bench/README.md).
#
#   bash gpu-kit/run.sh           every GPU figure in one run, under 8 minutes on one GPU
#   bash gpu-kit/run.sh --smoke   the smallest configuration (tiny model, a step or two);
#                                 runs on SwiftShader where there is no GPU
#
# Needs no network and no Node: the kit carries Node, Dawn for Node and the bundled
# benchmarks. Needs bash, coreutils, tar and xz (or python3); dpkg only where the machine
# has no Vulkan loader. Every figure is printed as one JSON line; with $OUT set they also go
# to $OUT/results.jsonl, and every benchmark's full output to $OUT/run.log. A benchmark that
# fails or runs out of time prints "KIT FAIL <name>: ..." and the others still run; the exit
# status is then 1.
#
# Environment: KIT_BUDGET_S (seconds for the whole run; 465 full, 170 smoke),
# KIT_FORCE_VULKAN_DEB=1 (use the kit's Vulkan loader even if the machine has one),
# KIT_ALLOW_CPU_ADAPTER=1 (full run even on SwiftShader: takes hours, measures nothing),
# VK_ICD_FILENAMES / VK_DRIVER_FILES (the Vulkan driver; found by itself for NVIDIA).
set -u
set -o pipefail

KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODE=full
case "${1:-}" in
  --smoke) MODE=smoke ;;
  "") ;;
  *)
    echo "usage: bash run.sh [--smoke]" >&2
    exit 2
    ;;
esac

START=$(date +%s)
if [ "$MODE" = smoke ]; then BUDGET=${KIT_BUDGET_S:-170}; else BUDGET=${KIT_BUDGET_S:-465}; fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dpm-gpu-kit.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  RESULTS="$OUT/results.jsonl"
  LOG="$OUT/run.log"
else
  RESULTS="$WORK/results.jsonl"
  LOG="$WORK/run.log"
fi
: >"$RESULTS"
: >"$LOG"
FAILURES=0

elapsed() { echo $(($(date +%s) - START)); }
note() {
  echo "kit: $*"
  echo "kit: $*" >>"$LOG"
}
fail() {
  FAILURES=$((FAILURES + 1))
  echo "KIT FAIL $*"
  echo "KIT FAIL $*" >>"$LOG"
}

# run_step NAME CAP_SECONDS COMMAND...: runs COMMAND with a time limit (its cap, or what is
# left of the whole run's budget), prints its JSON lines, and says how it went.
run_step() {
  local name=$1 cap=$2
  shift 2
  local left=$((BUDGET - $(elapsed)))
  if [ "$left" -lt 15 ]; then
    fail "$name: skipped, the run's ${BUDGET} s budget is spent"
    return
  fi
  local limit=$((cap < left ? cap : left))
  local out="$WORK/$name.log" t0
  t0=$(date +%s)
  note "$name: running (limit ${limit} s)"
  timeout -k 5 "$limit" "$@" >"$out" 2>&1
  local rc=$? secs=$(($(date +%s) - t0)) n bad
  {
    echo "===== $name: rc=$rc after ${secs} s: $*"
    cat "$out"
  } >>"$LOG"
  n=$(grep -c '^{' "$out" || true)
  grep '^{' "$out" | tee -a "$RESULTS"
  # Dawn reports WebGPU validation errors and carries on; the command buffer they hit is
  # dropped, so figures measured over it are not to be trusted.
  bad=$(grep -c '^validation:' "$out" || true)
  if [ "$bad" -gt 0 ]; then
    note "WARN $name: $bad WebGPU validation errors (their command buffers were dropped); first: $(grep -m1 -A1 '^validation:' "$out" | tail -n 1)"
  fi
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    fail "$name: stopped at its ${limit} s limit with $n figures out"
  elif [ "$rc" -ne 0 ]; then
    fail "$name: exit status $rc with $n figures out; its last lines:"
    tail -n 8 "$out" | sed 's/^/  | /'
  else
    note "$name: $n figures in ${secs} s"
  fi
}

# --- runtime: Node, Dawn and the bundled benchmarks ---------------------------------------
for archive in node app; do
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$KIT/$archive.tar.xz" | tar -xf - -C "$WORK"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$KIT/$archive.tar.xz" | tar -xf - -C "$WORK"
  fi || fail "runtime: could not unpack $archive.tar.xz"
done
NODE="$WORK/bin/node"
if ! NODE_VERSION=$("$NODE" --version 2>&1); then
  fail "runtime: the kit's Node does not run here: $NODE_VERSION"
  exit 1
fi
note "mode $MODE, budget ${BUDGET} s; node $NODE_VERSION ($NODE); $(uname -m), $(nproc) CPUs"

# --- Vulkan: the loader, then the driver --------------------------------------------------
LDCONFIG=$(command -v ldconfig || echo /sbin/ldconfig)
if [ -n "${KIT_FORCE_VULKAN_DEB:-}" ] || ! "$LDCONFIG" -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  DEB=$(ls "$KIT"/vulkan/libvulkan1_*.deb 2>/dev/null | head -n 1)
  # Unpacked into the work folder, not /: Dawn dlopens libvulkan.so.1, which honours
  # LD_LIBRARY_PATH, and the machine is left as it was (and no root is needed).
  if [ -n "$DEB" ] && dpkg -x "$DEB" "$WORK/vulkan"; then
    export LD_LIBRARY_PATH="$WORK/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    note "Vulkan loader: the kit's $(basename "$DEB")"
  else
    fail "vulkan: no Vulkan loader on this machine and the kit's .deb could not be unpacked (is dpkg installed?)"
  fi
else
  note "Vulkan loader: the machine's ($("$LDCONFIG" -p | grep -m1 'libvulkan\.so\.1 ' | sed 's/.*=> //'))"
fi
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$f" ]; then
      # Both names: loaders before 1.3.207 read only the first.
      export VK_ICD_FILENAMES="$f" VK_DRIVER_FILES="$f"
      break
    fi
  done
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ "$MODE" = smoke ] && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
    export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
  fi
fi
note "Vulkan driver: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-none named, the default search of the loader}}"
if command -v nvidia-smi >/dev/null 2>&1; then
  note "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n 1)"
fi

# --- WebGPU adapter ------------------------------------------------------------------------
GPU_OK=1
if ADAPTER=$(timeout -k 5 60 "$NODE" "$WORK/bench.mjs" --probe 2>"$WORK/probe.err"); then
  ADAPTER=$(echo "$ADAPTER" | tail -n 1)
  note "WebGPU adapter: $ADAPTER"
  if [ "$MODE" = full ] && [ -z "${KIT_ALLOW_CPU_ADAPTER:-}" ] && echo "$ADAPTER" | grep -qi 'swiftshader\|llvmpipe\|lavapipe'; then
    fail "webgpu: the adapter is a CPU emulation, not a GPU: the WebGPU benchmarks are skipped (KIT_ALLOW_CPU_ADAPTER=1 runs them anyway)"
    GPU_OK=0
  fi
else
  fail "webgpu: WebGPU did not start, so the WebGPU benchmarks are skipped; its last lines:"
  tail -n 8 "$WORK/probe.err" | sed 's/^/  | /'
  cat "$WORK/probe.err" >>"$LOG"
  GPU_OK=0
fi

# bench_step NAME CAP BENCHMARK [OPTIONS...]: one benchmark on WebGPU, in its own process.
bench_step() { run_step "$1" "$2" "$NODE" "$WORK/bench.mjs" "$3" --backend webgpu "${@:4}"; }

# --- the benchmarks --------------------------------------------------------------------------
export PYTHONUNBUFFERED=1
if python3 -c 'import torch' >/dev/null 2>&1; then
  if [ "$MODE" = smoke ]; then
    run_step pytorch 60 python3 "$KIT/pytorch/train_throughput.py" --model tiny --batch 2 --warmup 1 --windows 1 --steps 1
  else
    run_step pytorch 75 python3 "$KIT/pytorch/train_throughput.py" --model resnet56 --model vgg16 --batch 128
  fi
elif [ "$MODE" = smoke ]; then
  note "SKIP pytorch: python3 here has no torch (the GPU machine's has)"
else
  fail "pytorch: python3 cannot import torch"
fi

if [ "$GPU_OK" = 1 ]; then
  if [ "$MODE" = smoke ]; then
    bench_step dispatches 80 dispatches --model tiny --batch 2 --warmup 1
    bench_step train-throughput 60 train-throughput --model tiny --batch 2 --kernels both --warmup 0 --windows 1 --steps 1
    bench_step dpm-overhead 50 dpm-overhead --model tiny --batch 2 --warmup 1 --steps 1
    bench_step slim-speedup 50 slim-speedup --model tiny --batch 2 --warmup 0 --windows 1 --steps 1
  else
    bench_step dispatches 75 dispatches --batch 128
    bench_step train-throughput-resnet56 95 train-throughput --model resnet56 --batch 128 --kernels both --warmup 3 --windows 3 --steps 5
    bench_step train-throughput-vgg16 95 train-throughput --model vgg16 --batch 128 --kernels both --warmup 3 --windows 3 --steps 5
    bench_step dpm-overhead 60 dpm-overhead --model resnet56 --batch 128 --kernels both --warmup 2 --steps 5
    bench_step slim-speedup 60 slim-speedup --batch 128 --warmup 2 --windows 3 --steps 5
  fi
fi

# --- summary ---------------------------------------------------------------------------------
FIGURES=$(grep -c '^{' "$RESULTS" || true)
echo
"$NODE" "$WORK/bench.mjs" --summary "$RESULTS" | tee -a "$LOG"
echo
if [ -n "${OUT:-}" ]; then WHERE="$RESULTS"; else WHERE="stdout only (set OUT to keep them)"; fi
note "DONE ($MODE): $FIGURES figures, $FAILURES failures, $(elapsed) s; figures in $WHERE"
[ "$FAILURES" -eq 0 ]
