import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countCost } from '../cost';
import { buildModelDef, disposeModel, forward, initParams, param, type Model } from '../models';
import { createGates, groupL2, slimMaxAbsDiff, slimModel, trainedMembers, withGates, withoutGates, zeroChannels } from './groups';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function batch(model: Model, n: number): tf.Tensor4D {
  const [h, w, c] = model.def.inputShape;
  return tf.randomNormal([n, h, w, c], 0, 1, 'float32', 3) as tf.Tensor4D;
}

/** BN stats and affine vectors made non-trivial so equivalence checks are not vacuous. */
function randomiseVectors(model: Model): void {
  model.def.params.forEach((p, i) => {
    if (p.shape.length === 1) param(model, p.name).assign(tf.tidy(() => tf.randomUniform(p.shape, 0.2, 1.2, 'float32', i)));
  });
}

/** Keep every channel but `drop` (deterministic picks spread over the family). */
function keepAllBut(channels: number, drop: number[]): number[] {
  return Array.from({ length: channels }, (_v, c) => c).filter((c) => !drop.includes(c));
}

describe('slimModel', () => {
  it('tiny: removing any group of any family keeps the forward equal to the masked one', async () => {
    const model = initParams(buildModelDef('tiny'), 1);
    randomiseVectors(model);
    const x = batch(model, 2);
    for (const [f, fam] of model.def.families.entries()) {
      const drop = [f % fam.channels, (f * 7 + 3) % fam.channels];
      zeroChannels(model, fam, drop);
      const slim = slimModel(model, new Map([[fam.id, keepAllBut(fam.channels, drop)]]));
      expect(slim.def.families[f].channels).toBe(fam.channels - new Set(drop).size);
      for (const p of slim.def.params) expect(param(slim, p.name).shape).toEqual(p.shape);
      expect(await slimMaxAbsDiff(model, slim, x)).toBeLessThan(1e-4);
      expect(countCost(slim.def).params).toBe(countCost(model.def, new Map([[fam.id, fam.channels - new Set(drop).size]])).params);
      disposeModel(slim);
    }
    x.dispose();
    disposeModel(model);
  });

  it('resnet20: removing groups of every family at once (residual families included) keeps the forward equal', async () => {
    const model = initParams(buildModelDef('resnet20'), 1);
    randomiseVectors(model);
    const keep = new Map<string, number[]>();
    model.def.families.forEach((fam, f) => {
      const drop = [f % fam.channels, (f * 5 + 2) % fam.channels, fam.channels - 1];
      zeroChannels(model, fam, drop);
      keep.set(fam.id, keepAllBut(fam.channels, drop));
    });
    const slim = slimModel(model, keep);
    for (const p of slim.def.params) expect(param(slim, p.name).shape).toEqual(p.shape);
    const x = batch(model, 1);
    expect(await slimMaxAbsDiff(model, slim, x)).toBeLessThan(1e-4);
    x.dispose();
    disposeModel(slim);
    disposeModel(model);
  });

  it('masked channels really matter: slimming an unzeroed channel changes the output', async () => {
    const model = initParams(buildModelDef('tiny'), 2);
    const x = batch(model, 2);
    const fam = model.def.families[2];
    const slim = slimModel(model, new Map([[fam.id, keepAllBut(fam.channels, [0, 1, 2])]]));
    expect(await slimMaxAbsDiff(model, slim, x)).toBeGreaterThan(1e-4);
    disposeModel(slim);
    disposeModel(model);
    x.dispose();
  });

  it('vgg16: slimming a few channels of every family gives consistent shapes and a running forward', () => {
    const model = initParams(buildModelDef('vgg16'), 1);
    const keep = new Map(model.def.families.map((f) => [f.id, keepAllBut(f.channels, [1, 5])]));
    const slim = slimModel(model, keep);
    for (const p of slim.def.params) expect(param(slim, p.name).shape).toEqual(p.shape);
    const x = batch(model, 1);
    const y = forward(slim, x, false);
    expect(y.shape).toEqual([1, 10]);
    tf.dispose([x, y]);
    disposeModel(slim);
    disposeModel(model);
  });

  it('rejects a family left with no channel', () => {
    const model = initParams(buildModelDef('tiny'), 1);
    expect(() => slimModel(model, new Map([['head', []]]))).toThrow(/at least one/);
    disposeModel(model);
  });
});

describe('gates', () => {
  it('withGates inserts one gate per family BN and withoutGates restores the graph', () => {
    const def = buildModelDef('resnet20');
    const gated = withGates(def);
    const bns = def.families.reduce((a, f) => a + f.bns.length, 0);
    expect(gated.ops.filter((o) => o.kind === 'gate')).toHaveLength(bns);
    expect(gated.params).toEqual(def.params);
    expect(withoutGates(gated).ops).toEqual(def.ops);
  });

  it('folds gates into BN when slimming', async () => {
    const model = initParams(buildModelDef('tiny'), 4);
    model.def = withGates(model.def);
    const gates = createGates(model);
    gates.forEach((g, i) => g.assign(tf.tidy(() => tf.randomUniform(g.shape, 0.1, 2, 'float32', i))));
    const fam = model.def.families[1];
    zeroChannels(model, fam, [3]);
    const slim = slimModel(model, new Map([[fam.id, keepAllBut(fam.channels, [3])]]));
    expect(slim.def.ops.some((o) => o.kind === 'gate')).toBe(false);
    const x = batch(model, 2);
    expect(await slimMaxAbsDiff(model, slim, x)).toBeLessThan(1e-4);
    x.dispose();
    disposeModel(slim);
    disposeModel(model);
  });
});

describe('group norms', () => {
  it('groupL2 equals the norm of all trained member slices computed element by element', async () => {
    const model = initParams(buildModelDef('tiny'), 5);
    const fam = model.def.families[0];
    const members = trainedMembers(model.def, fam);
    const n = groupL2(members, (p) => param(model, p), fam.channels);
    const got = await n.data();
    n.dispose();
    const expected = new Float64Array(fam.channels);
    for (const m of members) {
      const t = param(model, m.param);
      const buf = (await t.buffer()).values;
      const shape = t.shape;
      const strides = shape.map((_s, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
      for (let i = 0; i < buf.length; i++) expected[Math.floor(i / strides[m.axis]) % shape[m.axis]] += Number(buf[i]) ** 2;
    }
    expected.forEach((e, c) => expect(got[c]).toBeCloseTo(Math.sqrt(e), 4));
    disposeModel(model);
  });
});
