import { GraphBuilder } from './builder';
import type { ModelDef } from './graph';

/**
 * A tiny residual net for demos and tests (SwiftShader trains it at a few images/s). It keeps
 * every coupling kind the big models have: a residual family tying stem, block and shortcut,
 * a block-internal family, and a plain conv family feeding the classifier.
 */
export interface TinyShape {
  width: number;
  headWidth: number;
  stemStride: number;
}

export function tiny({ width, headWidth, stemStride }: TinyShape = { width: 16, headWidth: 32, stemStride: 2 }): ModelDef {
  const g = new GraphBuilder('tiny');
  const res = g.family('stem', 'stem + block (residual)', width);
  const stem = g.relu(g.bn(g.conv('input', res, 3, stemStride, 'stem'), 'stem.bn'));
  const inner = g.family('block', 'block inner', width);
  const h = g.relu(g.bn(g.conv(stem, inner, 3, 1, 'block.conv1'), 'block.bn1'));
  const y = g.bn(g.conv(h, res, 3, 1, 'block.conv2'), 'block.bn2');
  const x = g.maxpool(g.relu(g.add(y, stem)));
  const headFam = g.family('head', 'head conv', headWidth);
  const head = g.relu(g.bn(g.conv(x, headFam, 3, 1, 'head'), 'head.bn'));
  return g.build(g.dense(g.gap(head), 10, 'fc'));
}
