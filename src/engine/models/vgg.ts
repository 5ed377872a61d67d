import { GraphBuilder } from './builder';
import type { ModelDef } from './graph';

/** VGG16-BN for CIFAR: 13 conv+BN+ReLU layers, 5 max-pools (32 -> 1), linear 512 -> 10. */
const CFG: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

export function vgg16(): ModelDef {
  const g = new GraphBuilder('vgg16');
  let x = 'input';
  let i = 0;
  for (const c of CFG) {
    if (c === 'M') {
      x = g.maxpool(x);
      continue;
    }
    i++;
    const fam = g.family(`conv${i}`, `conv ${i}`, c);
    x = g.relu(g.bn(g.conv(x, fam, 3, 1, `conv${i}`), `bn${i}`));
  }
  // After five pools the map is 1x1, so global average pooling is the flatten.
  return g.build(g.dense(g.gap(x), 10, 'fc'));
}
