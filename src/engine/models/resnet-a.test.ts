import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countCost } from '../cost';
import { slimMaxAbsDiff, slimModel, zeroChannels } from '../pruning/groups';
import { MODELS } from '.';
import { disposeModel, forward, initParams, param } from './graph';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ResNet with option-A shortcuts', () => {
  it('has the literature sizes: ResNet-56 0.85 M params / 125 M MACs, ResNet-20 0.27 M / 41 M', () => {
    // He et al. Table 6: 0.85 M and 0.27 M; option A adds no parameters.
    const a56 = countCost(MODELS.resnet56a());
    expect(Math.abs(a56.params - 0.85e6) / 0.85e6).toBeLessThan(0.01);
    expect(Math.abs(a56.flops - 125e6) / 125e6).toBeLessThan(0.02);
    const a20 = countCost(MODELS.resnet20a());
    expect(Math.abs(a20.params - 0.27e6) / 0.27e6).toBeLessThan(0.01);
    expect(a56.params).toBeLessThan(countCost(MODELS.resnet56()).params);
  });

  it('splits each widened stage into the families the zero padding creates', () => {
    const def = MODELS.resnet20a();
    const fam = (id: string) => def.families.find((f) => f.id === id)!;
    expect(def.families.filter((f) => !/^s\db\d$/.test(f.id)).map((f) => [f.id, f.channels])).toEqual([
      ['stage1', 16],
      ['stage2.pre', 8],
      ['stage2.post', 8],
      ['stage3.pre', 16],
      ['stage3.post', 16],
    ]);
    // Stage 1's channels run through stage 2's middle (8..23) and stage 3's middle (24..39):
    // every block's conv2 writes a slice for them and the classifier reads them.
    const outs = (id: string) => fam(id).members.filter((m) => m.role === 'out' && m.axis === 3).map((m) => m.param);
    expect(outs('stage1')).toEqual(['stem.w', 's1b1.conv2.w', 's1b2.conv2.w', 's1b3.conv2.w', 's2b1.conv2@o1.w', 's2b2.conv2@o1.w', 's2b3.conv2@o1.w', 's3b1.conv2@o2.w', 's3b2.conv2@o2.w', 's3b3.conv2@o2.w']);
    expect(outs('stage2.pre')).toEqual(['s2b1.conv2@o0.w', 's2b2.conv2@o0.w', 's2b3.conv2@o0.w', 's3b1.conv2@o1.w', 's3b2.conv2@o1.w', 's3b3.conv2@o1.w']);
    expect(outs('stage3.post')).toEqual(['s3b1.conv2@o4.w', 's3b2.conv2@o4.w', 's3b3.conv2@o4.w']);
    expect(fam('stage1').members.filter((m) => m.role === 'in').map((m) => m.param)).toContain('fc@i2.w');
    // The padded channels are not tied to the block input: no stage-1 tensor is a member.
    expect(fam('stage2.post').members.some((m) => m.param.startsWith('s1') || m.param.startsWith('stem'))).toBe(false);
    // The first stage-2 block reads only stage 1; later ones read all three segments.
    expect(def.params.filter((p) => p.name.startsWith('s2b1.conv1')).map((p) => p.shape)).toEqual([[3, 3, 16, 32]]);
    expect(def.params.filter((p) => p.name.startsWith('s2b2.conv1')).map((p) => p.shape)).toEqual([[3, 3, 8, 32], [3, 3, 16, 32], [3, 3, 8, 32]]);
  });

  it('prunes and slims through the padded shortcut: the slim net computes what the masked one does', async () => {
    const model = initParams(MODELS.resnet20a(), 3);
    // Non-trivial BN statistics, so a leaked channel would show.
    for (const p of model.def.params) {
      if (p.name.endsWith('.mean') || p.name.endsWith('.beta')) param(model, p.name).assign(tf.randomNormal(p.shape, 0, 0.3, 'float32', p.name.length));
      if (p.name.endsWith('.var')) param(model, p.name).assign(tf.randomUniform(p.shape, 0.5, 2, 'float32', p.name.length));
    }
    const keep = new Map<string, number[]>();
    for (const f of model.def.families) {
      const drop = [1, Math.floor(f.channels / 2)];
      zeroChannels(model, f, drop);
      keep.set(f.id, [...Array(f.channels).keys()].filter((c) => !drop.includes(c)));
    }
    const slim = slimModel(model, keep);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const y = forward(slim, x, false);
    expect(y.shape).toEqual([2, 10]);
    expect(Math.max(...(await tf.abs(y).data()))).toBeGreaterThan(1e-3);
    expect(await slimMaxAbsDiff(model, slim, x)).toBeLessThan(1e-4);
    expect(countCost(slim.def).params).toBeLessThan(countCost(model.def).params);
    tf.dispose([x, y]);
    disposeModel(slim);
    disposeModel(model);
  });

  it('trains: gradients reach every parameter, including through the padded shortcut', () => {
    const model = initParams(MODELS.resnet20a(), 1);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const vars = [...model.vars.values()].filter((v) => v.trainable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(forward(model, x, true))) as tf.Scalar, vars);
    for (const v of vars) expect(tf.max(tf.abs(grads[v.name])).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, ...Object.values(grads)]);
    disposeModel(model);
  });
});
