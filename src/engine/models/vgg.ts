import { GraphBuilder } from './builder';
import type { ConvPad, ModelDef } from './graph';

/** VGG16-BN for CIFAR: 13 conv+BN+ReLU layers, 5 max-pools (32 -> 1), then the classifier. */
export const VGG16_CFG: readonly (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

export interface VggOptions {
  /**
   * [] = one linear 512 -> 10 (Torch-Pruning's and kuangliu's CIFAR VGG); [h, h] = the
   * three-layer classifier 512 -> h -> h -> 10 with ReLUs (dropout is identity in eval), as in
   * chengyangfu/pytorch-vgg-cifar10 and chenyaofo/pytorch-cifar-models. Hidden units stay dense.
   */
  hidden?: number[];
  pad?: ConvPad;
}

export function vgg16({ hidden = [], pad = 'same' }: VggOptions = {}): ModelDef {
  const g = new GraphBuilder('vgg16');
  let x = 'input';
  let i = 0;
  for (const c of VGG16_CFG) {
    if (c === 'M') {
      x = g.maxpool(x);
      continue;
    }
    i++;
    const fam = g.family(`conv${i}`, `conv ${i}`, c);
    x = g.relu(g.bn(g.conv(x, fam, 3, 1, `conv${i}`, pad), `bn${i}`));
  }
  // After five pools the map is 1x1, so global average pooling is the flatten.
  x = g.gap(x);
  hidden.forEach((h, j) => (x = g.relu(g.dense(x, h, `fc${j + 1}`))));
  return g.build(g.dense(x, 10, 'fc'));
}
