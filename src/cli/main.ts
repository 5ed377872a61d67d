import * as tf from '@tensorflow/tfjs';
import { countCost } from '../engine/cost';
import { FASHION_MNIST_SYSTEM_DIR } from '../engine/data/fashion-mnist';
import { loadFashionMnistPath, loadPath } from '../engine/data/load-path';
import { syntheticDataset } from '../engine/data/synthetic';
import { DataError, type Dataset } from '../engine/data/types';
import type { EngineEvent } from '../engine/events';
import { MODEL_NAMES, type ExperimentConfig, type ModelName } from '../engine/experiment';
import { buildModelDef } from '../engine/models';
import { disposeModel } from '../engine/models/graph';
import { runExperiment } from '../engine/train/run';
import { configFromFlags, parseFlags, UsageError, type Flags } from './args';
import { evalCommand, loadInit, writeOnnxExport, writeTorchExport } from './init-weights';
import { compareTable, damageFigures, parseSchedules, schedulePath, type CompareRow, type DamageFigures } from './compare';
import { BackendSetupError, setupNodeBackend } from './node-backend';
import { errorMessage } from '../engine/error-message';
import { writeRunRecord } from './record';

const USAGE = `DPM Playground command line: the app's engine, headless.

  npm run cli -- info  --model resnet56 [--json]
  npm run cli -- train --model tiny --dataset synthetic --epochs 1 --backend cpu [--json]
  npm run cli -- prune --model tiny --pruner depgraph --schedule sr --target 0.5 [--json]
  npm run cli -- eval  --init resnet56.th [--model resnet56] --dataset cifar10 --data PATH [--json]
  npm run cli -- compare --schedules abrupt,sp,sr --model tiny --dataset fashion-mnist [--init PATH] [--json]
           (the same config, seed and starting weights under each schedule; a JSON line per schedule,
            then a table; --export-onnx/--export-safetensors PATH write PATH-<schedule>.onnx/.safetensors)

Data:    --dataset synthetic|cifar10|fashion-mnist  --data PATH
           cifar10: cifar-10-binary.tar.gz, a folder of .bin files, or one .bin
           fashion-mnist: the folder of its four IDX files, gzipped or not (default ${FASHION_MNIST_SYSTEM_DIR})
         --train-limit N --test-limit N --synthetic-size N --no-augment
Train:   --epochs --batch-size --lr --momentum --weight-decay --lr-schedule cosine|step|constant --seed
Prune:   --pruner none|depgraph|otov2|gate --schedule abrupt|sp|sr --target F --target-kind flops|params
         --start-at F --points K --every STEPS --decay-steps N --t-rate T --t-len T --norm l1|l2
         --scope global|layer --sparse --sparse-reg R --telemetry-every STEPS --align K
Weights: --init PATH (PyTorch .pt/.pth/.th or .safetensors: ResNet-20/56 option A or B, VGG16-BN; train, prune, eval)
         --input-norm cifar10|cifar10-kuangliu|imagenet|m1,m2,m3/s1,s2,s3 (the input normalisation it was trained with)
         --export-safetensors PATH (the final, slimmed model under PyTorch's names, + PATH.json manifest)
         --export-onnx PATH (the final, slimmed model as ONNX: input NCHW [N,3,32,32] normalised as in training, output logits [N,10])
Backend: --backend cpu|webgpu (webgpu: Dawn for Node over a Vulkan driver)
Output:  --json (one JSON object per line) --verbose (stack traces)
         --record PATH (train, prune: the run's config and event log as an app run file, opened
           from the app's runs list; compare: one file per schedule, named as the exports are:
           runs/x.json -> runs/x-abrupt.json …, or runs/x.{schedule}.json -> runs/x.abrupt.json …)`;

