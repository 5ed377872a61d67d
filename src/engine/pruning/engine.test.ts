import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countCost } from '../cost';
import type { EngineEvent, EventOf } from '../events';
import { pruneConfigSchema, type PruneConfig } from '../experiment';
import { disposeModel, initParams, param, type Model } from '../models';
import { SgdMomentum } from '../train/optimizer';
import { alongAxis, groupL2, slimMaxAbsDiff, slimModel, trainedMembers } from './groups';
import { fakeBatch, harnessStep, microResidualDef } from './harness';
import { releaseCloseness } from './engine';
import { createPruning, finalKeptIndices } from './index';
import type { PruningHooks } from './types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Rig {
  model: Model;
  hooks: PruningHooks;
  events: EngineEvent[];
  opt: SgdMomentum;
  x: tf.Tensor4D;
  y: tf.Tensor2D;
  cfg: PruneConfig;
}

function rig(over: Partial<PruneConfig>, totalSteps = 40, seed = 1): Rig {
  const model = initParams(microResidualDef(), seed);
  const cfg = pruneConfigSchema.parse({ startAt: 0, points: 1, every: 1, decaySteps: 4, target: 0.6, telemetryEvery: 1000, ...over });
  const events: EngineEvent[] = [];
  const hooks = createPruning({ model, config: cfg, totalSteps, emit: (e) => events.push(e) });
  const { x, y } = fakeBatch(model, 2);
  return { model, hooks, events, opt: new SgdMomentum(0.9, 5e-4), x, y, cfg };
}

function done(r: Rig): void {
  r.hooks.dispose();
  r.opt.dispose();
  tf.dispose([r.x, r.y]);
  disposeModel(r.model);
}

const of = <T extends EngineEvent['type']>(events: EngineEvent[], t: T): EventOf<T>[] => events.filter((e): e is EventOf<T> => e.type === t);

async function channelNorms(model: Model): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const fam of model.def.families) {
    const t = groupL2(trainedMembers(model.def, fam), (p) => param(model, p), fam.channels);
    out.set(fam.id, (await t.data()) as Float32Array);
    t.dispose();
  }
  return out;
}

/** Committed cost: channels neither decaying nor removed, from the checkpoint state. */
function committedFlops(r: Rig): number {
  const status = r.hooks.state().status as Record<string, number[]>;
  return countCost(r.model.def, new Map(Object.entries(status).map(([id, s]) => [id, s.filter((v) => v === 0).length]))).flops;
}

/** The largest FLOPs one channel of any family is worth (the tolerance of a greedy target). */
function oneChannelFlops(model: Model): number {
  const dense = countCost(model.def).flops;
  return Math.max(...model.def.families.map((f) => dense - countCost(model.def, new Map([[f.id, f.channels - 1]])).flops));
}

describe.each(['depgraph', 'otov2', 'gate'] as const)('%s', (pruner) => {
  it.each(['abrupt', 'sp', 'sr'] as const)('%s: selected groups reach exactly zero after N steps, stay zero, meet the target and slim equivalently', async (schedule) => {
    const r = rig({ pruner, schedule, tRate: 1000, tLen: 1000 });
    const N = r.cfg.decaySteps;
    for (let s = 0; s <= N + 2; s++) await harnessStep(r.model, r.hooks, r.opt, s, r.x, r.y);
    const prunes = of(r.events, 'prune');
    expect(prunes.length).toBeGreaterThan(0);
    expect(prunes.every((p) => p.step === 0 && p.schedule === schedule)).toBe(true);
    const removed = of(r.events, 'removed');
    const removedCount = removed.reduce((a, e) => a + e.channels.length, 0);
    expect(removedCount).toBe(prunes.reduce((a, e) => a + e.channels.length, 0));
    expect(removed.every((e) => e.step === (schedule === 'abrupt' ? 0 : N))).toBe(true);
    const norms = await channelNorms(r.model);
    for (const e of removed) for (const c of e.channels) expect(norms.get(e.family)![c]).toBe(0);
    // Two steps of momentum and weight decay later, still exactly zero (checked above at N+2).
    const dense = countCost(r.model.def).flops;
    const kept = countCost(r.model.def, r.hooks.keptChannels()).flops;
    expect(kept).toBeLessThanOrEqual(r.cfg.target * dense);
    expect(kept).toBeGreaterThan(r.cfg.target * dense - oneChannelFlops(r.model));
    const slim = slimModel(r.model, finalKeptIndices(r.hooks));
    expect(await slimMaxAbsDiff(r.model, slim, r.x)).toBeLessThan(1e-4);
    expect(countCost(slim.def).flops).toBe(kept);
    disposeModel(slim);
    done(r);
  });
});

