import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../events';
import { pruneConfigSchema, type PruneConfig } from '../../experiment';
import { disposeModel, initParams, param, type Model, type ModelDef } from '../../models';
import { familyNormsWithOps } from '../../pruning/decay-ops';
import { alongAxis, trainedMembers } from '../../pruning/groups';
import { fakeBatch, harnessStep, microResidualDef } from '../../pruning/harness';
import { resnetCifar } from '../../models/resnet';
import { createPruning } from '../../pruning/index';
import type { PruningHooks } from '../../pruning/types';
import { SgdMomentum } from '../../train/optimizer';
import { requireWebGpu } from './backend-internals';
import { countDispatches } from './dispatch-count';
import { dpmTables } from './dpm-tables';
import { setFastWebGpu } from './install';
import { useWebGpuBackend } from './test-util';

beforeAll(useWebGpuBackend);
afterEach(() => setFastWebGpu(true));

/**
 * The device paths compared: tfjs ops (the stock switch), the batched kernels reducing every
 * weight and gradient themselves, and the same kernels with those sums written by the fused
 * SGD pass (the training loop's path: updateTaps before the update).
 */
type Path = 'ops' | 'reduce' | 'taps';

interface Run {
  events: EngineEvent[];
  weights: Map<string, Float32Array>;
  /** Per step: dispatches of afterUpdate. */
  dispatches: number[];
  /** Per step: the kernels of afterUpdate, and of the rest of the step (gradients, SGD). */
  after: string[][];
  rest: string[][];
  /** Per step: max |telemetry norm - norms recomputed with tfjs ops from the weights|. */
  telemetryError: number[];
  /** tf.memory().numTensors after each step. */
  tensors: number[];
}

const STEPS = 8;

/**
 * At step 1, adds factor * w to the gradient of the first pruned channel's whole group: -50
 * pushes it outwards (SR releases it); +30 at lr 0.05 takes it to about -0.5 w, a smaller
 * group on the far side of OTOv2's half-space (it crosses, and SR does not release it).
 */
function push(model: Model, events: EngineEvent[], factor: number): (g: Record<string, tf.Tensor>) => Record<string, tf.Tensor> {
  const first = events.find((e): e is Extract<EngineEvent, { type: 'prune' }> => e.type === 'prune')!;
  const fam = model.def.families.find((f) => f.id === first.family)!;
  return (g) => {
    const out = { ...g };
    tf.tidy(() => {
      const mask = tf.oneHot(tf.tensor1d([first.channels[0]], 'int32'), fam.channels).reshape([fam.channels]).toFloat() as tf.Tensor1D;
      for (const m of trainedMembers(model.def, fam)) {
        const v = param(model, m.param);
        out[v.name] = tf.keep(tf.add(g[v.name], tf.mul(tf.mul(v, alongAxis(mask, v.rank, m.axis)), factor)));
      }
    });
    return out;
  };
}

async function run(over: Partial<PruneConfig>, pushFactor: number | undefined, path: Path, def: () => ModelDef = () => microResidualDef()): Promise<Run> {
  setFastWebGpu(path !== 'ops');
  const model: Model = initParams(def(), 1);
  const cfg = pruneConfigSchema.parse({ startAt: 0, points: 2, every: 3, decaySteps: 4, target: 0.5, telemetryEvery: 1, ...over });
  const events: EngineEvent[] = [];
  const hooks = createPruning({ model, config: cfg, totalSteps: 40, emit: (e) => events.push(e) });
  const { x, y } = fakeBatch(model, 2);
  const opt = new SgdMomentum(0.9, 5e-4);
  const device = requireWebGpu().device;
  const dispatches: number[] = [];
  const after: string[][] = [];
  const rest: string[][] = [];
  const telemetryError: number[] = [];
  const tensors: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    // afterUpdate counted on its own (a nested count takes its dispatches from the outer one).
    const counted: PruningHooks = {
      ...hooks,
      beforeUpdate: hooks.beforeUpdate.bind(hooks),
      extraTrainable: hooks.extraTrainable.bind(hooks),
      updateTaps: path === 'taps' ? hooks.updateTaps?.bind(hooks) : undefined,
      afterUpdate: async (step: number, g: Record<string, tf.Tensor>, lr: number) => {
        const { dispatches: d } = await countDispatches(device, () => hooks.afterUpdate(step, g, lr));
        dispatches.push(d.length);
        after.push(d.map((r) => r.kernel));
      },
    };
    const edit = s === 1 && pushFactor !== undefined ? push(model, events, pushFactor) : undefined;
    const whole = await countDispatches(device, () => harnessStep(model, counted, opt, s, x, y, 0.05, edit));
    rest.push(whole.dispatches.map((r) => r.kernel));
    const tel = events.filter((e): e is Extract<EngineEvent, { type: 'telemetry' }> => e.type === 'telemetry').at(-1)!;
    expect(tel.step).toBe(s);
    const direct = familyNormsWithOps(model);
    const d = await direct.data();
    direct.dispose();
    telemetryError.push(Math.max(...tel.norm.map((v, i) => Math.abs(v - d[i]) / (1 + d[i]))));
    tensors.push(tf.memory().numTensors);
  }
  const weights = new Map<string, Float32Array>();
  for (const p of model.def.params) weights.set(p.name, (await param(model, p.name).data()) as Float32Array);
  hooks.dispose();
  opt.dispose();
  tf.dispose([x, y]);
  disposeModel(model);
  return { events, weights, dispatches, after, rest, telemetryError, tensors };
}

