import * as tf from '@tensorflow/tfjs';
import { z } from '../zod';
import { countCost } from '../cost';
import type { EngineEvent } from '../events';
import type { PruneConfig } from '../experiment';
import { param, type ChannelFamily, type Model } from '../models/graph';
import { fastWebGpu } from '../kernels/webgpu/install';
import { releaseTaps, WebGpuDpmHooks } from '../kernels/webgpu/dpm-hooks';
import type { UpdateTaps } from '../kernels/webgpu/sgd';
import { decayWithOps, familyNormsWithOps, type DecayDevice, type DecayRequest } from './decay-ops';
import { ALIVE, DECAYING, REMOVED, applyCriteria, criteriaLayout, criteriaView, decayInputs, emptyStates, type ChannelStates, type Closest } from './decay-state';
import { trainedMembers, zeroChannels } from './groups';
import type { Pruner } from './pruner';
import { pointPlan, selectToTarget, type PointPlan } from './select';
import type { PruningHooks, PruningState } from './types';

export { releaseCloseness } from './decay-state';

/** A run's telemetry log stays under this many bytes (about 8 bytes per JSON number). */
export const TELEMETRY_BUDGET_BYTES = 32 * 1024 * 1024;
const BYTES_PER_VALUE = 8;

/**
 * The interval actually used: the configured one, stretched when the run's full per-channel
 * log (2 numbers per channel per event) would exceed TELEMETRY_BUDGET_BYTES.
 */
export function telemetryInterval(configured: number, totalSteps: number, channels: number): number {
  const perEvent = 2 * channels * BYTES_PER_VALUE;
  const bounded = Math.ceil((totalSteps * perEvent) / TELEMETRY_BUDGET_BYTES);
  return Math.max(1, configured, bounded);
}

const round = (x: number): number => (x === 0 ? 0 : Number(x.toPrecision(5)));

const stateSchema = z.object({
  decay: z.record(z.string(), z.array(z.number())),
  version: z.literal(1),
  status: z.record(z.string(), z.array(z.number().int().min(0).max(2))),
  selStep: z.record(z.string(), z.array(z.number().int())),
  linit: z.record(z.string(), z.array(z.number())),
  excluded: z.record(z.string(), z.array(z.number().int())),
  /** Absent in checkpoints from before it existed: SR then falls back to (N - n + 1) * L_s for a step. */
  lastNorm: z.record(z.string(), z.array(z.number())).optional(),
  pointsDone: z.number().int().min(0),
  rectifications: z.number().int().min(0),
  lastStep: z.number().int(),
  pruner: z.record(z.string(), z.unknown()),
});

/**
 * The pruning engine: a pruner's scores, a schedule (abrupt | sp | sr), pruning points that
 * meet staged cost targets, and telemetry. CPU bookkeeping per channel is plain typed arrays;
 * every tensor op works on a whole family at once.
 */
export class PruningEngine implements PruningHooks {
  private readonly fams: ChannelFamily[];
  private readonly st: ChannelStates;
  private readonly plan: PointPlan;
  private readonly N: number;
  private readonly telemetryEvery: number;
  private pointsDone = 0;
  private rectifications = 0;
  private lastStep = -1;
  private snapshot: Map<string, tf.Tensor> | null = null;
  /** SR: the decaying channel closest to release since the last criteria event. */
  private closest: Closest | null = null;
  private closestSince = 0;
  /** The batched WebGPU kernels' tables for this model, built on first use. */
  private gpu: WebGpuDpmHooks | null = null;
  /** The sums asked of this step's update (updateTaps), until afterUpdate hands them on. */
  private taps: { step: number; taps: UpdateTaps } | null = null;

  constructor(
    private readonly model: Model,
    private readonly config: PruneConfig,
    private readonly totalSteps: number,
    private readonly pruner: Pruner,
    private readonly emit: (e: EngineEvent) => void,
  ) {
    this.fams = model.def.families;
    this.st = emptyStates(this.fams.map((f) => f.channels));
    this.plan = pointPlan(totalSteps, config.startAt, config.points, config.every, config.target);
    this.N = Math.max(1, config.decaySteps);
    const channels = this.fams.reduce((a, f) => a + f.channels, 0);
    this.telemetryEvery = telemetryInterval(config.telemetryEvery, totalSteps, channels);
  }

  get pointSteps(): number[] {
    return this.plan.steps.slice();
  }

  get telemetryIntervalSteps(): number {
    return this.telemetryEvery;
  }

  beforeUpdate(step: number, grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    const out = this.pruner.beforeUpdate(step, grads);
    if (this.pruner.halfSpaceEps !== undefined && this.config.schedule !== 'abrupt') this.takeSnapshot();
    return out;
  }