async function main(argv: string[]): Promise<number> {
  let flags: Flags;
  let command: string | undefined;
  try {
    const parsed = parseFlags(argv);
    flags = parsed.values;
    command = parsed.positionals[0];
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (flags.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || flags.help ? 0 : 2;
  }
  const out = (o: object, text: string) => process.stdout.write(flags.json ? `${JSON.stringify(o)}\n` : `${text}\n`);
  try {
    switch (command) {
      case 'info':
        return info(flags, out);
      case 'train':
      case 'prune':
        return await train(configFromFlags(flags, command), flags, out);
      case 'eval':
        return await evalCommand(configFromFlags(flags, 'train'), flags, out);
      case 'compare':
        return await compare(flags, out);
      default:
        throw new UsageError(`unknown command "${command}": use info, train, prune, eval or compare`);
    }
  } catch (e) {
    const known = e instanceof DataError || e instanceof UsageError || e instanceof BackendSetupError;
    process.stderr.write(`error: ${errorMessage(e)}\n`);
    if (flags.verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return known ? 2 : 1;
  }
}

type Out = (o: object, text: string) => void;

function info(flags: Flags, out: Out): number {
  const name = (flags.model ?? 'resnet56') as ModelName;
  if (!MODEL_NAMES.includes(name)) throw new UsageError(`--model: "${name}" is not one of ${MODEL_NAMES.join(', ')}`);
  const def = buildModelDef(name);
  const { params, flops } = countCost(def);
  const channels = def.families.reduce((s, f) => s + f.channels, 0);
  out(
    { model: name, params, flops, families: def.families.length, prunableChannels: channels },
    `${name}: ${(params / 1e6).toFixed(3)} M params, ${(flops / 1e6).toFixed(1)} M MACs per image, ${def.families.length} channel families, ${channels} prunable channels`,
  );
  return 0;
}

async function train(config: ExperimentConfig, flags: Flags, out: Out): Promise<number> {
  const backend = await setupNodeBackend(config.backend);
  const init = flags.init ? await loadInit(flags, out) : undefined;
  const dataset = await loadDataset(config, flags);
  let closeness: number | null = null;
  const damage: DamageFigures[] = [];
  const log: EngineEvent[] = [];
  const emit = (e: EngineEvent) => {
    if (e.type === 'criteria') closeness = Math.max(closeness ?? 0, e.closeness);
    if (e.type === 'damage') damage.push(damageFigures(e));
    if (flags.record) log.push(e);
    out(e, describeEvent(e));
  };
  emit({ type: 'backend', backend, requested: config.backend });
  const summary = await runExperiment(config, { dataset, emit, backend, modelDef: init?.def, initWeights: init?.weights });
  if (flags.record) await writeRunRecord(flags.record, config, log);
  const result = {
    type: 'summary',
    testAcc: summary.testAcc,
    flopsFraction: summary.flopsFraction,
    paramsFraction: summary.paramsFraction,
    rectifications: summary.rectifications,
    /** Self-Rectifying: the highest release closeness reached (1 = released); null without SR. */
    srCloseness: closeness,
    /** What each pruning point did to training (docs/method.md, "Damage and recovery"). */
    damage,
    steps: summary.steps,
    seconds: summary.seconds,
    dense: summary.dense,
    slim: summary.slim,
  };
  if (summary.slimModel) {
    try {
      if (flags['export-safetensors']) await writeTorchExport(flags['export-safetensors'], summary.slimModel, init?.arch, out);
      if (flags['export-onnx']) await writeOnnxExport(flags['export-onnx'], summary.slimModel, out);
    } finally {
      disposeModel(summary.slimModel);
    }
  }
  out(
    result,
    `test accuracy ${(summary.testAcc * 100).toFixed(2)}%, FLOPs kept ${(summary.flopsFraction * 100).toFixed(1)}%, params kept ${(summary.paramsFraction * 100).toFixed(1)}%, rectifications ${summary.rectifications}${closeness === null ? '' : ` (closest release ${(closeness as number).toFixed(2)} of 1)`}, ${summary.steps} steps in ${summary.seconds.toFixed(1)} s on ${tf.getBackend()}`,
  );
  return 0;
}

/**
 * Runs the same config and seed under each listed schedule, one after another, each from the
 * same starting weights (--init, or the seeded initialisation); --export-* paths get the
 * schedule's name before their extension.
 */
async function compare(flags: Flags, out: Out): Promise<number> {
  const schedules = parseSchedules(flags.schedules);
  const base = configFromFlags(flags, 'prune');
  if (base.prune.pruner === 'none') throw new UsageError('compare: --pruner none prunes nothing; pick depgraph, otov2 or gate');
  const backend = await setupNodeBackend(base.backend);
  const init = flags.init ? await loadInit(flags, out) : undefined;
  const dataset = await loadDataset(base, flags);
  const rows: CompareRow[] = [];
  for (const schedule of schedules) {
    const config: ExperimentConfig = { ...base, prune: { ...base.prune, schedule } };
    process.stderr.write(`compare: ${schedule} (${rows.length + 1} of ${schedules.length})\n`);
    const damage: DamageFigures[] = [];
    const log: EngineEvent[] = [{ type: 'backend', backend, requested: config.backend }];
    const summary = await runExperiment(config, {
      dataset,
      backend,
      modelDef: init?.def,
      initWeights: init?.weights,
      emit: (e) => {
        if (e.type === 'damage') damage.push(damageFigures(e));
        if (flags.record) log.push(e);
        if (flags.verbose) {
          const line = describeEvent(e);
          if (line) process.stderr.write(`  ${line}\n`);
        }
      },
    });
    if (summary.slimModel) {
      // Exports go to stderr's side of the output: stdout stays one compare line per schedule.
      const note: Out = (o, text) => process.stderr.write(`${flags.json ? JSON.stringify(o) : text}\n`);
      try {
        if (flags['export-safetensors']) await writeTorchExport(schedulePath(flags['export-safetensors'], schedule), summary.slimModel, init?.arch, note);
        if (flags['export-onnx']) await writeOnnxExport(schedulePath(flags['export-onnx'], schedule), summary.slimModel, note);
      } finally {
        disposeModel(summary.slimModel);
      }
    }
    if (flags.record) await writeRunRecord(schedulePath(flags.record, schedule), config, log);
    const row: CompareRow = {
      type: 'compare',
      schedule,
      testAcc: summary.testAcc,
      flopsFraction: summary.flopsFraction,
      paramsFraction: summary.paramsFraction,
      rectifications: summary.rectifications,
      damage,
      steps: summary.steps,
      seconds: summary.seconds,
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
  if (!flags.json) process.stdout.write(`\n${compareTable(rows)}\n`);
  return 0;
}

async function loadDataset(config: ExperimentConfig, flags: Flags): Promise<Dataset> {
  if (config.data.dataset === 'synthetic') {
    const size = config.data.syntheticSize;
    return syntheticDataset({ seed: config.train.seed, trainSize: size, testSize: Math.max(100, Math.round(size / 5)) });
  }
  if (config.data.dataset === 'fashion-mnist') {
    const { dataset, summary } = await loadFashionMnistPath(flags.data ?? FASHION_MNIST_SYSTEM_DIR);
    for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
    return dataset;
  }
  if (!flags.data) throw new UsageError('--dataset cifar10 needs --data PATH (cifar-10-binary.tar.gz, a folder of .bin files, or one .bin file)');
  const { dataset, summary } = await loadPath(flags.data);
  for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
  return dataset;
}

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

/** One readable line per event for humans (--json prints the events themselves). */
function describeEvent(e: EngineEvent): string {
  switch (e.type) {
    case 'step':
      return `step ${e.step}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toPrecision(3)}  ${e.imagesPerSec.toFixed(1)} img/s`;
    case 'epoch':
      return `epoch ${e.epoch}  train acc ${(e.trainAcc * 100).toFixed(2)}%  test acc ${(e.testAcc * 100).toFixed(2)}%  test loss ${e.testLoss.toFixed(4)}`;
    case 'prune':
      return `prune  step ${e.step}  ${e.family}: ${e.channels.length} channel(s) [${e.schedule}]`;
    case 'rectify':
      return `rectify step ${e.step}  ${e.family}#${e.channel}  C_rate ${e.cRate.toFixed(3)}  C_len ${e.cLen.toFixed(3)}`;
    case 'criteria':
      return `sr     step ${e.step}  closest to release over ${e.steps} step(s): ${e.family}#${e.channel}  C_rate ${e.cRate.toFixed(3)} (T_rate ${e.tRate})  C_len ${e.cLen.toFixed(3)} (T_len ${e.tLen})  closeness ${e.closeness.toFixed(2)}`;
    case 'removed':
      return `removed step ${e.step}  ${e.family}: ${e.channels.length} channel(s)`;
    case 'cost':
      return `cost   step ${e.step}  FLOPs ${(e.flopsFraction * 100).toFixed(1)}%  params ${(e.paramsFraction * 100).toFixed(1)}%`;
    case 'slim':
      return `slimmed: ${e.before.params} -> ${e.after.params} params, ${e.before.flops} -> ${e.after.flops} MACs, max |diff| ${e.maxAbsDiff.toExponential(2)}`;
    case 'damage':
      return `damage step ${e.step} [${e.schedule}]  loss ${e.lossBefore.toFixed(3)}  peak rise ${e.peakRise.toFixed(3)}  recovered ${e.recoverySteps === null ? 'not by the end' : `in ${e.recoverySteps} step(s)`}  acc ${pct(e.accBefore)} -> ${pct(e.accAfter)}`;
    case 'status':
      return `[${e.phase}] ${e.message}`;
    case 'backend':
      return `backend: ${e.backend}${e.notice ? ` (${e.notice})` : ''}`;
    case 'model':
      return `model ${e.model}: ${e.dense.params} params, ${e.dense.flops} MACs, ${e.totalSteps} steps`;
    case 'latency':
      return `latency: dense ${e.denseMsPerImage.toFixed(3)} ms/img, slim ${e.slimMsPerImage.toFixed(3)} ms/img`;
    case 'done':
      return `done in ${e.seconds.toFixed(1)} s`;
    case 'error':
      return `error: ${e.message}${e.hint ? ` (${e.hint})` : ''}`;
    case 'telemetry':
    case 'checkpoint':
      return '';
  }
}

// Quiet tfjs's "install tfjs-node" banner: it cannot be installed here and is not needed.
const warn = console.warn;
console.warn = (...a: unknown[]) => (String(a[0]).includes('tfjs-node') ? undefined : warn(...a));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`error: ${errorMessage(e)}\n`);
    process.exit(1);
  },
);
