import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../events';
import { pruneConfigSchema, type PruneConfig } from '../../experiment';
import { disposeModel, initParams, param, type Model } from '../../models';
import { familyNormsWithOps } from '../../pruning/decay-ops';
import { fakeBatch, harnessStep, microResidualDef } from '../../pruning/harness';
import { createPruning } from '../../pruning/index';
import { SgdMomentum } from '../../train/optimizer';
import { requireWebGpu } from './backend-internals';
import { countDispatches } from './dispatch-count';
import { dpmTables } from './dpm-tables';
import { setFastWebGpu } from './install';
import { useWebGpuBackend } from './test-util';

beforeAll(useWebGpuBackend);
afterEach(() => setFastWebGpu(true));

interface Run {
  events: EngineEvent[];
  weights: Map<string, Float32Array>;
  /** Per step: dispatches of afterUpdate. */
  dispatches: number[];
  /** Per step: max |telemetry norm - norms recomputed with tfjs ops from the weights|. */
  telemetryError: number[];
}

const STEPS = 8;

async function run(over: Partial<PruneConfig>, fast: boolean): Promise<Run> {
  setFastWebGpu(fast);
  const model: Model = initParams(microResidualDef(), 1);
  const cfg = pruneConfigSchema.parse({ startAt: 0, points: 2, every: 3, decaySteps: 4, target: 0.5, telemetryEvery: 1, ...over });
  const events: EngineEvent[] = [];
  const hooks = createPruning({ model, config: cfg, totalSteps: 40, emit: (e) => events.push(e) });
  const { x, y } = fakeBatch(model, 2);
  const opt = new SgdMomentum(0.9, 5e-4);
  const device = requireWebGpu().device;
  const dispatches: number[] = [];
  const telemetryError: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    // Count only afterUpdate: wrap the hooks so the harness's own step is left out.
    const counted = {
      ...hooks,
      beforeUpdate: hooks.beforeUpdate.bind(hooks),
      extraTrainable: hooks.extraTrainable.bind(hooks),
      afterUpdate: async (step: number, g: Record<string, tf.Tensor>) => {
        const { dispatches: d } = await countDispatches(device, () => hooks.afterUpdate(step, g));
        dispatches.push(d.length);
      },
    };
    await harnessStep(model, counted, opt, s, x, y);
    const tel = events.filter((e): e is Extract<EngineEvent, { type: 'telemetry' }> => e.type === 'telemetry').at(-1)!;
    expect(tel.step).toBe(s);
    const direct = familyNormsWithOps(model);
    const d = await direct.data();
    direct.dispose();
    telemetryError.push(Math.max(...tel.norm.map((v, i) => Math.abs(v - d[i]) / (1 + d[i]))));
  }
  const weights = new Map<string, Float32Array>();
  for (const p of model.def.params) weights.set(p.name, (await param(model, p.name).data()) as Float32Array);
  hooks.dispose();
  opt.dispose();
  tf.dispose([x, y]);
  disposeModel(model);
  return { events, weights, dispatches, telemetryError };
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

const norms = (events: EngineEvent[]): number[][] => events.flatMap((e) => (e.type === 'telemetry' ? [e.norm] : []));

describe.each([
  { pruner: 'depgraph', schedule: 'sr', tRate: 0.1, tLen: 0.5 },
  { pruner: 'otov2', schedule: 'sp' },
  { pruner: 'otov2', schedule: 'sr', tRate: 0.1, tLen: 0.5 },
  { pruner: 'gate', schedule: 'sr', tRate: 0.1, tLen: 0.5 },
] as const)('batched DPM hooks on WebGPU ($pruner + $schedule)', (over) => {
  it('take the same decisions as the tfjs-op path, with the same norms and weights', async () => {
    const stock = await run(over, false);
    const fast = await run(over, true);
    expect(decisions(stock.events).length).toBeGreaterThan(0);
    expect(decisions(fast.events)).toEqual(decisions(stock.events));
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
    // The hooks' dispatches on a decaying step that needs no re-selection.
    const quiet = fast.events.filter((e) => e.type === 'prune').map((e) => e.step);
    const steps = Array.from({ length: STEPS }, (_v, s) => s).filter((s) => !quiet.includes(s));
    const model = initParams(microResidualDef(), 1);
    const t = dpmTables(model);
    disposeModel(model);
    // Q of every weight (and gradient, with SR; snapshot products, with OTOv2's test) 7 tensors
    // to a dispatch, one criteria pass per level, one for the telemetry norms, the scaling.
    expect(t.slots.length).toBe(13);
    expect(t.levels.length).toBe(2);
    console.log(over, 'fast', fast.dispatches, 'stock', stock.dispatches);
    for (const s of steps) expect(fast.dispatches[s], `step ${s}`).toBeLessThanOrEqual(15);
    expect(Math.max(...steps.map((s) => stock.dispatches[s]))).toBeGreaterThan(40);
  });
});