describe('smooth pruning', () => {
  it('the group norm falls on (N - n) * L_s', async () => {
    const r = rig({ pruner: 'depgraph', schedule: 'sp', decaySteps: 5, telemetryEvery: 1 });
    for (let s = 0; s <= 5; s++) await harnessStep(r.model, r.hooks, r.opt, s, r.x, r.y);
    const tel = of(r.events, 'telemetry');
    const fams = r.model.def.families;
    const offset = (id: string): number => {
      let o = 0;
      for (const f of fams) {
        if (f.id === id) return o;
        o += f.channels;
      }
      throw new Error(id);
    };
    const p = of(r.events, 'prune')[0];
    for (const c of p.channels) {
      const i = offset(p.family) + c;
      const linit = tel[0].norm[i];
      expect(linit).toBeGreaterThan(0);
      for (let n = 1; n <= 5; n++) {
        expect(tel[n].norm[i]).toBeCloseTo(((5 - n) * linit) / 5, 3);
        expect(tel[n].decay[i]).toBeCloseTo((5 - n) / 5, 6);
      }
    }
    // Untouched channels keep decay 1.
    expect(tel[3].decay.filter((d) => d === 1).length).toBe(tel[3].decay.length - of(r.events, 'prune').reduce((a, e) => a + e.channels.length, 0));
    done(r);
  });
});

describe('telemetry', () => {
  for (const over of [
    { pruner: 'depgraph', schedule: 'abrupt' },
    { pruner: 'depgraph', schedule: 'sp' },
    { pruner: 'otov2', schedule: 'sr', tRate: 0.1, tLen: 0.5 },
    { pruner: 'gate', schedule: 'sr', tRate: 0.1, tLen: 0.5 },
  ] as const) {
    it(`reports the group norms the weights really have after each step (${over.pruner}, ${over.schedule})`, async () => {
      const r = rig({ ...over, points: 2, every: 3, decaySteps: 3, target: 0.5, telemetryEvery: 1 });
      for (let s = 0; s < 12; s++) {
        await harnessStep(r.model, r.hooks, r.opt, s, r.x, r.y);
        const tel = of(r.events, 'telemetry').at(-1)!;
        expect(tel.step).toBe(s);
        const direct = [...(await channelNorms(r.model)).values()].flatMap((a) => Array.from(a));
        expect(tel.norm).toHaveLength(direct.length);
        tel.norm.forEach((v, i) => expect(Math.abs(v - direct[i])).toBeLessThanOrEqual(1e-4 * (1 + direct[i])));
      }
      expect(of(r.events, 'prune').length).toBeGreaterThan(0);
      done(r);
    });
  }
});

