import * as tf from '@tensorflow/tfjs';
import { FASHION_MNIST_SYSTEM_DIR } from '../src/engine/data/fashion-mnist';
import { epochOrder, makeBatch } from '../src/engine/data/batches';
import { loadFashionMnistPath } from '../src/engine/data/load-path';
import { deriveSeed } from '../src/engine/data/rng';
import { syntheticDataset } from '../src/engine/data/synthetic';
import type { Dataset } from '../src/engine/data/types';
import { pruneConfigSchema, trainConfigSchema } from '../src/engine/experiment';
import { buildModelDef, disposeModel, initParams, param } from '../src/engine/models';
import { createPruning } from '../src/engine/pruning';
import { DECAYING, srCriteria, srJudges } from '../src/engine/pruning/decay-state';
import { groupL2, trainedMembers } from '../src/engine/pruning/groups';
import type { PruningHooks } from '../src/engine/pruning/types';
import { learningRate } from '../src/engine/train/lr-schedule';
import { SgdMomentum } from '../src/engine/train/optimizer';
import { limitSplit, stepsPerEpoch } from '../src/engine/train/run';
import { trainStep } from '../src/engine/train/step';
import type { BenchOptions, FigureInput } from './common';

/**
 * Self-Rectifying's criteria on a real run, for every decaying channel at every step: how
 * many channels pass the shipped thresholds (T_rate, T_len) at least once, against the first
 * hypothesis C_rate = (||x*|| - ||x_k||) / L_s, whose scale followed lr * N / L_init. The run
 * uses thresholds nothing can pass, so no release changes it and every configuration sees the
 * whole decay. ||x_k|| is measured (a copy of the weights before the update), not taken from
 * the engine. The tiny model on Fashion-MNIST when its files are installed (Debian's
 * dataset-fashion-mnist), else on the synthetic set.
 */
interface Setting {
  lr: number;
  N: number;
}

interface Tally {
  decaying: number;
  passing: number;
  /** Of those, passing at a step where SR judges them (srJudges: first half of the decay, not the run's last N steps). */
  judged: number;
  oldMax: number;
}

const SETTINGS: Setting[] = [
  { lr: 0.02, N: 15 },
  { lr: 0.05, N: 15 },
  { lr: 0.1, N: 15 },
  { lr: 0.05, N: 30 },
];

