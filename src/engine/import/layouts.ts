import { DataError } from '../data/types';
import type { ModelDef } from '../models/graph';
import { resnetCifar, resnetCifarA } from '../models/resnet';
import { tiny } from '../models/tiny';
import { VGG16_CFG, vgg16 } from '../models/vgg';
import type { StateDict } from './tensors';

/**
 * PyTorch key names and layouts for the CIFAR networks people publish, and which of our
 * parameters each key becomes. Recognises the architecture from the keys and shapes alone.
 *
 * ResNet: conv1, bn1, layer{1,2,3}.{i}.{conv1,bn1,conv2,bn2}, option B's
 * {shortcut|downsample}.{0,1}, classifier {linear|fc} (akamaster/pytorch_resnet_cifar10,
 * chenyaofo/pytorch-cifar-models, kuangliu/pytorch-cifar, Torch-Pruning's CIFAR ResNets).
 * VGG16-BN: convs (with or without bias) and BNs as features.{n} (torchvision-style
 * Sequential) or block{b}.{n} (Torch-Pruning); classifier.weight, or classifier.{a,b,c} for the
 * three-layer head.
 */

export type Architecture =
  | { kind: 'resnet'; blocks: number; width: number; shortcut: 'A' | 'B'; downsample: string; classifier: string }
  | { kind: 'vgg16'; scheme: 'features' | 'block'; hidden: number[]; classifier: string[] }
  /**
   * The app's own demo net (no published checkpoints): keys `stem`, `stem_bn`, `block.conv1`,
   * `block.bn1`, …, `head`, `head_bn`, `fc`. Its stride-2 stem pads as TF's 'same' does, so the
   * file is for importing back into the app (ONNX carries the exact padding for other tools).
   */
  | { kind: 'tiny' };

/** How one of our parameters is read from a PyTorch tensor. */
export interface ParamSource {
  param: string;
  key: string;
  /** conv: OIHW -> HWIO; linear: [out, in] -> [in, out]; vector: as is. */
  kind: 'conv' | 'linear' | 'vector';
  /** A slice along PyTorch's output (axis 0) or input (axis 1) dimension, for split tensors. */
  slice?: { axis: 0 | 1; start: number; size: number };
}

export interface Layout {
  arch: Architecture;
  def: ModelDef;
  label: string;
  sources: ParamSource[];
  /** Keys that may be present and are used but not required (conv biases folded into BN). */
  optional: Map<string, { foldInto: string }>;
  /** Keys that may be present and are ignored (BN's num_batches_tracked). */
  ignorable: (key: string) => boolean;
}

const intKeys = (state: StateDict, re: RegExp) => [...new Set([...state.keys()].flatMap((k) => (re.exec(k) ? [Number(re.exec(k)![1])] : [])))].sort((a, b) => a - b);

export function recognise(file: string, state: StateDict): Architecture {
  const has = (k: string) => state.has(k);
  if (has('conv1.weight') && [...state.keys()].some((k) => k.startsWith('layer1.'))) {
    const blocks = intKeys(state, /^layer1\.(\d+)\./).length;
    const width = state.get('conv1.weight')!.shape[0];
    const down = [...state.keys()].map((k) => /^layer\d\.\d+\.(shortcut|downsample)\.0\.weight$/.exec(k)).find(Boolean);
    const classifier = has('linear.weight') ? 'linear' : 'fc';
    if (!Number.isInteger(width) || width < 4 || width % 4 || width > 256) throw new DataError(file, `conv1.weight has ${width} output channels; a CIFAR ResNet has a multiple of 4 (16 in the published ones)`);
    return { kind: 'resnet', blocks, width, shortcut: down ? 'B' : 'A', downsample: down ? down[1] : 'shortcut', classifier };
  }
  if (has('stem.weight') && has('block.conv1.weight') && has('head.weight')) return { kind: 'tiny' };
  const scheme = has('features.0.weight') ? 'features' : has('block0.0.weight') ? 'block' : null;
  if (scheme) {
    const idx = intKeys(state, /^classifier\.(\d+)\.weight$/);
    const classifier = idx.length ? idx.map((i) => `classifier.${i}`) : ['classifier'];
    const hidden = classifier.slice(0, -1).map((k) => state.get(`${k}.weight`)?.shape[0] ?? 0);
    return { kind: 'vgg16', scheme, hidden, classifier };
  }
  const sample = [...state.keys()].slice(0, 6).join(', ');
  throw new DataError(file, `the checkpoint's keys match none of the supported networks (CIFAR ResNet-20/56 with option-A or option-B shortcuts, VGG16-BN); its first keys are: ${sample}`);
}