/** The decisions: which channels were pruned, released and removed, when. */
function decisions(events: EngineEvent[]): unknown[] {
  return events.flatMap((e) => {
    switch (e.type) {
      case 'prune':
        return [[e.type, e.step, e.family, e.channels, e.schedule]];
      case 'rectify':
        return [[e.type, e.step, e.family, e.channel]];
      case 'removed':
        return [[e.type, e.step, e.family, e.channels]];
      default:
        return [];
    }
  });
}

/** SR's criteria as the engine reports them: every release, and the closest channel each step. */
const criteria = (events: EngineEvent[]): [string, number, string, number, number, number][] =>
  events.flatMap((e) => (e.type === 'criteria' || e.type === 'rectify' ? [[e.type, e.step, e.family, e.channel, e.cRate, e.cLen] as [string, number, string, number, number, number]] : []));

const norms = (events: EngineEvent[]): number[][] => events.flatMap((e) => (e.type === 'telemetry' ? [e.norm] : []));

/** The batched path against the tfjs-op path: same decisions, norms and weights within f32 tolerance. */
function expectSameAsOps(fast: Run, stock: Run): void {
  expect(decisions(fast.events)).toEqual(decisions(stock.events));
  // C_rate and C_len (srCriteria) agree: the same channel, the same values (measured: 5e-5
  // relative on C_rate, a difference of two norms, and 3e-7 on C_len).
  const ca = criteria(fast.events);
  const cb = criteria(stock.events);
  expect(ca.map((c) => c.slice(0, 4))).toEqual(cb.map((c) => c.slice(0, 4)));
  ca.forEach((c, i) => {
    expect(Math.abs(c[4] - cb[i][4]), `C_rate ${i}`).toBeLessThanOrEqual(1e-3 * (1 + Math.abs(cb[i][4])));
    expect(Math.abs(c[5] - cb[i][5]), `C_len ${i}`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(cb[i][5])));
  });
  const a = norms(fast.events);
  const b = norms(stock.events);
  expect(a.length).toBe(STEPS);
  a.forEach((row, s) => row.forEach((v, i) => expect(Math.abs(v - b[s][i])).toBeLessThanOrEqual(1e-3 * (1 + Math.abs(b[s][i])))));
  for (const [name, w] of stock.weights) {
    const v = fast.weights.get(name)!;
    let worst = 0;
    w.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - v[i]) / (1 + Math.abs(x)))));
    expect(worst, name).toBeLessThan(1e-3);
    // Removed channels are exactly zero on both paths.
    w.forEach((x, i) => {
      if (x === 0) expect(Math.abs(v[i]), `${name}[${i}]`).toBe(0);
    });
  }
  // Telemetry norms are derived from Q and the scales: they match the weights' real norms.
  expect(Math.max(...fast.telemetryError)).toBeLessThan(1e-4);
  expect(Math.max(...stock.telemetryError)).toBeLessThan(1e-4);
  // No tensor leaks from the raw outputs, the uploaded state or the scratch (after the last point).
  expect(fast.tensors.slice(4)).toEqual(new Array(STEPS - 4).fill(fast.tensors[4]));
}

/**
 * The SGD pass's sums against the reduction passes': the same f32 products added in the same
 * order, so on SwiftShader (which fuses no multiply-add) every event, criterion, norm and
 * weight is bit-for-bit the same. The reduction dispatches are gone from afterUpdate, and the
 * rest of the step keeps its count: the SGD writes the sums in the dispatches it ran anyway.
 */
function expectTapsReplaceTheReduction(taps: Run, reduce: Run): void {
  expect(taps.events).toEqual(reduce.events);
  for (const [name, w] of reduce.weights) expect(Array.from(taps.weights.get(name)!), name).toEqual(Array.from(w));
  const isReduce = (k: string): boolean => k.startsWith('dpm-reduce');
  for (let s = 0; s < STEPS; s++) expect(taps.rest[s].length, `step ${s}`).toBe(reduce.rest[s].length);
  // A pruning point or a release also reads every family's norms for re-selection, after the
  // update: those reductions stay.
  for (const s of quietSteps(taps)) {
    expect(taps.after[s].filter(isReduce), `step ${s}`).toEqual([]);
    expect(taps.after[s], `step ${s}`).toEqual(reduce.after[s].filter((k) => !isReduce(k)));
  }
  expect(taps.rest.flat().filter((k) => k.startsWith('sgd-momentum-taps')).length).toBeGreaterThan(0);
  expect(reduce.rest.flat().filter((k) => k.startsWith('sgd-momentum-taps'))).toEqual([]);
}

