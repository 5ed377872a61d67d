import type { CostFigures } from './events';
import type { ModelDef } from './models/graph';

/**
 * The one counting convention of the project:
 * - params: elements of trainable tensors (conv/dense weights and biases, BN gamma/beta), as
 *   PyTorch's sum(p.numel() for p in model.parameters()); BN running statistics excluded.
 * - flops: multiply-accumulates (MACs) of conv and dense layers for one image, the figure the
 *   pruning literature calls "FLOPs" (ResNet-56: ~125 M; VGG16-BN: ~313 M). BN, ReLU, pooling
 *   and adds are not counted.
 * `kept` gives the live channel count per family (absent = all), so the same function counts
 * a masked model and its slimmed copy identically.
 */
export function countCost(def: ModelDef, kept?: ReadonlyMap<string, number>): CostFigures {
  const shape = effectiveShapes(def, kept);
  const spatial = spatialSizes(def);
  let params = 0;
  for (const p of def.params) if (p.trainable) params += size(shape.get(p.name)!);
  let flops = 0;
  for (const op of def.ops) {
    if (op.kind === 'conv') {
      const hw = spatial.get(op.out)!;
      flops += size(shape.get(op.weight)!) * hw * hw;
    } else if (op.kind === 'dense') {
      flops += size(shape.get(op.weight)!);
    }
  }
  return { params, flops };
}

/** Each parameter's shape with every coupled axis reduced to its family's kept channels. */
export function effectiveShapes(def: ModelDef, kept?: ReadonlyMap<string, number>): Map<string, number[]> {
  const shapes = new Map(def.params.map((p) => [p.name, [...p.shape]]));
  if (!kept) return shapes;
  for (const fam of def.families) {
    const k = kept.get(fam.id);
    if (k === undefined) continue;
    for (const m of fam.members) {
      const s = shapes.get(m.param);
      if (s) s[m.axis] = k;
    }
  }
  return shapes;
}

/** Output height (= width) of every tensor in the graph. */
export function spatialSizes(def: ModelDef): Map<string, number> {
  const hw = new Map<string, number>([['input', def.inputShape[0]]]);
  for (const op of def.ops) {
    switch (op.kind) {
      case 'conv':
      case 'subsample':
        hw.set(op.out, Math.ceil(hw.get(op.input)! / op.stride));
        break;
      case 'maxpool':
        hw.set(op.out, Math.floor(hw.get(op.input)! / 2));
        break;
      case 'gap':
      case 'dense':
        hw.set(op.out, 1);
        break;
      case 'add':
        hw.set(op.out, hw.get(op.a)!);
        break;
      default:
        hw.set(op.out, hw.get(op.input)!);
    }
  }
  return hw;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