const BN_KEYS: Record<string, string> = { gamma: 'weight', beta: 'bias', mean: 'running_mean', var: 'running_var' };

/** The dense network a checkpoint of this architecture holds. */
export function defaultDef(arch: Architecture): ModelDef {
  if (arch.kind === 'tiny') return tiny();
  if (arch.kind === 'vgg16') return vgg16({ hidden: arch.hidden, pad: 'torch' });
  const depth = 6 * arch.blocks + 2;
  return arch.shortcut === 'A' ? resnetCifarA(`resnet${depth}a`, arch.blocks, arch.width) : resnetCifar(`resnet${depth}`, arch.blocks, arch.width, 'torch');
}

export function archLabel(arch: Architecture): string {
  if (arch.kind === 'tiny') return 'tiny (the app\'s demo net)';
  if (arch.kind === 'resnet') return `ResNet-${6 * arch.blocks + 2} (option-${arch.shortcut} shortcuts${arch.width === 16 ? '' : `, width ${arch.width}`})`;
  return `VGG16-BN (${arch.hidden.length ? `three-layer classifier, hidden ${arch.hidden.join('/')}` : 'one linear classifier'})`;
}

/**
 * The key of each of `def`'s parameters. `def` is the architecture's dense network or a slimmed
 * copy of it (same names, fewer channels): slices are laid out from the actual shapes.
 */
export function layoutFor(arch: Architecture, def: ModelDef = defaultDef(arch)): Layout {
  const optional = new Map<string, { foldInto: string }>();
  const ignorable = (k: string) => k.endsWith('.num_batches_tracked');
  const label = archLabel(arch);
  if (arch.kind === 'resnet') return { arch, def, label, sources: splitSources(def, (p) => resnetKey(arch, p)), optional, ignorable };
  if (arch.kind === 'tiny') return { arch, def, label, sources: splitSources(def, tinyKey), optional, ignorable };
  const convKeys: string[] = [];
  let n = 0;
  let block = 0;
  for (const c of VGG16_CFG) {
    if (c === 'M') {
      // features.*: the pool is a module in the Sequential; block*: a new block starts.
      if (arch.scheme === 'features') n += 1;
      else [block, n] = [block + 1, 0];
      continue;
    }
    convKeys.push(arch.scheme === 'features' ? `features.${n}` : `block${block}.${n}`);
    n += 3; // conv, BN, ReLU
  }
  const bnKey = (conv: string) => conv.replace(/\.(\d+)$/, (_, i: string) => `.${Number(i) + 1}`);
  convKeys.forEach((k, i) => optional.set(`${k}.bias`, { foldInto: `bn${i + 1}.mean` }));
  const heads = ['fc1', 'fc2', 'fc'].slice(-arch.classifier.length);
  const key = (p: string): string => {
    let m = /^conv(\d+)\.w$/.exec(p);
    if (m) return `${convKeys[Number(m[1]) - 1]}.weight`;
    m = /^bn(\d+)\.(gamma|beta|mean|var)$/.exec(p);
    if (m) return `${bnKey(convKeys[Number(m[1]) - 1])}.${BN_KEYS[m[2]]}`;
    m = /^(fc\d?)\.(w|b)$/.exec(p);
    if (m) return `${arch.classifier[heads.indexOf(m[1])]}.${m[2] === 'w' ? 'weight' : 'bias'}`;
    throw new Error(`no PyTorch name for ${p}`);
  };
  return { arch, def, label, sources: splitSources(def, key), optional, ignorable };
}

