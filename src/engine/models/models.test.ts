import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countCost } from '../cost';
import { MODELS } from '.';
import { disposeModel, forward, initParams, param } from './graph';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const within = (value: number, reference: number, tolerance: number) => Math.abs(value - reference) / reference <= tolerance;

describe('model sizes match the literature (within 2%)', () => {
  it('ResNet-56: ~0.85 M params, ~125 M MACs', () => {
    const c = countCost(MODELS.resnet56());
    expect(within(c.params, 0.85e6, 0.02)).toBe(true);
    expect(within(c.flops, 125e6, 0.02)).toBe(true);
  });
  it('VGG16-BN (CIFAR): ~14.7 M params, ~313 M MACs', () => {
    const c = countCost(MODELS.vgg16());
    expect(within(c.params, 14.7e6, 0.02)).toBe(true);
    expect(within(c.flops, 313e6, 0.02)).toBe(true);
  });
  it('ResNet-20: ~0.27 M params, ~41 M MACs', () => {
    const c = countCost(MODELS.resnet20());
    expect(within(c.params, 0.27e6, 0.02)).toBe(true);
    expect(within(c.flops, 41e6, 0.02)).toBe(true);
  });
});

describe('channel families', () => {
  it('ResNet-56 has 27 block families and one residual family per stage', () => {
    const fams = MODELS.resnet56().families;
    expect(fams.filter((f) => f.id.startsWith('stage'))).toHaveLength(3);
    expect(fams.filter((f) => /^s\db\d$/.test(f.id))).toHaveLength(27);
    // The stage-1 residual family ties the stem, nine conv2/bn2 outputs and nine conv1 inputs.
    const s1 = fams.find((f) => f.id === 'stage1')!;
    expect(s1.members.filter((m) => m.role === 'out' && m.axis === 3)).toHaveLength(10);
    expect(s1.members.filter((m) => m.role === 'in').length).toBeGreaterThanOrEqual(10);
  });
  it('every member slice has the family width along its axis', () => {
    for (const make of Object.values(MODELS)) {
      const def = make();
      const shapes = new Map(def.params.map((p) => [p.name, p.shape]));
      for (const f of def.families) for (const m of f.members) expect(shapes.get(m.param)![m.axis]).toBe(f.channels);
    }
  });
  it('kept channels reduce the counted cost', () => {
    const def = MODELS.tiny();
    const full = countCost(def);
    const half = countCost(def, new Map(def.families.map((f) => [f.id, f.channels / 2])));
    expect(half.flops).toBeLessThan(full.flops * 0.5);
    expect(half.params).toBeLessThan(full.params * 0.6);
  });
});

describe('forward', () => {
  it('runs every model to [batch, 10] logits', () => {
    for (const name of ['tiny', 'resnet20'] as const) {
      const m = initParams(MODELS[name](), 1);
      const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D;
      const y = forward(m, x, false);
      expect(y.shape).toEqual([2, 10]);
      tf.dispose([x, y]);
      disposeModel(m);
    }
  });
  it('initialisation is deterministic given the seed', () => {
    const a = initParams(MODELS.tiny(), 7);
    const b = initParams(MODELS.tiny(), 7);
    const c = initParams(MODELS.tiny(), 8);
    const w = (m: typeof a) => Array.from(param(m, 'stem.w').dataSync().slice(0, 20));
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
    [a, b, c].forEach(disposeModel);
  });
  it('training mode updates BatchNorm running statistics, eval mode does not', () => {
    const m = initParams(MODELS.tiny(), 1);
    const x = tf.add(tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 3), 2) as tf.Tensor4D;
    const before = Array.from(param(m, 'stem.bn.mean').dataSync());
    tf.dispose(forward(m, x, false));
    expect(Array.from(param(m, 'stem.bn.mean').dataSync())).toEqual(before);
    tf.dispose(forward(m, x, true));
    expect(Array.from(param(m, 'stem.bn.mean').dataSync())).not.toEqual(before);
    x.dispose();
    disposeModel(m);
  });
});
