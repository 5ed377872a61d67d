import { CIFAR10_MEAN, CIFAR10_STD } from '../data/batches';
import { DataError } from '../data/types';
import type { ModelDef, Op } from '../models/graph';
import type { TensorRecord } from '../train/checkpoint';
import { defaultDef, expectedShapes, layoutFor, recognise, type Architecture, type Layout, type ParamSource } from './layouts';
import { MANIFEST_METADATA_KEY, parseManifest, slimmedDef } from './manifest';
import { readCheckpoint, type ReadCheckpoint } from './read-checkpoint';
import type { SourceTensor, StateDict } from './tensors';

/**
 * From a checkpoint's state dict to our model: recognise the architecture, check every key as
 * PyTorch's strict load_state_dict does, convert layouts (OIHW -> HWIO, [out, in] -> [in,
 * out]), fold conv biases into the BN that follows, and put the checkpoint's input
 * normalisation in front of the graph.
 */

/** Per-channel input normalisation a checkpoint was trained with: (x/255 - mean) / std. */
export interface Normalization {
  mean: [number, number, number];
  std: [number, number, number];
}

/**
 * The well-known CIFAR checkpoints' normalisations, as their training scripts set them:
 * - cifar10: this app's own (std of the whole training set), what its runs train with.
 * - cifar10-kuangliu: std 0.2023/0.1994/0.2010, used by kuangliu/pytorch-cifar,
 *   chenyaofo/pytorch-cifar-models and Torch-Pruning's CIFAR benchmarks.
 * - imagenet: ImageNet's statistics, used by akamaster/pytorch_resnet_cifar10 and
 *   chengyangfu/pytorch-vgg-cifar10.
 */