  /** With the batched WebGPU kernels: the Q matrices of this step's decay, from the SGD pass. */
  updateTaps(step: number, grads: Record<string, tf.Tensor>, lr: number): UpdateTaps | null {
    this.dropTaps();
    if (!fastWebGpu()) return null;
    const taps = this.gpuHooks().prepareTaps(this.decayRequest(step, grads, lr, this.due(step).withNorms));
    this.taps = taps && { step, taps };
    return taps;
  }

  /** What afterUpdate does at `step`. */
  private due(step: number): { due: number; pointNow: boolean; wantTelemetry: boolean; withNorms: boolean } {
    const due = this.plan.steps.filter((s) => s <= step).length;
    const pointNow = due > this.pointsDone;
    const wantTelemetry = step % this.telemetryEvery === 0;
    // Telemetry rides on the decay step's readback (one GPU sync per step at most), except at
    // a pruning point, where abrupt selections change the weights after that readback.
    return { due, pointNow, wantTelemetry, withNorms: wantTelemetry && !pointNow };
  }

  async afterUpdate(step: number, grads: Record<string, tf.Tensor>, lr: number): Promise<void> {
    this.lastStep = step;
    const { due, pointNow, wantTelemetry, withNorms } = this.due(step);
    const decayed = await this.decayStep(step, grads, lr, withNorms);
    let changed = decayed.changed;
    if (pointNow) {
      this.pointsDone = due;
      this.st.excluded.forEach((e) => e.fill(0));
      await this.select(step, this.plan.targets[due - 1], grads, this.config.schedule);
      this.pruner.onPoint();
      changed = true;
    }
    if (changed) this.emitCost(step);
    if (wantTelemetry) {
      if (decayed.norms) this.emitTelemetry(step, decayed.norms);
      else await this.telemetry(step);
      this.emitCriteria(step);
    }
  }

  private emitCriteria(step: number): void {
    const c = this.closest;
    if (c) {
      const { tRate, tLen } = this.config;
      this.emit({ type: 'criteria', step, steps: step - this.closestSince + 1, family: this.fams[c.family].id, channel: c.channel, cRate: c.cRate, cLen: c.cLen, tRate, tLen, closeness: c.closeness });
    }
    this.closest = null;
    this.closestSince = step + 1;
  }

  extraTrainable(): tf.Variable[] {
    return this.pruner.extraTrainable();
  }

  keptChannels(): Map<string, number> {
    return new Map(this.fams.map((f, i) => [f.id, this.st.status[i].reduce((a, s) => a + (s === REMOVED ? 0 : 1), 0)]));
  }

  keptIndices(): Map<string, number[]> {
    return new Map(
      this.fams.map((f, i) => {
        const keep: number[] = [];
        this.st.status[i].forEach((s, c) => {
          if (s !== REMOVED) keep.push(c);
        });
        return [f.id, keep];
      }),
    );
  }

  rectificationCount(): number {
    return this.rectifications;
  }

  decayFactors(step = this.lastStep): number[][] {
    return this.fams.map((_f, i) =>
      Array.from(this.st.status[i], (s, c) => (s === ALIVE ? 1 : s === REMOVED ? 0 : Math.max(0, (this.N - (step - this.st.selStep[i][c])) / this.N))),
    );
  }

  state(): PruningState {
    const rec = <T>(fn: (i: number) => T): Record<string, T> => Object.fromEntries(this.fams.map((f, i) => [f.id, fn(i)]));
    const decay = this.decayFactors();
    return {
      decay: rec((i) => decay[i]),
      version: 1,
      status: rec((i) => Array.from(this.st.status[i])),
      selStep: rec((i) => Array.from(this.st.selStep[i])),
      linit: rec((i) => Array.from(this.st.linit[i])),
      excluded: rec((i) => Array.from(this.st.excluded[i])),
      lastNorm: rec((i) => Array.from(this.st.lastNorm[i])),
      pointsDone: this.pointsDone,
      rectifications: this.rectifications,
      lastStep: this.lastStep,
      pruner: this.pruner.state(),
    };
  }

  restore(state: PruningState): void {
    const s = stateSchema.parse(state);
    this.fams.forEach((f, i) => {
      const check = (a: number[] | undefined, what: string): number[] => {
        if (!a || a.length !== f.channels) throw new Error(`pruning state: ${what} of ${f.id} does not match the model`);
        return a;
      };
      this.st.status[i].set(check(s.status[f.id], 'status'));
      this.st.selStep[i].set(check(s.selStep[f.id], 'selStep'));
      this.st.linit[i].set(check(s.linit[f.id], 'linit'));
      this.st.excluded[i].set(check(s.excluded[f.id], 'excluded'));
      this.st.lastNorm[i].set(s.lastNorm ? check(s.lastNorm[f.id], 'lastNorm') : new Array<number>(f.channels).fill(0));
    });
    this.pointsDone = s.pointsDone;
    this.rectifications = s.rectifications;
    this.lastStep = s.lastStep;
    this.pruner.restore(s.pruner);
  }