describe('self-rectifying', () => {
  it('reports the decaying channel closest to release at the telemetry cadence, with its criteria', async () => {
    const r = rig({ pruner: 'depgraph', schedule: 'sr', decaySteps: 6, tRate: 500, tLen: 1.5, telemetryEvery: 3 });
    for (let s = 0; s < 7; s++) await harnessStep(r.model, r.hooks, r.opt, s, r.x, r.y);
    const crit = of(r.events, 'criteria');
    // Selection at step 0; decaying channels are judged from step 1: windows end at 3 and 6.
    expect(crit.map((e) => [e.step, e.steps])).toEqual([
      [3, 3],
      [6, 3],
    ]);
    for (const e of crit) {
      expect(e.tRate).toBe(500);
      expect(e.tLen).toBe(1.5);
      expect(e.closeness).toBeCloseTo(Math.min(e.cRate / 500, e.cLen / 1.5), 6);
      expect(e.closeness).toBeLessThan(1); // T_rate = 500 is out of reach: nothing was released
      expect(of(r.events, 'prune').some((p) => p.family === e.family && p.channels.includes(e.channel))).toBe(true);
    }
    expect(of(r.events, 'rectify')).toHaveLength(0);
    done(r);
  });

  it('emits no criteria without Self-Rectifying', async () => {
    const r = rig({ pruner: 'depgraph', schedule: 'sp', decaySteps: 6, telemetryEvery: 1 });
    for (let s = 0; s < 4; s++) await harnessStep(r.model, r.hooks, r.opt, s, r.x, r.y);
    expect(of(r.events, 'criteria')).toHaveLength(0);
    done(r);
  });

  /**
   * A point at step 0 (N = 6), then step 1 with a gradient that pushes the first selected
   * channel's weights outwards, hard: the network "wants" it back.
   */
  async function pushedBack(totalSteps: number, over: Partial<PruneConfig> = {}, at = 1) {
    const r = rig({ pruner: 'depgraph', schedule: 'sr', decaySteps: 6, tRate: 0.5, tLen: 1.5, ...over }, totalSteps);
    for (let s = 0; s < at; s++) await harnessStep(r.model, r.hooks, r.opt, s, r.x, r.y);
    const first = of(r.events, 'prune')[0];
    const fam = r.model.def.families.find((f) => f.id === first.family)!;
    const victim = first.channels[0];
    const push = (g: Record<string, tf.Tensor>): Record<string, tf.Tensor> => {
      const out = { ...g };
      const mask = tf.oneHot(tf.tensor1d([victim], 'int32'), fam.channels).reshape([fam.channels]).toFloat() as tf.Tensor1D;
      for (const m of trainedMembers(r.model.def, fam)) {
        const v = param(r.model, m.param);
        out[v.name] = tf.tidy(() => tf.sub(g[v.name], tf.mul(tf.mul(v, alongAxis(mask, v.rank, m.axis)), 50)));
      }
      mask.dispose();
      return out;
    };
    await harnessStep(r.model, r.hooks, r.opt, at, r.x, r.y, 0.05, push);
    return { r, fam, victim };
  }

  it('judges a channel only while it keeps half its norm', async () => {
    // N = 6: at step 4 the channel has reached decay factor (6 - 4 + 1) / 6 = 1/2, at step 5 1/3.
    const half = await pushedBack(40, {}, 4);
    expect(of(half.r.events, 'rectify').map((e) => [e.family, e.channel, e.step])).toContainEqual([half.fam.id, half.victim, 4]);
    done(half.r);
    const past = await pushedBack(40, {}, 5);
    expect(of(past.r.events, 'rectify').filter((e) => e.family === past.fam.id && e.channel === past.victim)).toEqual([]);
    done(past.r);
  });

  it('releases nothing in the last N steps, where a replacement could not finish its decay', async () => {
    // Step 1 + N = 7 is past the last step (6) of a 7-step run; one step longer and it is not.
    const late = await pushedBack(7, { telemetryEvery: 1 });
    expect(of(late.r.events, 'rectify')).toEqual([]);
    expect(of(late.r.events, 'prune').filter((e) => e.step === 1)).toEqual([]);
    // Nor is it reported as close to release: it could not be released.
    expect(of(late.r.events, 'criteria').filter((e) => e.step === 1)).toEqual([]);
    expect((late.r.hooks.state().status as Record<string, number[]>)[late.fam.id][late.victim]).not.toBe(0);
    done(late.r);
    const inTime = await pushedBack(8);
    expect(of(inTime.r.events, 'rectify').map((e) => [e.family, e.channel])).toContainEqual([inTime.fam.id, inTime.victim]);
    done(inTime.r);
  });

  it('releases a group whose gradients resist the decay and selects a replacement that keeps the target', async () => {
    const { r, fam, victim } = await pushedBack(40);
    const rect = of(r.events, 'rectify');
    expect(rect.map((e) => [e.family, e.channel])).toContainEqual([fam.id, victim]);
    const ev = rect.find((e) => e.channel === victim && e.family === fam.id)!;
    // The push is a gradient step pointing straight out of the group, 50 times its size: the
    // norm grows by about one plain gradient step (C_rate ~ 1; momentum, the batch's own
    // gradient and weight decay move it a little).
    expect(ev.cRate).toBeGreaterThan(0.5);
    expect(Math.abs(ev.cRate - 1)).toBeLessThan(0.1);
    expect(ev.cLen).toBeGreaterThan(1.5);
    expect(ev.step).toBe(1);
    expect(releaseCloseness(ev.cRate, ev.cLen, 0.5, 1.5)).toBeGreaterThan(1);
    const replacements = of(r.events, 'prune').filter((e) => e.step === 1);
    expect(replacements.length).toBeGreaterThan(0);
    expect(replacements.every((e) => e.schedule === 'sr')).toBe(true);
    expect(replacements.some((e) => e.family === fam.id && e.channels.includes(victim))).toBe(false);
    const dense = countCost(r.model.def).flops;
    expect(committedFlops(r)).toBeLessThanOrEqual(r.cfg.target * dense);
    // The released group trains on from its magnitude: it is not zero and not decaying.
    const status = (r.hooks.state().status as Record<string, number[]>)[fam.id];
    expect(status[victim]).toBe(0);
    expect((await channelNorms(r.model)).get(fam.id)![victim]).toBeGreaterThan(0);
    done(r);
  });
});

