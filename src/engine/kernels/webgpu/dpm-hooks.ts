import * as tf from '@tensorflow/tfjs';
import { param, type Model } from '../../models/graph';
import type { DecayDevice, DecayRequest } from '../../pruning/decay-ops';
import { gradOf } from '../../pruning/pruner';
import { runCriteria, runNorms, stateLayout, type Regions } from './dpm-criteria';
import { runReduce, type ReduceEntry } from './dpm-reduce';
import { runScale, type ScaleTarget } from './dpm-scale';
import { dpmTables, type DpmTables } from './dpm-tables';
import { rawOutput } from './raw';
import type { SgdTaps, UpdateTaps } from './sgd';

/** One Q the step reads: which sum of the fused SGD pass gives it (null: none can). */
interface PlannedQ extends ReduceEntry {
  variable: string;
  tap: 'weight' | 'grad' | 'dot' | 'old' | null;
}

interface StepPlan {
  /** Per family: 0 keep, 1 mask, 2 decay. */
  modes: number[];
  /** Floats of scratch: the Q regions, then the criteria pass's temporaries. */
  size: number;
  regions: Regions;
  entries: PlannedQ[];
}

/**
 * DPM's per-step device work on WebGPU in a handful of dispatches whatever the number of
 * families: (1) Q matrices of the weights, gradients and OTOv2 dot products (per slot viewed as
 * [S, I*O], the sums over S); (2) every family's norms, criteria and scale, one dispatch
 * per level of coupled families (dpm-criteria.ts, dpm-tables.ts); (3) with telemetry, one
 * dispatch for every family's norm after the projection, derived from the Q matrices and the
 * scales; (4) the in-place scaling, 7 tensors per dispatch (dpm-scale.ts). It returns the
 * same pending vector as the tfjs-op path (decay-ops.ts), laid out by decay-state.ts.
 *
 * The Q matrices come from the fused SGD pass when the hooks ask it first (`prepareTaps`,
 * before the update): it holds every updated weight and every gradient in registers anyway
 * and writes their sums into the one scratch vector these passes read (sgd.ts, SgdTaps).
 * Whatever it did not write (another optimizer, stock tfjs kernels, a variable it skipped) the
 * reduction passes compute, up to 7 tensors per dispatch (dpm-reduce.ts). ResNet-56 with SR
 * decaying every family, on a telemetry step: 0 + 4 + 1 + ceil(172 / 7) = 30 dispatches; without the taps
 * ceil(2 * 172 / 7) = 50 more.
 */
export class WebGpuDpmHooks {
  private readonly t: DpmTables;
  private table: tf.Tensor | null = null;

  constructor(private readonly model: Model) {
    this.t = dpmTables(model);
  }

  private tableTensor(): tf.Tensor {
    this.table ??= tf.keep(tf.tensor1d(this.t.table, 'int32'));
    return this.table;
  }

  /**
   * The scratch layout and every Q a step needs, from the request alone, so that the plan made
   * before the update (`prepareTaps`) and the one made after it (`decay`) agree.
   */
  private plan(req: DecayRequest): StepPlan | null {
    const { inputs, layout, sr, halfSpace } = req;
    const t = this.t;
    const model = this.model;
    const modes = inputs.map((i) => (i.mode === 'keep' ? 0 : i.mode === 'mask' ? 1 : 2));
    if (modes.every((m) => m === 0) && layout.length === 0) return null;
    const withNorms = layout.normsOffset !== null;

    let size = t.totalQ;
    const take = (n: number): number => {
      const at = size;
      size += n;
      return at;
    };
    const regions: Regions = { g: sr ? take(t.totalQ) : 0, d: halfSpace ? take(t.totalQ) : 0, p: halfSpace ? take(t.totalQ) : 0, tmp: take(2 * t.totalChannels) };

    // Which slots a decaying family reads, and which of them as an out-member.
    const decaying = new Set<number>();
    const outOfDecaying = new Set<number>();
    t.families.forEach((fam, f) => {
      if (modes[f] !== 2) return;
      for (const m of fam.members) {
        decaying.add(m.slot);
        if (m.isOut) outOfDecaying.add(m.slot);
      }
    });
    const entries: PlannedQ[] = [];
    t.slots.forEach((slot, s) => {
      const v = param(model, slot.param);
      const at = { variable: v.name, S: slot.S, IO: slot.I * slot.O };
      if (withNorms || decaying.has(s)) entries.push({ ...at, tap: 'weight', a: v, b: v, out: slot.q });
      if (halfSpace && outOfDecaying.has(s)) {
        const old = halfSpace.snapshot.get(slot.param) ?? null;
        // Without a snapshot the products read as zero, which no tap computes.
        const tapped = old !== null;
        entries.push({ ...at, tap: tapped ? 'dot' : null, a: old && v, b: old, out: regions.d + slot.q }, { ...at, tap: tapped ? 'old' : null, a: old, b: old, out: regions.p + slot.q });
      }
    });
    if (sr) {
      t.slots.forEach((slot, s) => {
        if (!decaying.has(s)) return;
        const g = gradOf(model, req.grads, slot.param) ?? null;
        entries.push({ variable: param(model, slot.param).name, S: slot.S, IO: slot.I * slot.O, tap: g ? 'grad' : null, a: g, b: g, out: regions.g + slot.q });
      });
    }
    return { modes, size, regions, entries };
  }