/** Steps that need no re-selection (pruning points and releases re-select: more dispatches). */
function quietSteps(r: Run): number[] {
  const busy = r.events.filter((e) => e.type === 'prune' || e.type === 'rectify').map((e) => e.step);
  return Array.from({ length: STEPS }, (_v, s) => s).filter((s) => !busy.includes(s));
}

describe.each([
  // Every family decaying or masked: Q of 13 weights + 13 gradients (4 dispatches, none with
  // the taps), 2 levels of criteria, the telemetry norms, 13 tensors scaled (2): 9, 5.
  { over: { pruner: 'depgraph', schedule: 'sr', tRate: 0.5, tLen: 1.5 }, pushFactor: -50, expects: 'a release', most: 9, mostTaps: 5 },
  // The snapshot products instead of gradients.
  { over: { pruner: 'otov2', schedule: 'sp' }, pushFactor: 30, expects: 'a half-space crossing', most: 9, mostTaps: 5 },
  { over: { pruner: 'otov2', schedule: 'sr', tRate: 0.5, tLen: 1.5 }, pushFactor: 30, expects: 'a half-space crossing', most: 11, mostTaps: 5 },
  // Gate Decorator's pick leaves the stem alone, but SR's replacements reach it by step 5
  // (low thresholds: releases every step), so a quiet step has every family decaying as above.
  { over: { pruner: 'gate', schedule: 'sr', tRate: 0.1, tLen: 0.5 }, pushFactor: undefined, expects: 'replacements', most: 9, mostTaps: 5 },
] as const)('batched DPM hooks on WebGPU ($over.pruner + $over.schedule, $expects)', ({ over, pushFactor, expects, most, mostTaps }) => {
  it('take the same decisions as the tfjs-op path, with the same norms and weights, the SGD pass writing their sums', async () => {
    const stock = await run(over, pushFactor, 'ops');
    const reduce = await run(over, pushFactor, 'reduce');
    const taps = await run(over, pushFactor, 'taps');
    const seen = decisions(stock.events);
    if (expects === 'a release') expect(seen.some((d) => (d as unknown[])[0] === 'rectify')).toBe(true);
    // Removed at step 1, long before n = N = 4.
    if (expects === 'a half-space crossing') expect(seen).toContainEqual(['removed', 1, expect.any(String), expect.any(Array)]);
    expectSameAsOps(reduce, stock);
    expectSameAsOps(taps, stock);
    expectTapsReplaceTheReduction(taps, reduce);
    if (over.schedule === 'sr') expect(criteria(taps.events).length).toBeGreaterThan(0);
    // The hooks' dispatches on a decaying step that needs no re-selection (telemetry every step).
    const steps = quietSteps(taps);
    const model = initParams(microResidualDef(), 1);
    const t = dpmTables(model);
    disposeModel(model);
    // Q of every weight (and gradient, with SR; snapshot products, with OTOv2's test) 7 tensors
    // to a dispatch, one criteria pass per level, one for the telemetry norms, the scaling.
    expect(t.slots.length).toBe(13);
    expect(t.levels.length).toBe(2);
    expect(Math.max(...steps.map((s) => reduce.dispatches[s]))).toBe(most);
    expect(Math.max(...steps.map((s) => taps.dispatches[s]))).toBe(mostTaps);
    // tfjs ops: several launches per member tensor and quantity.
    for (const s of steps) expect(stock.dispatches[s], `step ${s}`).toBeGreaterThan(80);
    // SwiftShader runs 24 training steps here: slow, and slower when the machine is shared.
  }, 600_000);
});

describe('batched DPM hooks on a narrow ResNet (three stages, option-B shortcuts, depgraph + sr)', () => {
  it('agree with the tfjs-op path and, bit for bit, with the reduction passes, with no reduction dispatch', async () => {
    const def = (): ModelDef => resnetCifar('resnet8-narrow', 1, 4);
    const over = { pruner: 'depgraph', schedule: 'sr', tRate: 0.5, tLen: 1.5 } as const;
    const stock = await run(over, undefined, 'ops', def);
    const reduce = await run(over, undefined, 'reduce', def);
    const taps = await run(over, undefined, 'taps', def);
    expectSameAsOps(reduce, stock);
    expectSameAsOps(taps, stock);
    expectTapsReplaceTheReduction(taps, reduce);
    // Without the taps, every member tensor's weights (telemetry every step) were reduced, 7 to
    // a dispatch, and the decaying families' gradients after them.
    const model = initParams(def(), 1);
    const t = dpmTables(model);
    disposeModel(model);
    const steps = quietSteps(taps);
    expect(steps.length).toBeGreaterThan(0);
    for (const s of steps) expect(reduce.dispatches[s] - taps.dispatches[s], `step ${s}`).toBeGreaterThan(Math.ceil(t.slots.length / 7));
  }, 600_000);
});
