import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SgdMomentum } from '../../train/optimizer';
import { requireWebGpu } from './backend-internals';
import { countDispatches } from './dispatch-count';
import { setFastWebGpu } from './install';
import { runReduce } from './dpm-reduce';
import { rawOutput } from './raw';
import { workgroupGrid, type UpdateTaps } from './sgd';
import { useWebGpuBackend } from './test-util';

beforeAll(useWebGpuBackend);
afterAll(() => setFastWebGpu(true));

const SHAPES = [[3, 3, 5, 7], [13], [64, 10]];

/** Initial weights with the awkward values in them: signed zeros, tiny and large magnitudes. */
function initialWeights(seed: number): tf.Tensor[] {
  return SHAPES.map((shape, k) =>
    tf.tidy(() => {
      const r = tf.randomNormal(shape, 0, 1, 'float32', seed + k).dataSync() as Float32Array;
      r.set([0, -0, 1e-30, -3e5]);
      return tf.tensor(r, shape);
    }),
  );
}

function gradients(step: number): tf.Tensor[] {
  return SHAPES.map((shape, k) =>
    tf.tidy(() => {
      const r = tf.randomNormal(shape, 0, 0.5, 'float32', 100 * step + k + 1).dataSync() as Float32Array;
      r.set([-0, 0, 2e-38]);
      return tf.tensor(r, shape);
    }),
  );
}

let nextName = 0;
const variables = (init: tf.Tensor[]): tf.Variable[] => init.map((t) => tf.variable(t, true, `sgd-test-${nextName++}`));
const bits = async (t: tf.Tensor): Promise<number[]> => Array.from(new Uint32Array(((await t.data()) as Float32Array).slice().buffer));

/** Where two lists of f32 bit patterns differ: "variable[index]: got vs want" (values shown). */
function differences(got: number[][], want: number[][]): string[] {
  const f = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0];
  const out: string[] = [];
  got.forEach((g, k) => g.forEach((u, i) => u !== want[k][i] && out.push(`${k}[${i}]: ${f(u)} vs ${f(want[k][i])}`)));
  return out;
}

/** Runs `steps` updates with the fast (fused) or stock tfjs path; returns weights and velocities. */
async function train(fast: boolean, momentum: number, weightDecay: number, steps: number): Promise<{ weights: number[][]; velocity: number[][] }> {
  const init = initialWeights(1);
  const vars = variables(init);
  tf.dispose(init);
  const opt = new SgdMomentum(momentum, weightDecay);
  setFastWebGpu(fast);
  try {
    for (let s = 0; s < steps; s++) {
      const g = gradients(s);
      // The [13] vector gets no decay, as a BN vector or a pruner's gate would not.
      opt.apply(vars, Object.fromEntries(vars.map((v, k) => [v.name, g[k]])), 0.1 / (s + 1), (v) => v !== vars[1]);
      tf.dispose(g);
    }
  } finally {
    setFastWebGpu(true);
  }
  const state = await opt.state();
  const weights = await Promise.all(vars.map(bits));
  const velocity = vars.map((v) => Array.from(new Uint32Array(state[v.name].data.slice().buffer)));
  opt.dispose();
  tf.dispose(vars);
  return { weights, velocity };
}

