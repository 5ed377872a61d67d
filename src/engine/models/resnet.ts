import { GraphBuilder } from './builder';
import type { ConvPad, ModelDef } from './graph';

/**
 * ResNet for CIFAR (He et al. 2016): a 3x3 stem, three stages of `blocksPerStage` basic blocks
 * at widths w, 2w, 4w, global average pool, linear. Shortcuts are "option B" (identity, or a
 * strided 1x1 conv + BN where the width changes), as in Torch-Pruning's ResNet-56: every
 * residual add ties its stage into one channel family.
 */
export function resnetCifar(name: string, blocksPerStage: number, width = 16, pad: ConvPad = 'same'): ModelDef {
  const g = new GraphBuilder(name);
  const widths = [width, 2 * width, 4 * width];
  let stage = g.family('stage1', 'stage 1 (residual)', widths[0]);
  let x = g.relu(g.bn(g.conv('input', stage, 3, 1, 'stem', pad), 'stem.bn'));
  widths.forEach((w, s) => {
    if (s > 0) stage = g.family(`stage${s + 1}`, `stage ${s + 1} (residual)`, w);
    for (let b = 0; b < blocksPerStage; b++) {
      const id = `s${s + 1}b${b + 1}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      const inner = g.family(id, `stage ${s + 1} block ${b + 1}`, w);
      const h = g.relu(g.bn(g.conv(x, inner, 3, stride, `${id}.conv1`, pad), `${id}.bn1`));
      const y = g.bn(g.conv(h, stage, 3, 1, `${id}.conv2`, pad), `${id}.bn2`);
      const shortcut = stride === 1 ? x : g.bn(g.conv(x, stage, 1, stride, `${id}.down`, pad), `${id}.down.bn`);
      x = g.relu(g.add(y, shortcut));
    }
  });
  return g.build(g.dense(g.gap(x), 10, 'fc'));
}

/** One family's slice of a residual stream: the tensor holding it and its family. */
interface Segment {
  t: string;
  fam: string;
}

/**
 * ResNet for CIFAR with "option A" shortcuts, the original He et al. network (and the layout
 * of the widely used akamaster/pytorch_resnet_cifar10 checkpoints): where a stage doubles the
 * width, the shortcut is x[:, :, ::2, ::2] zero-padded by C/2 channels on each side
 * (F.pad(..., (0, 0, 0, 0, planes // 4, planes // 4))), with no parameters.
 *
 * The padding makes coupling partial: stage 2's channels 8..23 are stage 1's channels 0..15
 * (plus what the convs add), while its channels 0..7 and 24..31 start from zero. So stage 2 is
 * three families, [pre | stage 1 | post], and stage 3 five, [pre | stage 2 pre | stage 1 |
 * stage 2 post | post]. A family must cover whole parameter axes, so the residual stream is
 * kept as one tensor per family ("segment"): a conv reading the stream is the sum of one conv
 * per segment, a conv writing it is one conv per segment, and the classifier is one partial
 * product per segment. That is the same function (sums split by input channel), and pruning,
 * slimming and cost counting work on it unchanged. Parameters of a split tensor are named
 * `<name>@i<k>` (k-th input slice) or `<name>@o<k>` (k-th output slice).
 */
export function resnetCifarA(name: string, blocksPerStage: number, width = 16): ModelDef {
  const g = new GraphBuilder(name);
  const pad: ConvPad = 'torch';
  /** A conv over a segmented stream: one conv per input segment, summed. */
  const convIn = (input: Segment[], fam: string, stride: number, conv: string): string => {
    if (input.length === 1) return g.conv(input[0].t, fam, 3, stride, conv, pad);
    return input.map((seg, i) => g.conv(seg.t, fam, 3, stride, `${conv}@i${i}`, pad)).reduce((a, b) => g.add(a, b));
  };
  const stem = g.family('stage1', 'stage 1 (residual)', width);
  let stream: Segment[] = [{ t: g.relu(g.bn(g.conv('input', stem, 3, 1, 'stem', pad), 'stem.bn')), fam: stem }];
  [width, 2 * width, 4 * width].forEach((w, s) => {
    for (let b = 0; b < blocksPerStage; b++) {
      const id = `s${s + 1}b${b + 1}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      let shortcut: (Segment | null)[] = stream;
      if (stride === 2) {
        const inWidth = w / 2;
        const pre = g.family(`stage${s + 1}.pre`, `stage ${s + 1} ch 0-${inWidth / 2 - 1} (zero-padded shortcut)`, inWidth / 2);
        const post = g.family(`stage${s + 1}.post`, `stage ${s + 1} ch ${inWidth * 1.5}-${w - 1} (zero-padded shortcut)`, inWidth / 2);
        shortcut = [null, ...stream.map((seg) => ({ t: g.subsample(seg.t, 2), fam: seg.fam })), null];
        stream = [{ t: '', fam: pre }, ...stream, { t: '', fam: post }];
      }
      const inner = g.family(id, `stage ${s + 1} block ${b + 1}`, w);
      const h = g.relu(g.bn(convIn(stride === 2 ? stream.slice(1, -1) : stream, inner, stride, `${id}.conv1`), `${id}.bn1`));
      const split = stream.length > 1;
      stream = stream.map((seg, k) => {
        const suffix = split ? `@o${k}` : '';
        const y = g.bn(g.conv(h, seg.fam, 3, 1, `${id}.conv2${suffix}`, pad), `${id}.bn2${suffix}`);
        const sc = shortcut[k];
        return { t: g.relu(sc ? g.add(y, sc.t) : y), fam: seg.fam };
      });
    }
  });
  const logits = stream.map((seg, k) => g.dense(g.gap(seg.t), 10, stream.length > 1 ? `fc@i${k}` : 'fc', k === 0)).reduce((a, b) => g.add(a, b));
  return g.build(logits);
}

export const resnet20 = (): ModelDef => resnetCifar('resnet20', 3);
export const resnet56 = (): ModelDef => resnetCifar('resnet56', 9);
export const resnet20a = (): ModelDef => resnetCifarA('resnet20a', 3);
export const resnet56a = (): ModelDef => resnetCifarA('resnet56a', 9);
