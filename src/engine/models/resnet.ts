import { GraphBuilder } from './builder';
import type { ModelDef } from './graph';

/**
 * ResNet for CIFAR (He et al. 2016): a 3x3 stem, three stages of `blocksPerStage` basic blocks
 * at widths w, 2w, 4w, global average pool, linear. Shortcuts are "option B" (identity, or a
 * strided 1x1 conv + BN where the width changes), as in Torch-Pruning's ResNet-56: every
 * residual add ties its stage into one channel family.
 */
export function resnetCifar(name: string, blocksPerStage: number, width = 16): ModelDef {
  const g = new GraphBuilder(name);
  const widths = [width, 2 * width, 4 * width];
  let stage = g.family('stage1', 'stage 1 (residual)', widths[0]);
  let x = g.relu(g.bn(g.conv('input', stage, 3, 1, 'stem'), 'stem.bn'));
  widths.forEach((w, s) => {
    if (s > 0) stage = g.family(`stage${s + 1}`, `stage ${s + 1} (residual)`, w);
    for (let b = 0; b < blocksPerStage; b++) {
      const id = `s${s + 1}b${b + 1}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      const inner = g.family(id, `stage ${s + 1} block ${b + 1}`, w);
      const h = g.relu(g.bn(g.conv(x, inner, 3, stride, `${id}.conv1`), `${id}.bn1`));
      const y = g.bn(g.conv(h, stage, 3, 1, `${id}.conv2`), `${id}.bn2`);
      const shortcut = stride === 1 ? x : g.bn(g.conv(x, stage, 1, stride, `${id}.down`), `${id}.down.bn`);
      x = g.relu(g.add(y, shortcut));
    }
  });
  return g.build(g.dense(g.gap(x), 10, 'fc'));
}

export const resnet20 = (): ModelDef => resnetCifar('resnet20', 3);
export const resnet56 = (): ModelDef => resnetCifar('resnet56', 9);