describe('fused SGD momentum on WebGPU', () => {
  for (const momentum of [0, 0.9]) {
    for (const weightDecay of [0, 5e-4]) {
      it(`is bit-for-bit the stock tfjs update over 4 steps (momentum ${momentum}, weight decay ${weightDecay})`, async () => {
        const stock = await train(false, momentum, weightDecay, 4);
        const fused = await train(true, momentum, weightDecay, 4);
        expect(differences(fused.weights, stock.weights)).toEqual([]);
        expect(differences(fused.velocity, stock.velocity)).toEqual([]);
        // The update did something (a no-op would pass the comparison too).
        const init = initialWeights(1);
        expect(await bits(init[0])).not.toEqual(stock.weights[0]);
        tf.dispose(init);
      });
    }
  }

  it('costs one dispatch per two variables, the first step included (stock: six per variable)', async () => {
    const init = initialWeights(2);
    const vars = variables(init);
    const opt = new SgdMomentum(0.9, 5e-4);
    const device = requireWebGpu().device;
    const g = gradients(0);
    const grads = Object.fromEntries(vars.map((v, k) => [v.name, g[k]]));
    const first = await countDispatches(device, () => opt.apply(vars, grads, 0.1, () => true));
    const later = await countDispatches(device, () => opt.apply(vars, grads, 0.1, () => true));
    expect(first.dispatches.map((d) => d.kernel)).toEqual(['sgd-momentum-x2', 'sgd-momentum-x1']);
    expect(later.dispatches.map((d) => d.kernel)).toEqual(['sgd-momentum-x2', 'sgd-momentum-x1']);
    setFastWebGpu(false);
    const stock = await countDispatches(device, () => opt.apply(vars, grads, 0.1, () => true));
    setFastWebGpu(true);
    expect(stock.dispatches).toHaveLength(6 * vars.length);
    const tensors = tf.memory().numTensors;
    opt.apply(vars, grads, 0.1, () => true);
    expect(tf.memory().numTensors).toBe(tensors);
    opt.dispose();
    tf.dispose([...vars, ...init, ...g]);
  });

  it('leaves a clone of a weight (a DPM snapshot shares its buffer) unchanged', async () => {
    const init = initialWeights(3);
    const [a, b] = [variables(init), variables(init)];
    const snapshot = tf.clone(a[0]);
    const before = await bits(snapshot);
    const g = gradients(0);
    const fused = new SgdMomentum(0.9, 5e-4);
    const stock = new SgdMomentum(0.9, 5e-4);
    fused.apply(a, Object.fromEntries(a.map((v, k) => [v.name, g[k]])), 0.1, () => true);
    setFastWebGpu(false);
    stock.apply(b, Object.fromEntries(b.map((v, k) => [v.name, g[k]])), 0.1, () => true);
    setFastWebGpu(true);
    expect(await bits(snapshot)).toEqual(before);
    expect(await bits(a[0])).toEqual(await bits(b[0]));
    expect(await bits(a[0])).not.toEqual(before);
    fused.dispose();
    stock.dispose();
    tf.dispose([...a, ...b, ...init, ...g, snapshot]);
  });

  it('continues bit-exactly from a restored checkpoint', async () => {
    const init = initialWeights(4);
    const [a, b] = [variables(init), variables(init)];
    const g = gradients(0);
    const gradsOf = (vs: tf.Variable[]) => Object.fromEntries(vs.map((v, k) => [v.name, g[k]]));
    const optA = new SgdMomentum(0.9, 5e-4);
    optA.apply(a, gradsOf(a), 0.1, () => true);
    const saved = await optA.state();
    b.forEach((v, k) => v.assign(a[k]));
    const optB = new SgdMomentum(0.9, 5e-4);
    optB.restore(Object.fromEntries(b.map((v, k) => [v.name, saved[a[k].name]])));
    optA.apply(a, gradsOf(a), 0.05, () => true);
    optB.apply(b, gradsOf(b), 0.05, () => true);
    for (let k = 0; k < a.length; k++) expect(await bits(b[k])).toEqual(await bits(a[k]));
    optA.dispose();
    optB.dispose();
    tf.dispose([...a, ...b, ...init, ...g]);
  });
});