describe('self-rectifying with the default thresholds', () => {
  /** A point at step 15 of a run trained on one fixed batch of 16, N = 20, T_rate / T_len as shipped. */
  async function releases(lr: number): Promise<{ selected: number; released: EventOf<'rectify'>[] }> {
    const r = rig({ pruner: 'depgraph', schedule: 'sr', startAt: 0.25, points: 1, decaySteps: 20, target: 0.5 }, 60);
    tf.dispose([r.x, r.y]);
    Object.assign(r, fakeBatch(r.model, 16, 3));
    for (let s = 0; s < 40; s++) await harnessStep(r.model, r.hooks, r.opt, s, r.x, r.y, lr);
    const selected = of(r.events, 'prune').reduce((a, e) => a + e.channels.length, 0);
    const released = of(r.events, 'rectify');
    done(r);
    return { selected, released };
  }

  // Measured: lr 0.05 releases 3 of 17 selected channels, lr 0.1 5 of 20, 3 of them the same
  // (all within the first half of their decay, as srJudges allows).
  // The old rate, (||x*|| - ||x_k||) / L_s, scaled with lr: a threshold fit for one lr was
  // out of reach or trivially passed at another.
  it('release a few, not all, of the decaying channels, and mostly the same ones at lr and 2 lr', async () => {
    const shipped = pruneConfigSchema.parse({});
    expect([shipped.tRate, shipped.tLen]).toEqual([1, 1.5]);
    const key = (e: EventOf<'rectify'>) => `${e.family}#${e.channel}`;
    const runs = [await releases(0.05), await releases(0.1)];
    for (const { selected, released } of runs) {
      expect(released.length).toBeGreaterThan(0);
      expect(released.length).toBeLessThan(selected / 2);
      for (const e of released) expect(releaseCloseness(e.cRate, e.cLen, shipped.tRate, shipped.tLen)).toBeGreaterThan(1);
    }
    const [a, b] = runs.map((r) => new Set(r.released.map(key)));
    const common = [...a].filter((k) => b.has(k)).length;
    expect(common).toBeGreaterThanOrEqual(Math.min(a.size, b.size) / 2);
  }, 120_000);
});

describe('pruning points', () => {
  it('each point meets its stage target (global and per-layer scope)', async () => {
    for (const scope of ['global', 'layer'] as const) {
      const r = rig({ pruner: 'depgraph', schedule: 'abrupt', points: 3, every: 2, target: 0.4, scope });
      const dense = countCost(r.model.def).flops;
      for (let s = 0; s <= 4; s++) {
        await harnessStep(r.model, r.hooks, r.opt, s, r.x, r.y);
        if (s % 2 === 0) {
          const stage = 1 - ((1 - 0.4) * (s / 2 + 1)) / 3;
          const kept = countCost(r.model.def, r.hooks.keptChannels()).flops;
          expect(kept).toBeLessThanOrEqual(stage * dense + 1e-9);
          expect(kept).toBeGreaterThan(stage * dense - oneChannelFlops(r.model));
        }
      }
      const costs = of(r.events, 'cost');
      expect(costs.at(-1)!.flopsFraction).toBeLessThanOrEqual(0.4);
      for (const k of r.hooks.keptChannels().values()) expect(k).toBeGreaterThanOrEqual(1);
      done(r);
    }
  });
});