function resnetKey(arch: Extract<Architecture, { kind: 'resnet' }>, p: string): string {
  if (p === 'stem.w') return 'conv1.weight';
  let m = /^stem\.bn\.(gamma|beta|mean|var)$/.exec(p);
  if (m) return `bn1.${BN_KEYS[m[1]]}`;
  m = /^s(\d)b(\d+)\.(conv[12])(?:@[io]\d+)?\.w$/.exec(p);
  if (m) return `layer${m[1]}.${Number(m[2]) - 1}.${m[3]}.weight`;
  m = /^s(\d)b(\d+)\.(bn[12])(?:@o\d+)?\.(gamma|beta|mean|var)$/.exec(p);
  if (m) return `layer${m[1]}.${Number(m[2]) - 1}.${m[3]}.${BN_KEYS[m[4]]}`;
  m = /^s(\d)b(\d+)\.down\.w$/.exec(p);
  if (m) return `layer${m[1]}.${Number(m[2]) - 1}.${arch.downsample}.0.weight`;
  m = /^s(\d)b(\d+)\.down\.bn\.(gamma|beta|mean|var)$/.exec(p);
  if (m) return `layer${m[1]}.${Number(m[2]) - 1}.${arch.downsample}.1.${BN_KEYS[m[3]]}`;
  m = /^fc(?:@i\d+)?\.(w|b)$/.exec(p);
  if (m) return `${arch.classifier}.${m[1] === 'w' ? 'weight' : 'bias'}`;
  throw new Error(`no PyTorch name for ${p}`);
}

/** `stem.w` -> `stem.weight`, `stem.bn.gamma` -> `stem_bn.weight` (a conv module has no children). */
function tinyKey(p: string): string {
  const m = /^(.+?)(?:\.(bn\d*))?\.(w|b|gamma|beta|mean|var)$/.exec(p);
  if (!m) throw new Error(`no PyTorch name for ${p}`);
  const module = m[2] ? (m[2] === 'bn' ? `${m[1]}_bn` : `${m[1]}.${m[2]}`) : m[1];
  return `${module}.${m[3] === 'w' ? 'weight' : m[3] === 'b' ? 'bias' : BN_KEYS[m[3]]}`;
}

/**
 * One source per parameter; parameters named `<x>@o<k>` / `<x>@i<k>` are consecutive slices of
 * one PyTorch tensor along its output / input axis, in k order.
 */
function splitSources(def: ModelDef, keyOf: (param: string) => string): ParamSource[] {
  const offsets = new Map<string, number>();
  return def.params.map((p) => {
    const key = keyOf(p.name);
    const kind = p.shape.length === 4 ? 'conv' : p.shape.length === 2 ? 'linear' : 'vector';
    const piece = /@([io])\d+\./.exec(p.name);
    // A split classifier's bias (on its first partial product) is the whole PyTorch bias.
    if (!piece || (kind === 'vector' && piece[1] === 'i')) return { param: p.name, key, kind };
    const axis = piece[1] === 'o' ? 0 : 1;
    // Our layouts: conv HWIO (in 2, out 3), linear [in, out], vector [c].
    const size = kind === 'conv' ? p.shape[axis === 0 ? 3 : 2] : kind === 'linear' ? p.shape[axis === 0 ? 1 : 0] : p.shape[0];
    const start = offsets.get(`${key}/${axis}`) ?? 0;
    offsets.set(`${key}/${axis}`, start + size);
    return { param: p.name, key, kind, slice: { axis, start, size } };
  });
}

/** The full PyTorch shape each key must have, from our parameters' shapes and slices. */
export function expectedShapes(layout: Layout): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const shapeOf = new Map(layout.def.params.map((p) => [p.name, p.shape]));
  for (const s of layout.sources) {
    const ours = shapeOf.get(s.param)!;
    const torch = s.kind === 'conv' ? [ours[3], ours[2], ours[0], ours[1]] : s.kind === 'linear' ? [ours[1], ours[0]] : [...ours];
    const prev = shapes.get(s.key);
    if (s.slice && prev) prev[s.slice.axis] = Math.max(prev[s.slice.axis], s.slice.start + s.slice.size);
    else if (s.slice) {
      torch[s.slice.axis] = s.slice.start + s.slice.size;
      shapes.set(s.key, torch);
    } else shapes.set(s.key, torch);
  }
  return shapes;
}