export const NORMALIZATIONS = {
  cifar10: { mean: [...CIFAR10_MEAN], std: [...CIFAR10_STD] },
  'cifar10-kuangliu': { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
} as const satisfies Record<string, { mean: readonly number[]; std: readonly number[] }>;

export type NormalizationPreset = keyof typeof NORMALIZATIONS;

export function normalizationOf(preset: NormalizationPreset): Normalization {
  const n = NORMALIZATIONS[preset];
  return { mean: [...n.mean] as Normalization['mean'], std: [...n.std] as Normalization['std'] };
}

/** Parses a preset name or "m1,m2,m3/s1,s2,s3". */
export function parseNormalization(text: string): Normalization {
  if (text in NORMALIZATIONS) return normalizationOf(text as NormalizationPreset);
  const m = /^([^/]+)\/([^/]+)$/.exec(text);
  const nums = (s: string) => s.split(',').map(Number);
  if (m) {
    const mean = nums(m[1]);
    const std = nums(m[2]);
    if (mean.length === 3 && std.length === 3 && mean.every(Number.isFinite) && std.every((s) => Number.isFinite(s) && s > 0)) {
      return { mean: mean as Normalization['mean'], std: std as Normalization['std'] };
    }
  }
  throw new Error(`normalisation "${text}": use one of ${Object.keys(NORMALIZATIONS).join(', ')} or "m1,m2,m3/s1,s2,s3" (fractions of 255, std > 0)`);
}

/** The preset the checkpoint's layout most likely comes with (its publisher's training script). */
export function likelyNormalization(arch: Architecture): { preset: NormalizationPreset; because: string } {
  if (arch.kind === 'tiny') return { preset: 'cifar10', because: 'the tiny net exists only in this app, which trains with these statistics' };
  if (arch.kind === 'resnet' && arch.shortcut === 'A') return { preset: 'imagenet', because: 'option-A CIFAR ResNets are mostly akamaster/pytorch_resnet_cifar10\'s, trained with ImageNet statistics' };
  if (arch.kind === 'vgg16' && arch.classifier[0] === 'classifier.1') return { preset: 'imagenet', because: 'the dropout-first three-layer head is chengyangfu/pytorch-vgg-cifar10\'s, trained with ImageNet statistics' };
  return { preset: 'cifar10-kuangliu', because: 'option-B ResNets and other VGG heads are mostly chenyaofo\'s, kuangliu\'s or Torch-Pruning\'s, trained with std 0.2023/0.1994/0.2010' };
}

export interface LoadReport {
  model: string;
  matched: string[];
  missing: string[];
  unexpected: string[];
  misShaped: { key: string; checkpoint: number[]; model: number[] }[];
  /** Present and used but not required (conv biases, folded into the next BN's running mean). */
  folded: string[];
  /** Present and ignored (BatchNorm's num_batches_tracked). */
  ignored: string[];
}

export function describeReport(r: LoadReport): string {
  const lines = [`${r.model}: ${r.matched.length} key(s) matched`];
  const list = (keys: string[]) => keys.slice(0, 12).map((k) => `"${k}"`).join(', ') + (keys.length > 12 ? `, ... (${keys.length} in all)` : '');
  if (r.missing.length) lines.push(`Missing key(s) in state_dict: ${list(r.missing)}.`);
  if (r.unexpected.length) lines.push(`Unexpected key(s) in state_dict: ${list(r.unexpected)}.`);
  for (const m of r.misShaped.slice(0, 12)) lines.push(`size mismatch for ${m.key}: copying a param with shape [${m.checkpoint.join(', ')}] from checkpoint, the shape in current model is [${m.model.join(', ')}].`);
  if (r.misShaped.length > 12) lines.push(`... ${r.misShaped.length - 12} more size mismatches`);
  return lines.join('\n');
}

export const reportIsClean = (r: LoadReport) => !r.missing.length && !r.unexpected.length && !r.misShaped.length;

/** A checkpoint whose keys do not fit the network: carries PyTorch's strict-loading report. */
export class ImportMismatchError extends DataError {
  constructor(
    file: string,
    readonly report: LoadReport,
  ) {
    super(file, `does not fit ${report.model}:\n${describeReport(report)}`);
  }
}

export interface ImportedModel {
  /** The graph (with an input-normalisation op when the checkpoint's differs from ours). */
  def: ModelDef;
  weights: Record<string, TensorRecord>;
  report: LoadReport;
  label: string;
  arch: Architecture;
  normalization: Normalization;
  /** How the normalisation was chosen ("given", or the guess and its reason). */
  normalizationSource: string;
  checkpoint: Pick<ReadCheckpoint, 'format' | 'path' | 'strippedModulePrefix'>;
}

export interface ImportOptions {
  normalization?: Normalization;
  /** Our model name the user asked for; a checkpoint of another network is refused. */
  expect?: string;
}

export function importCheckpoint(file: string, bytes: Uint8Array, opts: ImportOptions = {}): ImportedModel {
  const read = readCheckpoint(file, bytes);
  return importStateDict(file, read, opts);
}

export function importStateDict(file: string, read: ReadCheckpoint, opts: ImportOptions = {}): ImportedModel {
  const { state } = read;
  // The app's own exports carry their architecture and kept channels (a slimmed net's widths).
  const manifest = read.metadata[MANIFEST_METADATA_KEY] ? parseManifest(file, read.metadata[MANIFEST_METADATA_KEY]) : null;
  const arch = manifest?.arch ?? recognise(file, state);
  const layout = layoutFor(arch, manifest ? slimmedDef(file, defaultDef(arch), manifest.families) : defaultDef(arch));
  if (opts.expect && !sameNetwork(opts.expect, layout.def.name)) {
    throw new DataError(file, `holds a ${layout.label}, not the requested ${opts.expect}; use --model ${layout.def.name}`);
  }
  const report = compare(layout, state);
  if (!reportIsClean(report)) throw new ImportMismatchError(file, report);
  const weights = convert(file, layout, state);
  const guess = manifest ? { preset: 'cifar10' as const, because: '' } : likelyNormalization(arch);
  const normalization = opts.normalization ?? manifest?.normalization ?? normalizationOf(guess.preset);
  return {
    def: withInputNormalization(layout.def, normalization),
    weights,
    report,
    label: layout.label,
    arch,
    normalization,
    normalizationSource: opts.normalization ? 'given' : manifest ? 'from the export manifest' : `${guess.preset} (guessed: ${guess.because})`,
    checkpoint: { format: read.format, path: read.path, strippedModulePrefix: read.strippedModulePrefix },
  };
}

/** resnet56 accepts either shortcut option; otherwise names must agree. */
function sameNetwork(asked: string, found: string): boolean {
  return asked === found || asked.replace(/a$/, '') === found.replace(/a$/, '');
}

function compare(layout: Layout, state: StateDict): LoadReport {
  const expected = expectedShapes(layout);
  const report: LoadReport = { model: layout.label, matched: [], missing: [], unexpected: [], misShaped: [], folded: [], ignored: [] };
  for (const [key, shape] of expected) {
    const t = state.get(key);
    if (!t) report.missing.push(key);
    else if (!sameShape(t.shape, shape)) report.misShaped.push({ key, checkpoint: t.shape, model: shape });
    else report.matched.push(key);
  }
  for (const [key, t] of state) {
    if (expected.has(key)) continue;
    const fold = layout.optional.get(key);
    if (fold) {
      const bnShape = expected.get(sourceKey(layout, fold.foldInto));
      if (bnShape && !sameShape(t.shape, bnShape)) report.misShaped.push({ key, checkpoint: t.shape, model: bnShape });
      else report.folded.push(key);
    } else if (layout.ignorable(key)) report.ignored.push(key);
    else report.unexpected.push(key);
  }
  return report;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const sourceKey = (layout: Layout, param: string) => layout.sources.find((s) => s.param === param)!.key;

function convert(file: string, layout: Layout, state: StateDict): Record<string, TensorRecord> {
  const shapeOf = new Map(layout.def.params.map((p) => [p.name, p.shape]));
  const out: Record<string, TensorRecord> = {};
  for (const s of layout.sources) {
    const t = state.get(s.key)!;
    checkValues(file, s.key, t);
    out[s.param] = { shape: [...shapeOf.get(s.param)!], data: toOurLayout(t, s, shapeOf.get(s.param)!) };
  }
  for (const [key, { foldInto }] of layout.optional) {
    const bias = state.get(key);
    if (!bias) continue;
    checkValues(file, key, bias);
    // BN(conv(x) + b) = BN'(conv(x)) with running_mean' = running_mean - b.
    const mean = out[foldInto].data;
    for (let c = 0; c < mean.length; c++) mean[c] -= bias.data[c];
  }
  for (const [name, w] of Object.entries(out)) {
    if (name.endsWith('.var') && w.data.some((v) => v < 0)) throw new DataError(file, `${sourceKeyOf(layout, name)} holds negative running variances`);
  }
  return out;
}

const sourceKeyOf = (layout: Layout, param: string) => layout.sources.find((s) => s.param === param)?.key ?? param;

function checkValues(file: string, key: string, t: SourceTensor): void {
  if (!t.isFloat) throw new DataError(file, `${key} has dtype ${t.dtype}; weights must be floating point (F32, F16, BF16 or F64)`);
  let bad = 0;
  for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) bad++;
  if (bad) throw new DataError(file, `${key} holds ${bad} NaN or infinite value(s) of ${t.data.length}: the checkpoint's training diverged or the file is damaged`);
}

/** PyTorch layout (optionally one slice of it) -> ours. */
function toOurLayout(t: SourceTensor, s: ParamSource, ours: number[]): Float32Array {
  const out = new Float32Array(ours.reduce((a, b) => a * b, 1));
  const src = t.data;
  const [oOff, iOff] = s.slice ? (s.slice.axis === 0 ? [s.slice.start, 0] : [0, s.slice.start]) : [0, 0];
  if (s.kind === 'conv') {
    const [H, W, I, O] = ours;
    const [, TI, TH, TW] = t.shape;
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let i = 0; i < I; i++)
          for (let o = 0; o < O; o++) out[((h * W + w) * I + i) * O + o] = src[(((o + oOff) * TI + i + iOff) * TH + h) * TW + w];
  } else if (s.kind === 'linear') {
    const [I, O] = ours;
    const TI = t.shape[1];
    for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) out[i * O + o] = src[(o + oOff) * TI + i + iOff];
  } else {
    for (let c = 0; c < out.length; c++) out[c] = src[c + oOff];
  }
  return out;
}

/**
 * Our data pipeline normalises with the app's CIFAR-10 statistics; a checkpoint trained with
 * others gets a per-channel affine in front that converts one into the other (exact: it acts
 * before the first conv's zero padding).
 */
export function withInputNormalization(def: ModelDef, norm: Normalization): ModelDef {
  const scale = norm.std.map((s, c) => CIFAR10_STD[c] / s);
  const shift = norm.mean.map((m, c) => (CIFAR10_MEAN[c] - m) / norm.std[c]);
  if (scale.every((s) => Math.abs(s - 1) < 1e-7) && shift.every((s) => Math.abs(s) < 1e-7)) return def;
  const out = 'input:normalized';
  const ops: Op[] = def.ops.map((op) => ('input' in op && op.input === 'input' ? { ...op, input: out } : op));
  return { ...def, ops: [{ kind: 'affine', out, input: 'input', scale, shift }, ...ops] };
}