async function tally(ds: Dataset, s: Setting, images: number, batch: number): Promise<Tally> {
  const shipped = pruneConfigSchema.parse({});
  const prune = pruneConfigSchema.parse({ pruner: 'depgraph', schedule: 'sr', target: 0.5, startAt: 0.4, points: 1, decaySteps: s.N, tRate: 1000, tLen: 1000 });
  const train = trainConfigSchema.parse({ model: 'tiny', epochs: 2, batchSize: batch, lr: s.lr, seed: 1 });
  const split = limitSplit(ds.train, images);
  const def = buildModelDef('tiny');
  const model = initParams(def, 1);
  const spe = stepsPerEpoch(split.count, batch);
  const total = spe * train.epochs;
  const hooks = createPruning({ model, config: prune, totalSteps: total, emit: () => undefined });
  const opt = new SgdMomentum(train.momentum, train.weightDecay);
  const passing = new Set<string>();
  const judged = new Set<string>();
  const seen = new Set<string>();
  let oldMax = -Infinity;
  let before = new Map<string, tf.Tensor>();
  const measured: PruningHooks = {
    extraTrainable: () => hooks.extraTrainable(),
    state: () => hooks.state(),
    restore: (st) => hooks.restore(st),
    keptChannels: () => hooks.keptChannels(),
    keptIndices: () => hooks.keptIndices(),
    dispose: () => hooks.dispose(),
    beforeUpdate: (step, grads) => {
      tf.dispose([...before.values()]);
      before = new Map(def.params.filter((p) => p.trainable).map((p) => [p.name, tf.clone(param(model, p.name))]));
      return hooks.beforeUpdate(step, grads);
    },
    afterUpdate: async (step, grads, lr) => {
      const st = hooks.state() as unknown as { status: Record<string, number[]>; selStep: Record<string, number[]>; linit: Record<string, number[]> };
      for (const fam of def.families) {
        const status = st.status[fam.id];
        if (!status.includes(DECAYING)) continue;
        const members = trainedMembers(def, fam);
        const gradOf = (p: string) => grads[model.vars.get(p)!.name];
        const t = tf.tidy(() =>
          tf.stack([groupL2(members, (p) => param(model, p), fam.channels), groupL2(members, (p) => before.get(p), fam.channels), groupL2(members, gradOf, fam.channels)]),
        );
        const [xs, xk, g] = (await t.array()) as number[][];
        t.dispose();
        const alive = status.flatMap((v, c) => (v === 0 ? [g[c]] : []));
        const meanAlive = alive.reduce((a, v) => a + v, 0) / Math.max(1, alive.length);
        status.forEach((v, c) => {
          if (v !== DECAYING) return;
          const key = `${fam.id}#${c}`;
          const linit = st.linit[fam.id][c];
          const n = step - st.selStep[fam.id][c];
          const c2 = srCriteria({ norm: xs[c], prev: xk[c], gnorm: g[c], meanAlive, linit, lr });
          // The first hypothesis, against the target norm as it was computed then.
          oldMax = Math.max(oldMax, (xs[c] - Math.max(0, s.N - n + 1) * (linit / s.N)) / (linit / s.N));
          seen.add(key);
          if (c2.cRate > shipped.tRate && c2.cLen > shipped.tLen) {
            passing.add(key);
            if (srJudges(n, s.N, step, total)) judged.add(key);
          }
        });
      }
      await hooks.afterUpdate(step, grads, lr);
    },
  };
  for (let step = 0; step < total; step++) {
    const inEpoch = step % spe;
    const order = epochOrder(split.count, deriveSeed(train.seed, 1000 + Math.floor(step / spe)));
    const { x, y } = makeBatch(split, order.subarray(inEpoch * batch, (inEpoch + 1) * batch), { augment: false });
    const out = await trainStep({ model, optimizer: opt, hooks: measured }, x, y, learningRate(train, step, total), step);
    tf.dispose([x, y, out.loss, out.correct]);
  }
  tf.dispose([...before.values()]);
  hooks.dispose();
  opt.dispose();
  disposeModel(model);
  return { decaying: seen.size, passing: passing.size, judged: judged.size, oldMax };
}

async function dataset(quick: boolean): Promise<{ ds: Dataset; name: string }> {
  if (!quick) {
    try {
      return { ds: (await loadFashionMnistPath(FASHION_MNIST_SYSTEM_DIR)).dataset, name: 'Fashion-MNIST' };
    } catch {
      // Not installed: the synthetic set below.
    }
  }
  return { ds: syntheticDataset({ seed: 1, trainSize: 768, testSize: 100 }), name: 'synthetic' };
}

export async function run(opts: BenchOptions): Promise<FigureInput[]> {
  const { ds, name } = await dataset(opts.quick);
  const settings = opts.quick ? SETTINGS.slice(1, 2) : SETTINGS;
  const images = opts.quick ? 128 : 768;
  const batch = opts.batch ?? 16;
  const out: FigureInput[] = [];
  for (const s of settings) {
    const t = await tally(ds, s, images, batch);
    const variant = `lr ${s.lr}, N ${s.N}`;
    const note = `${name}, ${images} images, batch ${batch}, 2 epochs, one point at 40 % to 50 % FLOPs, seed 1`;
    out.push({ figure: 'channels passing the default SR thresholds', value: t.passing, unit: `of ${t.decaying} decaying`, model: 'tiny', batch, variant, note });
    out.push({ figure: 'channels passing them where SR judges', value: t.judged, unit: `of ${t.decaying} decaying`, model: 'tiny', batch, variant, note });
    out.push({ figure: 'largest old C_rate (regrowth / L_s)', value: t.oldMax, unit: 'decay steps', model: 'tiny', batch, variant, note });
  }
  return out;
}