  dispose(): void {
    this.dropSnapshot();
    this.dropTaps();
    this.gpu?.dispose();
    this.gpu = null;
    this.pruner.dispose();
  }

  // --- per step -----------------------------------------------------------------------------

  private takeSnapshot(): void {
    this.dropSnapshot();
    const snap = new Map<string, tf.Tensor>();
    this.fams.forEach((fam, i) => {
      if (!this.st.status[i].includes(DECAYING)) return;
      for (const m of trainedMembers(this.model.def, fam, ['out'])) {
        if (!snap.has(m.param)) snap.set(m.param, tf.clone(param(this.model, m.param)));
      }
    });
    this.snapshot = snap.size ? snap : null;
  }

  private dropSnapshot(): void {
    this.snapshot?.forEach((t) => t.dispose());
    this.snapshot = null;
  }

  private dropTaps(): void {
    if (this.taps) releaseTaps(this.taps.taps);
    this.taps = null;
  }

  /** The device's job this step; the same before the update (updateTaps) and after it. */
  /** The device work of one decay step; with SR, a decaying group's norm is always read back (the next step's ‖x_k‖). */
  private decayRequest(step: number, grads: Record<string, tf.Tensor>, lr: number, withNorms: boolean): DecayRequest {
    const sr = this.config.schedule === 'sr';
    const eps = this.pruner.halfSpaceEps;
    const halfSpace = eps !== undefined && this.snapshot ? { eps, snapshot: this.snapshot } : null;
    const inputs = decayInputs(this.st, step, this.N, sr || halfSpace !== null, this.totalSteps);
    const srDecaying = sr && inputs.some((i) => i.mode === 'decay');
    const layout = criteriaLayout(inputs, withNorms || srDecaying);
    return { model: this.model, inputs, layout, sr: sr ? { tRate: this.config.tRate, tLen: this.config.tLen, lr } : null, halfSpace, grads };
  }

  /**
   * DPM's norm projection for decaying groups, the abrupt masks, Self-Rectifying's release
   * and OTOv2's half-space test, in three parts: the device computes every family's criteria
   * and scales the weights, returning one pending vector; one readback, only when a criterion
   * or telemetry must reach the CPU; plain CPU transitions over a named view of it. With
   * `withNorms`, the same readback carries every family's group norms after the step (with SR
   * it always does: they are the next step's ||x_k||). Returns whether any channel changed
   * state, and those norms when asked for.
   */
  private async decayStep(step: number, grads: Record<string, tf.Tensor>, lr: number, withNorms: boolean): Promise<{ changed: boolean; norms: Float32Array | null }> {
    const sr = this.config.schedule === 'sr';
    const req = this.decayRequest(step, grads, lr, withNorms);
    const { layout } = req;
    const device = this.device();
    // The taps go with the request to the batched kernels, which free them; else here.
    if (this.taps?.step === step && device !== decayWithOps) req.taps = this.taps.taps;
    else this.dropTaps();
    this.taps = null;
    const pending = device(req);
    this.dropSnapshot();

    const data = pending ? ((await pending.data()) as Float32Array) : null;
    pending?.dispose();
    const crit = criteriaView(layout, data, this.fams.length);

    const t = applyCriteria(this.st, crit, { step, N: this.N, sr, tRate: this.config.tRate, tLen: this.config.tLen, totalSteps: this.totalSteps });
    if (t.closest && (!this.closest || t.closest.closeness > this.closest.closeness)) this.closest = t.closest;
    // Family by family, releases before removals, as the log has always been ordered.
    this.fams.forEach((fam, f) => {
      for (const r of t.rectified.filter((x) => x.family === f)) {
        this.rectifications++;
        this.emit({ type: 'rectify', step, family: fam.id, channel: r.channel, cRate: r.cRate, cLen: r.cLen, decay: r.decay });
      }
      for (const r of t.removed.filter((x) => x.family === f)) this.emit({ type: 'removed', step, family: fam.id, channels: r.channels });
    });
    if (t.rectified.length > 0) {
      // Keep the stage target: the pruner picks replacements among the channels still in play.
      const stage = this.pointsDone > 0 ? this.plan.targets[this.pointsDone - 1] : 1;
      await this.select(step, stage, grads, 'sr');
    }
    return { changed: t.rectified.length > 0 || t.removed.length > 0, norms: withNorms ? crit.norms : null };
  }

  /** The batched WebGPU kernels when they are on, else tfjs ops (CPU, WebGL, stock WebGPU). */
  private device(): DecayDevice {
    return fastWebGpu() ? this.gpuHooks().decay : decayWithOps;
  }

  private gpuHooks(): WebGpuDpmHooks {
    this.gpu ??= new WebGpuDpmHooks(this.model);
    return this.gpu;
  }