  /**
   * Before the update: the scratch vector and the sums for the optimizer to write into it
   * (null when this step needs none). `decay` takes them back through the request's `taps`.
   */
  prepareTaps(req: DecayRequest): UpdateTaps | null {
    const p = this.plan(req);
    if (!p) return null;
    const byVariable = new Map<string, SgdTaps>();
    for (const e of p.entries) {
      if (!e.tap) continue;
      let taps = byVariable.get(e.variable);
      if (!taps) byVariable.set(e.variable, (taps = { S: e.S, weight: -1, grad: -1, dot: -1, old: -1 }));
      taps[e.tap] = e.out;
    }
    return { scratch: rawOutput([p.size]), byVariable, written: new Set() };
  }

  readonly decay: DecayDevice = (req) => {
    const { inputs, layout, sr, halfSpace, taps } = req;
    const p = this.plan(req);
    if (!p) {
      if (taps) releaseTaps(taps);
      return null;
    }
    const t = this.t;
    const model = this.model;
    const { modes, regions: r } = p;
    if (taps && taps.scratch.shape[0] !== p.size) throw new Error(`DPM hooks: taps prepared for ${taps.scratch.shape[0]} floats of scratch, this step needs ${p.size}`);
    const scratch = taps?.scratch ?? rawOutput([p.size]);
    // The optimizer wrote an entry if it updated that variable with that sum asked for there.
    const written = (e: PlannedQ): boolean => e.tap !== null && !!taps?.written.has(e.variable) && taps.byVariable.get(e.variable)?.[e.tap] === e.out;
    runReduce(
      p.entries.filter((e) => !written(e)),
      scratch,
    );

    const sl = stateLayout(t);
    const state = new Float32Array(sl.length);
    const critAt = new Map(layout.blocks.map((b) => [b.family, b.offset]));
    inputs.forEach((inp, f) => {
      state.set([modes[f], sr ? 1 : 0, halfSpace ? 1 : 0, critAt.get(f) ?? -1], 4 * f);
      const cb = t.families[f].chanBase;
      for (let c = 0; c < inp.alive.length; c++) {
        const kind = inp.alive[c] ? 0 : inp.dec[c] ? (inp.judged[c] ? 1 : 3) : 2;
        state.set([kind, inp.target[c], inp.prev[c], inp.linit[c]], sl.chans + 4 * (cb + c));
        // Alive and removed channels' scales are known here; the criteria pass writes the rest.
        state[sl.scales + cb + c] = inp.alive[c];
      }
    });
    const stateT = tf.tensor1d(state);
    const out = rawOutput([Math.max(1, layout.length)]);
    runCriteria(t, (f) => modes[f] === 2, this.tableTensor(), stateT, scratch, out, r, { tRate: sr?.tRate ?? 0, tLen: sr?.tLen ?? 0, eps: halfSpace?.eps ?? 0, lr: sr?.lr ?? 0 });
    // From Q and the scales, before the weights change: no second read of every tensor.
    if (layout.normsOffset !== null) runNorms(t, this.tableTensor(), stateT, scratch, out, layout.normsOffset);

    const targets: ScaleTarget[] = [];
    const scaleOf = (f: number): number => (f >= 0 && modes[f] !== 0 ? sl.scales + t.families[f].chanBase : -1);
    for (const slot of t.slots) {
      const sI = scaleOf(slot.famI);
      const sO = scaleOf(slot.famO);
      if (sI < 0 && sO < 0) continue;
      targets.push({ v: param(model, slot.param), IO: slot.I * slot.O, O: slot.O, sI, sO });
    }
    runScale(targets, stateT);
    stateT.dispose();
    release(scratch);
    const pending = tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor1D;
    if (layout.length > 0) return pending;
    pending.dispose();
    return null;
  };

  /** Every family's group norm, concatenated in family order (as familyNormsWithOps). */
  norms(): tf.Tensor1D {
    const t = this.t;
    const scratch = rawOutput([t.totalQ]);
    runReduce(
      t.slots.map((slot) => {
        const v = param(this.model, slot.param);
        return { a: v, b: v, S: slot.S, IO: slot.I * slot.O, out: slot.q };
      }),
      scratch,
    );
    const out = rawOutput([t.totalChannels]);
    runNorms(t, this.tableTensor(), null, scratch, out, 0);
    release(scratch);
    return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor1D;
  }

  dispose(): void {
    this.table?.dispose();
    this.table = null;
  }
}

/** Frees a raw output once the queued commands that use it have been submitted. */
function release(info: tf.TensorInfo): void {
  tf.engine().makeTensorFromTensorInfo(info).dispose();
}

/** Frees taps that no `decay` will take (the step ran the tfjs-op path after all). */
export function releaseTaps(taps: UpdateTaps): void {
  release(taps.scratch);
}
