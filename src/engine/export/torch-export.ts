import { CIFAR10_MEAN, CIFAR10_STD } from '../data/batches';
import type { Normalization } from '../import/import-weights';
import { expectedShapes, layoutFor, type Architecture, type ParamSource } from '../import/layouts';
import { MANIFEST_METADATA_KEY, type ExportManifest } from '../import/manifest';
import { writeSafetensors } from '../import/safetensors';
import { numel } from '../import/tensors';
import type { Model, ModelDef } from '../models/graph';
import { readWeights } from '../train/checkpoint';

/**
 * A dense or slimmed model as a PyTorch state dict in safetensors: PyTorch's key names and
 * layouts (HWIO -> OIHW, [in, out] -> [out, in]), split option-A tensors joined again, plus a
 * manifest (kept channels per family, conv widths, option-A padding, input normalisation) that
 * docs/import.md's snippet rebuilds the network from. The manifest also goes into the file's
 * __metadata__, so importing the file gives back the same model.
 */
export interface TorchExport {
  safetensors: Uint8Array;
  manifest: ExportManifest;
}

/** The PyTorch layout of one of our own networks (an imported one keeps its checkpoint's). */
export function archOf(def: ModelDef): Architecture {
  const m = /^resnet(\d+)(a?)$/.exec(def.name);
  if (m) {
    const blocks = (Number(m[1]) - 2) / 6;
    // Key names of the most used checkpoints of each kind: akamaster's (A), chenyaofo's (B).
    return m[2] ? { kind: 'resnet', blocks, width: 16, shortcut: 'A', downsample: 'shortcut', classifier: 'linear' } : { kind: 'resnet', blocks, width: 16, shortcut: 'B', downsample: 'downsample', classifier: 'fc' };
  }
  if (def.name === 'tiny') return { kind: 'tiny' };
  if (def.name === 'vgg16') {
    const hidden = def.params.filter((p) => /^fc\d\.w$/.test(p.name)).map((p) => p.shape[1]);
    return { kind: 'vgg16', scheme: 'features', hidden, classifier: hidden.length ? ['classifier.0', 'classifier.3', 'classifier.6'] : ['classifier'] };
  }
  throw new Error(`${def.name} has no PyTorch layout to export to (tiny, ResNet-20/56 and VGG16-BN do)`);
}

/** The input normalisation the model expects, undoing an imported graph's affine op. */
export function normalizationOfDef(def: ModelDef): Normalization {
  const affine = def.ops.find((o) => o.kind === 'affine');
  if (!affine || affine.kind !== 'affine') return { mean: [...CIFAR10_MEAN], std: [...CIFAR10_STD] };
  // scale = std_app / std, shift = (mean_app - mean) / std.
  const std = affine.scale.map((s, c) => CIFAR10_STD[c] / s) as Normalization['std'];
  const mean = affine.shift.map((s, c) => CIFAR10_MEAN[c] - s * std[c]) as Normalization['mean'];
  return { mean, std };
}

export async function exportTorch(model: Model, arch: Architecture = archOf(model.def)): Promise<TorchExport> {
  const def = model.def;
  if (def.ops.some((o) => o.kind === 'gate')) throw new Error('the model still has Gate Decorator gates: export the slimmed model, which folds them into BN');
  const layout = layoutFor(arch, def);
  const shapes = expectedShapes(layout);
  const weights = await readWeights(model.vars);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const s of layout.sources) {
    const shape = shapes.get(s.key)!;
    if (!tensors.has(s.key)) tensors.set(s.key, { shape, data: new Float32Array(numel(shape)) });
    fromOurLayout(weights[s.param].data, weights[s.param].shape, s, tensors.get(s.key)!);
    // Our convs have no bias (folded into BN); the usual VGG modules have one: write zeros.
    const bias = s.key.replace(/\.weight$/, '.bias');
    if (layout.optional.has(bias) && !tensors.has(bias)) tensors.set(bias, { shape: [shape[0]], data: new Float32Array(shape[0]) });
  }
  const manifest: ExportManifest = {
    format: 'dpm-playground-torch-export',
    version: 1,
    model: def.name,
    arch,
    normalization: normalizationOfDef(def),
    families: Object.fromEntries(def.families.map((f) => [f.id, f.channels])),
    convOut: Object.fromEntries([...tensors].filter(([k, t]) => k.endsWith('.weight') && t.shape.length === 4).map(([k, t]) => [k.slice(0, -'.weight'.length), t.shape[0]])),
  };
  if (arch.kind === 'resnet' && arch.shortcut === 'A') {
    const ch = (id: string) => def.families.find((f) => f.id === id)!.channels;
    manifest.shortcutPad = { layer2: [ch('stage2.pre'), ch('stage2.post')], layer3: [ch('stage3.pre'), ch('stage3.post')] };
  }
  return { safetensors: writeSafetensors(tensors, { format: 'pt', [MANIFEST_METADATA_KEY]: JSON.stringify(manifest) }), manifest };
}

/** Ours (one slice) -> its place in the PyTorch tensor; the inverse of the importer's conversion. */
function fromOurLayout(src: Float32Array, ours: number[], s: ParamSource, dst: { shape: number[]; data: Float32Array }): void {
  const [oOff, iOff] = s.slice ? (s.slice.axis === 0 ? [s.slice.start, 0] : [0, s.slice.start]) : [0, 0];
  const out = dst.data;
  if (s.kind === 'conv') {
    const [H, W, I, O] = ours;
    const [, TI, TH, TW] = dst.shape;
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let i = 0; i < I; i++)
          for (let o = 0; o < O; o++) out[(((o + oOff) * TI + i + iOff) * TH + h) * TW + w] = src[((h * W + w) * I + i) * O + o];
  } else if (s.kind === 'linear') {
    const [I, O] = ours;
    const TI = dst.shape[1];
    for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) out[(o + oOff) * TI + i + iOff] = src[i * O + o];
  } else {
    for (let c = 0; c < src.length; c++) out[c + oOff] = src[c];
  }
}