  private familyNorms(): tf.Tensor1D {
    return fastWebGpu() ? this.gpuHooks().norms() : familyNormsWithOps(this.model);
  }

  /** Scores, selection to the target, and the start of the schedule for the chosen channels. */
  private async select(step: number, target: number, grads: Record<string, tf.Tensor>, schedule: 'abrupt' | 'sp' | 'sr'): Promise<void> {
    const { scores, norms } = await this.readScores(grads);
    const chosen = selectToTarget({
      def: this.model.def,
      available: this.fams.map((_f, i) => Array.from(this.st.status[i], (s, c) => s === ALIVE && !this.st.excluded[i][c])),
      staying: this.st.status.map((st) => st.reduce((a, s) => a + (s === ALIVE ? 1 : 0), 0)),
      scores,
      minKeep: this.fams.map((f) => this.pruner.minKeep(f)),
      scope: this.config.scope,
      targetKind: this.config.targetKind,
      target,
      align: this.config.align,
    });
    const byFam = new Map<number, { channels: number[]; scores: number[] }>();
    for (const c of chosen) {
      const e = byFam.get(c.family) ?? { channels: [], scores: [] };
      e.channels.push(c.channel);
      e.scores.push(c.score);
      byFam.set(c.family, e);
    }
    for (const [f, e] of byFam) {
      const fam = this.fams[f];
      this.emit({ type: 'prune', step, family: fam.id, channels: e.channels, scores: e.scores, schedule });
      const immediate: number[] = [];
      for (const c of e.channels) {
        const l = norms[f][c];
        if (schedule === 'abrupt' || !(l > 0)) {
          this.st.status[f][c] = REMOVED;
          immediate.push(c);
        } else {
          this.st.status[f][c] = DECAYING;
          this.st.selStep[f][c] = step;
          this.st.linit[f][c] = l;
          this.st.lastNorm[f][c] = l;
        }
      }
      if (immediate.length) {
        zeroChannels(this.model, fam, immediate);
        this.emit({ type: 'removed', step, family: fam.id, channels: immediate });
      }
    }
  }

  /** Pruner scores and group L2 norms of every family, read back in one batch. */
  private async readScores(grads: Record<string, tf.Tensor>): Promise<{ scores: Float32Array[]; norms: Float32Array[] }> {
    const fromNorms = this.pruner.scoresFromNorms?.bind(this.pruner);
    if (fromNorms) {
      const t = this.familyNorms();
      const data = (await t.data()) as Float32Array;
      t.dispose();
      let off = 0;
      const norms = this.fams.map((f) => data.slice(off, (off += f.channels)));
      return { scores: fromNorms(norms), norms };
    }
    const raw = this.pruner.scoreTensors(grads);
    const norms = this.familyNorms();
    const all = tf.concat([...raw, norms]);
    const lens = [...raw.map((t) => t.shape[0]), ...this.fams.map((f) => f.channels)];
    raw.forEach((t) => t.dispose());
    norms.dispose();
    const data = (await all.data()) as Float32Array;
    all.dispose();
    const parts: Float32Array[] = [];
    let off = 0;
    for (const l of lens) {
      parts.push(data.slice(off, off + l));
      off += l;
    }
    return { scores: this.pruner.finalise(parts.slice(0, raw.length)), norms: parts.slice(raw.length) };
  }

  private emitCost(step: number): void {
    const dense = countCost(this.model.def);
    const now = countCost(this.model.def, this.keptChannels());
    this.emit({
      type: 'cost',
      step,
      flopsFraction: now.flops / dense.flops,
      paramsFraction: now.params / dense.params,
      params: now.params,
      flops: now.flops,
    });
  }

  private async telemetry(step: number): Promise<void> {
    const norms = this.familyNorms();
    const data = (await norms.data()) as Float32Array;
    norms.dispose();
    this.emitTelemetry(step, data);
  }

  private emitTelemetry(step: number, norms: Float32Array): void {
    this.emit({ type: 'telemetry', step, decay: this.decayFactors(step).flat().map(round), norm: Array.from(norms, round) });
  }
}

/** Hooks that do nothing: dense training ('none'). */
export function noPruning(model: Model): PruningHooks {
  return {
    beforeUpdate: (_s, g) => g,
    afterUpdate: async () => undefined,
    extraTrainable: () => [],
    state: () => ({ decay: Object.fromEntries(model.def.families.map((f) => [f.id, new Array<number>(f.channels).fill(1)])) }),
    restore: () => undefined,
    keptChannels: () => new Map(model.def.families.map((f) => [f.id, f.channels])),
    keptIndices: () => new Map(model.def.families.map((f) => [f.id, Array.from({ length: f.channels }, (_v, c) => c)])),
    dispose: () => undefined,
  };
}
