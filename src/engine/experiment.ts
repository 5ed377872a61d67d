import { z } from './zod';

/**
 * The experiment config: everything needed to re-run an experiment. Every field has a
 * default so that a URL only carries what differs from it (see src/url).
 * Bounds are deliberately tight: a config must never be able to ask for gigabytes.
 */

/** resnet20a / resnet56a: option-A (zero-padded, parameter-free) shortcuts, as the original paper. */
export const MODEL_NAMES = ['tiny', 'resnet20', 'resnet56', 'resnet20a', 'resnet56a', 'vgg16'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Input-normalisation presets of imported checkpoints (src/engine/import/import-weights.ts NORMALIZATIONS). */
export const INPUT_NORMS = ['auto', 'cifar10', 'cifar10-kuangliu', 'imagenet'] as const;
export type InputNorm = (typeof INPUT_NORMS)[number];

export const DATASET_NAMES = ['synthetic', 'cifar10', 'fashion-mnist'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];
export const BACKEND_NAMES = ['webgpu', 'webgl', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Which structured pruner ranks the groups ('none' trains densely). */
export const PRUNER_NAMES = ['none', 'depgraph', 'otov2', 'gate'] as const;
export type PrunerName = (typeof PRUNER_NAMES)[number];

/** How the pruner's decisions are carried out: in one step, DPM Smooth Pruning, or SP + Self-Rectifying. */
export const SCHEDULE_NAMES = ['abrupt', 'sp', 'sr'] as const;
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

export const dataConfigSchema = z.object({
  dataset: z.enum(DATASET_NAMES).default('synthetic'),
  /** Same-origin (or user-given) folder holding the data set's files (CIFAR-10 .bin shards, Fashion-MNIST .gz); empty = files the user drops. */
  url: z.string().max(2048).default(''),
  /** Use at most this many training / test images (0 = all). */
  trainLimit: z.number().int().min(0).max(50_000).default(0),
  testLimit: z.number().int().min(0).max(10_000).default(0),
  /** Size of the built-in synthetic set (train; test is a fifth of it). */
  syntheticSize: z.number().int().min(100).max(50_000).default(5_000),
  augment: z.boolean().default(true),
});

export const trainConfigSchema = z.object({
  model: z.enum(MODEL_NAMES).default('tiny'),
  epochs: z.number().int().min(1).max(500).default(3),
  batchSize: z.number().int().min(1).max(1024).default(64),
  lr: z.number().positive().max(10).default(0.05),
  momentum: z.number().min(0).max(0.999).default(0.9),
  weightDecay: z.number().min(0).max(0.1).default(5e-4),
  lrSchedule: z.enum(['cosine', 'step', 'constant']).default('cosine'),
  /** For the step schedule: epochs (as fractions of the run, 0..1) at which lr is divided by 10. */
  milestones: z.array(z.number().min(0).max(1)).max(8).default([0.5, 0.75]),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  /**
   * Start from trained weights instead of the seeded initialisation. A URL is fetched when the
   * experiment opens; the SHA-256 (lower-case hex) identifies a file the user supplies, and
   * when both are given the fetched bytes must hash to it. The name is for messages only.
   */
  initUrl: z.string().max(2048).default(''),
  initSha256: z.string().regex(/^([0-9a-f]{64})?$/).default(''),
  initName: z.string().max(200).default(''),
  /** The imported checkpoint's input normalisation ('auto': guessed from its layout). */
  inputNorm: z.enum(INPUT_NORMS).default('auto'),
});

export const pruneConfigSchema = z.object({
  pruner: z.enum(PRUNER_NAMES).default('depgraph'),
  schedule: z.enum(SCHEDULE_NAMES).default('sr'),
  /** What the target constrains, and the fraction of the dense model to keep. */
  targetKind: z.enum(['flops', 'params']).default('flops'),
  target: z.number().gt(0).max(1).default(0.5),
  /** Training steps (fraction of the run) before the first pruning point. */
  startAt: z.number().min(0).max(1).default(0.2),
  /** Number of pruning points the target is reached over (1 = once). */
  points: z.number().int().min(1).max(100).default(3),
  /** Steps between pruning points. */
  every: z.number().int().min(1).max(100_000).default(40),
  /** DPM Smooth Pruning: steps over which a selected group decays to zero (paper: N). */
  decaySteps: z.number().int().min(1).max(100_000).default(30),
  /**
   * DPM Self-Rectifying thresholds (paper: T_rate, T_len), on scale-free criteria
   * (docs/method.md): C_rate is the norm the update added in plain gradient steps (above 1
   * takes momentum that keeps pushing outwards), C_len the gradient against the alive
   * channels' at the group's pre-decay size.
   */
  tRate: z.number().min(0).max(1000).default(1),
  tLen: z.number().min(0).max(1000).default(1.5),
  /** Importance norm of a group's coupled weights (DepGraph) and ranking scope. */
  norm: z.enum(['l1', 'l2']).default('l2'),
  scope: z.enum(['global', 'layer']).default('global'),
  /** DepGraph sparse learning (group lasso before pruning) and its strength. */
  sparse: z.boolean().default(false),
  sparseReg: z.number().min(0).max(1).default(5e-4),
  /**
   * Keep each family's channel count a multiple of this where the target allows (pruning a
   * few extra channels): tfjs's WebGPU convolutions use their vec4 kernels only when channel
   * counts divide by 4, so an unaligned slimmed model can run slower than the dense one.
   */
  align: z.number().int().min(1).max(64).default(1),
  /** Emit per-channel telemetry every this many steps. */
  telemetryEvery: z.number().int().min(1).max(1000).default(1),
});

export const experimentSchema = z.object({
  data: dataConfigSchema.default(dataConfigSchema.parse({})),
  train: trainConfigSchema.default(trainConfigSchema.parse({})),
  prune: pruneConfigSchema.default(pruneConfigSchema.parse({})),
  backend: z.enum(BACKEND_NAMES).default('webgpu'),
});

export type DataConfig = z.infer<typeof dataConfigSchema>;
export type TrainConfig = z.infer<typeof trainConfigSchema>;
export type PruneConfig = z.infer<typeof pruneConfigSchema>;
export type ExperimentConfig = z.infer<typeof experimentSchema>;

export function defaultExperiment(): ExperimentConfig {
  return experimentSchema.parse({});
}
