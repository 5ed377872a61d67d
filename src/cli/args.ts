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
