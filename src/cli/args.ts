import { parseArgs } from 'node:util';
import { z } from '../engine/zod';
import { experimentSchema, type ExperimentConfig } from '../engine/experiment';

/**
 * Command-line flags -> ExperimentConfig. Flags mirror the config fields; anything not given
 * keeps the schema default, so `cli prune` and the app agree on what a default run is.
 */
export const FLAG_OPTIONS = {
  model: { type: 'string' },
  dataset: { type: 'string' },
  data: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  'lr-schedule': { type: 'string' },
  seed: { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  'synthetic-size': { type: 'string' },
  'no-augment': { type: 'boolean' },
  backend: { type: 'string' },
  pruner: { type: 'string' },
  schedule: { type: 'string' },
  /** compare: the schedules to run one after another, comma separated. */
  schedules: { type: 'string' },
  target: { type: 'string' },
  'target-kind': { type: 'string' },
  'start-at': { type: 'string' },
  points: { type: 'string' },
  every: { type: 'string' },
  'decay-steps': { type: 'string' },
  't-rate': { type: 'string' },
  't-len': { type: 'string' },
  norm: { type: 'string' },
  scope: { type: 'string' },
  sparse: { type: 'boolean' },
  'sparse-reg': { type: 'string' },
  'telemetry-every': { type: 'string' },
  align: { type: 'string' },
  init: { type: 'string' },
  'input-norm': { type: 'string' },
  'export-safetensors': { type: 'string' },
  'export-onnx': { type: 'string' },
  /** train, prune: write the run (config + event log) as an app run file; compare: one per schedule. */
  record: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export type Flags = ReturnType<typeof parseFlags>['values'];

export function parseFlags(argv: string[]) {
  return parseArgs({ args: argv, options: FLAG_OPTIONS, allowPositionals: true, strict: true });
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

export function configFromFlags(f: Flags, mode: 'train' | 'prune'): ExperimentConfig {
  const raw = {
    data: {
      dataset: f.dataset,
      trainLimit: num(f['train-limit']),
      testLimit: num(f['test-limit']),
      syntheticSize: num(f['synthetic-size']),
      augment: f['no-augment'] ? false : undefined,
    },
    train: {
      model: f.model,
      epochs: num(f.epochs),
      batchSize: num(f['batch-size']),
      lr: num(f.lr),
      momentum: num(f.momentum),
      weightDecay: num(f['weight-decay']),
      lrSchedule: f['lr-schedule'],
      seed: num(f.seed),
    },
    prune: {
      pruner: mode === 'train' ? 'none' : f.pruner,
      schedule: f.schedule,
      target: num(f.target),
      targetKind: f['target-kind'],
      startAt: num(f['start-at']),
      points: num(f.points),
      every: num(f.every),
      decaySteps: num(f['decay-steps']),
      tRate: num(f['t-rate']),
      tLen: num(f['t-len']),
      norm: f.norm,
      scope: f.scope,
      sparse: f.sparse,
      sparseReg: num(f['sparse-reg']),
      telemetryEvery: num(f['telemetry-every']),
      align: num(f.align),
    },
    backend: f.backend ?? 'cpu',
  };
  const parsed = experimentSchema.safeParse(stripUndefined(raw));
  if (!parsed.success) throw new UsageError(describeZodError(parsed.error));
  return parsed.data;
}

/**
 * The flags that make configFromFlags give back `config` (with its backend): the inverse of
 * the above, for scripts that record a config with the CLI (scripts/record-lessons.ts). Fields
 * with no flag (milestones, data URL, starting weights) must be at their defaults.
 */
export function flagsFromConfig(config: ExperimentConfig): string[] {
  const { data: d, train: t, prune: p } = config;
  const defaults = experimentSchema.parse({});
  const unflagged: [string, unknown, unknown][] = [
    ['train.milestones', t.milestones.join(','), defaults.train.milestones.join(',')],
    ['data.url', d.url, defaults.data.url],
    ['train.initUrl', t.initUrl, defaults.train.initUrl],
    ['train.initSha256', t.initSha256, defaults.train.initSha256],
    ['train.inputNorm', t.inputNorm, defaults.train.inputNorm],
  ];
  for (const [name, value, def] of unflagged) {
    if (value !== def) throw new UsageError(`${name} has no command-line flag; only its default can be recorded`);
  }
  const s = String;
  const flags = [
    '--dataset', d.dataset, '--train-limit', s(d.trainLimit), '--test-limit', s(d.testLimit), '--synthetic-size', s(d.syntheticSize),
    '--model', t.model, '--epochs', s(t.epochs), '--batch-size', s(t.batchSize), '--lr', s(t.lr), '--momentum', s(t.momentum),
    '--weight-decay', s(t.weightDecay), '--lr-schedule', t.lrSchedule, '--seed', s(t.seed),
    '--pruner', p.pruner, '--schedule', p.schedule, '--target', s(p.target), '--target-kind', p.targetKind, '--start-at', s(p.startAt),
    '--points', s(p.points), '--every', s(p.every), '--decay-steps', s(p.decaySteps), '--t-rate', s(p.tRate), '--t-len', s(p.tLen),
    '--norm', p.norm, '--scope', p.scope, '--sparse-reg', s(p.sparseReg), '--telemetry-every', s(p.telemetryEvery), '--align', s(p.align),
    '--backend', config.backend,
  ];
  if (!d.augment) flags.push('--no-augment');
  if (p.sparse) flags.push('--sparse');
  return flags;
}

export class UsageError extends Error {}

function describeZodError(e: z.ZodError): string {
  return e.issues.map((i) => `--${flagName(i.path)}: ${i.message}`).join('\n');
}

const FLAG_OF: Record<string, string> = {
  batchSize: 'batch-size',
  weightDecay: 'weight-decay',
  lrSchedule: 'lr-schedule',
  trainLimit: 'train-limit',
  testLimit: 'test-limit',
  syntheticSize: 'synthetic-size',
  targetKind: 'target-kind',
  startAt: 'start-at',
  decaySteps: 'decay-steps',
  tRate: 't-rate',
  tLen: 't-len',
  sparseReg: 'sparse-reg',
  telemetryEvery: 'telemetry-every',
};

function flagName(path: PropertyKey[]): string {
  const last = String(path[path.length - 1] ?? '');
  return FLAG_OF[last] ?? last;
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? stripUndefined(v as Record<string, unknown>) : v;
  }
  return out;
}
