import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { learningRate } from './lr-schedule';
import { SgdMomentum } from './optimizer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('SgdMomentum', () => {
  it('follows torch.optim.SGD: g += wd*w; v = mu*v + g; w -= lr*v', () => {
    const w = tf.variable(tf.tensor1d([1, -2]), true, 'opt-test-w');
    const opt = new SgdMomentum(0.9, 0.1);
    const grads = [
      [0.5, 0.5],
      [-1, 0],
      [0.25, 2],
    ];
    // Reference, by hand in plain numbers.
    let ref = [1, -2];
    let v: number[] | null = null;
    for (const g of grads) {
      const d = g.map((gi, i) => gi + 0.1 * ref[i]);
      v = v ? v.map((vi, i) => 0.9 * vi + d[i]) : d;
      ref = ref.map((wi, i) => wi - 0.01 * v![i]);
      const gt = tf.tensor1d(g);
      opt.apply([w], { [w.name]: gt }, 0.01, () => true);
      gt.dispose();
    }
    const got = Array.from(w.dataSync());
    got.forEach((x, i) => expect(x).toBeCloseTo(ref[i], 6));
    opt.dispose();
    w.dispose();
  });

  it('state() / restore() continue identically', async () => {
    const mk = () => tf.variable(tf.tensor1d([1, 2, 3]), true, `opt-w-${Math.random()}`);
    const a = mk();
    const b = mk();
    const optA = new SgdMomentum(0.9, 0);
    const g = tf.tensor1d([1, -1, 0.5]);
    optA.apply([a], { [a.name]: g }, 0.1, () => false);
    b.assign(a);
    const optB = new SgdMomentum(0.9, 0);
    const st = await optA.state();
    optB.restore({ [b.name]: st[a.name] });
    optA.apply([a], { [a.name]: g }, 0.1, () => false);
    optB.apply([b], { [b.name]: g }, 0.1, () => false);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b, g]);
    optA.dispose();
    optB.dispose();
  });
});

describe('learningRate', () => {
  const base = { lr: 0.1, milestones: [0.5, 0.75] };
  it('cosine starts at lr and ends near 0', () => {
    expect(learningRate({ ...base, lrSchedule: 'cosine' }, 0, 100)).toBeCloseTo(0.1);
    expect(learningRate({ ...base, lrSchedule: 'cosine' }, 50, 100)).toBeCloseTo(0.05);
    expect(learningRate({ ...base, lrSchedule: 'cosine' }, 100, 100)).toBeCloseTo(0);
  });
  it('step divides by 10 at each milestone', () => {
    expect(learningRate({ ...base, lrSchedule: 'step' }, 49, 100)).toBeCloseTo(0.1);
    expect(learningRate({ ...base, lrSchedule: 'step' }, 50, 100)).toBeCloseTo(0.01);
    expect(learningRate({ ...base, lrSchedule: 'step' }, 80, 100)).toBeCloseTo(0.001);
  });
});