describe('fused SGD momentum with taps (the sums DPM\'s hooks read)', () => {
  /** var 0 [3,3,5,7] as [9, 35]: w'^2 and g^2; var 1: none; var 2 [64,10] as [64, 10]: w'.w, w^2, w'^2. */
  const tapsFor = (vars: tf.Variable[]): UpdateTaps => ({
    scratch: rawOutput([100]),
    byVariable: new Map([
      [vars[0].name, { S: 9, weight: 0, grad: 35, dot: -1, old: -1 }],
      [vars[2].name, { S: 64, weight: 90, grad: -1, dot: 70, old: 80 }],
    ]),
    written: new Set(),
  });
  const read = async (info: tf.TensorInfo): Promise<Float32Array> => {
    const t = tf.engine().makeTensorFromTensorInfo(info);
    const d = (await t.data()) as Float32Array;
    t.dispose();
    return d;
  };

  it('updates bit-for-bit as without taps, in as many dispatches, and writes what the reduction pass computes, bit for bit', async () => {
    const init = initialWeights(5);
    const [a, b] = [variables(init), variables(init)];
    const plain = new SgdMomentum(0.9, 5e-4);
    const tapped = new SgdMomentum(0.9, 5e-4);
    const device = requireWebGpu().device;
    let taps: UpdateTaps | null = null;
    let old: tf.Tensor | null = null;
    let g: tf.Tensor[] = [];
    const kernels: string[][] = [];
    for (let s = 0; s < 3; s++) {
      tf.dispose(g);
      g = gradients(s);
      plain.apply(b, Object.fromEntries(b.map((v, k) => [v.name, g[k]])), 0.1, (v) => v !== b[1]);
      // Taps from the second step, so that momentum and weight decay are in the sums.
      if (s === 2) {
        taps = tapsFor(a);
        old = tf.clone(a[2]);
      }
      const counted = await countDispatches(device, () => tapped.apply(a, Object.fromEntries(a.map((v, k) => [v.name, g[k]])), 0.1, (v) => v !== a[1], taps));
      kernels.push(counted.dispatches.map((d) => d.kernel));
    }
    expect(kernels[1]).toEqual(['sgd-momentum-x2', 'sgd-momentum-x1']);
    // The same two dispatches, after the copy that un-shares var 2 from its snapshot (`old`).
    expect(kernels[2]).toEqual(['BinaryOpProgram', 'sgd-momentum-taps-x2', 'sgd-momentum-taps-x1']);
    expect([...taps!.written].sort()).toEqual([a[0].name, a[2].name].sort());
    const [pa, pb] = [await tapped.state(), await plain.state()];
    for (let k = 0; k < a.length; k++) {
      expect(differences([await bits(a[k])], [await bits(b[k])]), `weight ${k}`).toEqual([]);
      expect(Array.from(pa[a[k].name].data), `velocity ${k}`).toEqual(Array.from(pb[b[k].name].data));
    }
    // The reduction pass (dpm-reduce.ts) over the same tensors: the same sums, bit for bit here
    // (SwiftShader fuses no multiply-add; a driver that fuses in one shader and not the other
    // would differ in the last bit).
    const reference = rawOutput([100]);
    runReduce(
      [
        { a: a[0], b: a[0], S: 9, IO: 35, out: 0 },
        { a: g[0], b: g[0], S: 9, IO: 35, out: 35 },
        { a: a[2], b: old, S: 64, IO: 10, out: 70 },
        { a: old, b: old, S: 64, IO: 10, out: 80 },
        { a: a[2], b: a[2], S: 64, IO: 10, out: 90 },
      ],
      reference,
    );
    const got = await read(taps!.scratch);
    const want = await read(reference);
    expect(Array.from(got)).toEqual(Array.from(want));
    // And what tfjs's own ops compute (their own summation order: within f32 rounding).
    const ops = tf.tidy(() => {
      const sq = (x: tf.Tensor, y: tf.Tensor, S: number) => tf.sum(tf.mul(x.reshape([S, -1]), y.reshape([S, -1])), 0);
      return tf.concat([sq(a[0], a[0], 9), sq(g[0], g[0], 9), sq(a[2], old!, 64), sq(old!, old!, 64), sq(a[2], a[2], 64)]);
    });
    const o = (await ops.data()) as Float32Array;
    o.forEach((x, i) => expect(Math.abs(got[i] - x), `sum ${i}`).toBeLessThanOrEqual(1e-5 * Math.abs(x) + 1e-30));
    // The sums are real: a non-trivial product in each region.
    for (const at of [0, 35, 70, 80, 90]) expect(Math.abs(got[at])).toBeGreaterThan(0);
    tf.dispose([ops, old!, ...g, ...a, ...b, ...init]);
    for (const info of [taps!.scratch, reference]) tf.engine().makeTensorFromTensorInfo(info).dispose();
    plain.dispose();
    tapped.dispose();
  });

  it('leaves the taps unwritten on the stock path (the hooks then reduce themselves)', () => {
    const init = initialWeights(6);
    const vars = variables(init);
    const g = gradients(0);
    const opt = new SgdMomentum(0.9, 5e-4);
    const taps = tapsFor(vars);
    setFastWebGpu(false);
    try {
      opt.apply(vars, Object.fromEntries(vars.map((v, k) => [v.name, g[k]])), 0.1, () => true, taps);
    } finally {
      setFastWebGpu(true);
    }
    expect(taps.written.size).toBe(0);
    tf.engine().makeTensorFromTensorInfo(taps.scratch).dispose();
    opt.dispose();
    tf.dispose([...vars, ...init, ...g]);
  });
});

describe('workgroupGrid', () => {
  it('folds workgroups past the per-dimension limit into y, covering every element', () => {
    expect(workgroupGrid(1000, 65535)).toEqual([4, 1]);
    expect(workgroupGrid(256 * 70000, 65535)).toEqual([65535, 2]);
    const [x, y] = workgroupGrid(256 * 10 + 1, 4);
    expect(x * y * 256).toBeGreaterThanOrEqual(256 * 10 + 1);
    expect(x).toBeLessThanOrEqual(4);
  });
});