describe('sparse learning', () => {
  it('adds reg * 16^((imp_max - imp_c)/(imp_max - imp_min)) * w to every coupled slice', async () => {
    const r = rig({ pruner: 'depgraph', schedule: 'sp', sparse: true, sparseReg: 1e-3 });
    const gammaVar = param(r.model, 'head.bn.gamma');
    const zeros: Record<string, tf.Tensor> = {};
    for (const p of r.model.def.params) if (p.trainable) zeros[param(r.model, p.name).name] = tf.zerosLike(param(r.model, p.name));
    // Independent CPU computation of the head family's group importance.
    const head = r.model.def.families.find((f) => f.id === 'head')!;
    const C = head.channels;
    const imp = new Float64Array(C);
    const members = trainedMembers(r.model.def, head);
    for (const m of members) {
      const t = param(r.model, m.param);
      const vals = await t.data();
      const stride = t.shape.slice(m.axis + 1).reduce((a, b) => a * b, 1);
      for (let i = 0; i < vals.length; i++) imp[Math.floor(i / stride) % t.shape[m.axis]] += vals[i] ** 2;
    }
    const s = Array.from(imp, (v) => Math.sqrt(v / members.length));
    const max = Math.max(...s);
    const min = Math.min(...s);
    const out = r.hooks.beforeUpdate(0, zeros);
    const got = await out[gammaVar.name].data();
    const w = await gammaVar.data();
    for (let c = 0; c < C; c++) expect(got[c]).toBeCloseTo(1e-3 * 16 ** ((max - s[c]) / (max - min)) * w[c], 6);
    tf.dispose(Object.values(out));
    tf.dispose(Object.values(zeros));
    done(r);
  });

  it('leaves gradients alone without sparse learning', () => {
    const r = rig({ pruner: 'depgraph', schedule: 'sp', sparse: false });
    const g = { a: tf.ones([2]) };
    expect(r.hooks.beforeUpdate(0, g)).toBe(g);
    g.a.dispose();
    done(r);
  });
});

describe('gate decorator', () => {
  it('accumulates |g * dL/dg| per family, summing the gates of a residual family', async () => {
    const r = rig({ pruner: 'gate', schedule: 'sp', startAt: 0.5 });
    expect(r.model.def.ops.filter((o) => o.kind === 'gate').length).toBe(r.model.def.families.reduce((a, f) => a + f.bns.length, 0));
    const gates = r.hooks.extraTrainable();
    expect(gates.length).toBeGreaterThan(0);
    gates.forEach((g, i) => g.assign(tf.fill(g.shape, i + 1)));
    for (const k of [2, -3]) {
      const grads: Record<string, tf.Tensor> = Object.fromEntries(gates.map((g) => [g.name, tf.fill(g.shape, k)]));
      r.hooks.beforeUpdate(0, grads);
      tf.dispose(Object.values(grads));
    }
    const scores = r.hooks.state().pruner as { gateScores: number[][] };
    let gi = 0;
    r.model.def.families.forEach((fam, f) => {
      let expected = 0;
      for (let b = 0; b < fam.bns.length; b++) expected += (gi++ + 1) * 5;
      expect(scores.gateScores[f]).toEqual(new Array(fam.channels).fill(expected));
    });
    done(r);
  });

  it('trains its gates and keeps 10% of every family', async () => {
    const r = rig({ pruner: 'gate', schedule: 'abrupt', target: 0.05 });
    const before = await r.hooks.extraTrainable()[0].data();
    await harnessStep(r.model, r.hooks, r.opt, 0, r.x, r.y);
    const after = await r.hooks.extraTrainable()[0].data();
    expect(Array.from(after)).not.toEqual(Array.from(before));
    for (const fam of r.model.def.families) expect(r.hooks.keptChannels().get(fam.id)!).toBeGreaterThanOrEqual(Math.ceil(0.1 * fam.channels));
    done(r);
  });
});

describe('checkpoint state', () => {
  it('round-trips through JSON and resumes the same decay', async () => {
    const r = rig({ pruner: 'gate', schedule: 'sr', decaySteps: 4 });
    for (let s = 0; s <= 1; s++) await harnessStep(r.model, r.hooks, r.opt, s, r.x, r.y);
    const saved = JSON.parse(JSON.stringify(r.hooks.state()));
    const events: EngineEvent[] = [];
    const other = createPruning({ model: r.model, config: r.cfg, totalSteps: 40, emit: (e) => events.push(e) });
    other.restore(saved);
    expect(JSON.parse(JSON.stringify(other.state()))).toEqual(saved);
    expect(saved.decay[of(r.events, 'prune')[0].family].some((d: number) => d > 0 && d < 1)).toBe(true);
    expect(() => other.restore({ ...saved, status: { stem: [0] } })).toThrow();
    other.dispose();
    done(r);
  });
});

describe('memory', () => {
  it('keeps tf.memory().numTensors flat over 50 steps with pruning, SR and telemetry', async () => {
    const r = rig({ pruner: 'otov2', schedule: 'sr', points: 3, every: 8, decaySteps: 4, telemetryEvery: 1, target: 0.5, tRate: 0.1, tLen: 0.5 });
    let at10 = 0;
    for (let s = 0; s < 50; s++) {
      await harnessStep(r.model, r.hooks, r.opt, s, r.x, r.y);
      if (s === 9) at10 = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(at10);
    expect(of(r.events, 'telemetry')).toHaveLength(50);
    done(r);
  });
});
