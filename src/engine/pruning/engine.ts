import * as tf from '@tensorflow/tfjs';
import { z } from '../zod';
import { countCost } from '../cost';
import type { EngineEvent } from '../events';
import type { PruneConfig } from '../experiment';
import { param, type ChannelFamily, type Model } from '../models/graph';
import { groupL2, scaleFamily, sliceDot, sliceSum, sumOf, trainedMembers, zeroChannels } from './groups';
import { gradOf, type Pruner } from './pruner';
import { pointPlan, selectToTarget, type PointPlan } from './select';
import type { PruningHooks, PruningState } from './types';

const ALIVE = 0;
const DECAYING = 1;
const REMOVED = 2;

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

/** A criterion as a fraction of its threshold (1 = at the threshold). */
function ofThreshold(value: number, threshold: number): number {
  if (threshold > 0) return value / threshold;
  return value > 0 ? 1e6 : 0;
}

/** How close a decaying channel came to release: both criteria must pass their thresholds. */
export function releaseCloseness(cRate: number, cLen: number, tRate: number, tLen: number): number {
  return Math.min(ofThreshold(cRate, tRate), ofThreshold(cLen, tLen));
}

interface Closest {
  family: string;
  channel: number;
  cRate: number;
  cLen: number;
  closeness: number;
}

const stateSchema = z.object({
  decay: z.record(z.string(), z.array(z.number())),
  version: z.literal(1),
  status: z.record(z.string(), z.array(z.number().int().min(0).max(2))),
  selStep: z.record(z.string(), z.array(z.number().int())),
  linit: z.record(z.string(), z.array(z.number())),
  excluded: z.record(z.string(), z.array(z.number().int())),
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
  private readonly status: Uint8Array[];
  private readonly selStep: Int32Array[];
  private readonly linit: Float32Array[];
  /** Released by Self-Rectifying since the last pruning point: not re-selected until the next. */
  private readonly excluded: Uint8Array[];
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

  constructor(
    private readonly model: Model,
    private readonly config: PruneConfig,
    totalSteps: number,
    private readonly pruner: Pruner,
    private readonly emit: (e: EngineEvent) => void,
  ) {
    this.fams = model.def.families;
    this.status = this.fams.map((f) => new Uint8Array(f.channels));
    this.selStep = this.fams.map((f) => new Int32Array(f.channels).fill(-1));
    this.linit = this.fams.map((f) => new Float32Array(f.channels));
    this.excluded = this.fams.map((f) => new Uint8Array(f.channels));
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

  async afterUpdate(step: number, grads: Record<string, tf.Tensor>): Promise<void> {
    this.lastStep = step;
    const due = this.plan.steps.filter((s) => s <= step).length;
    const pointNow = due > this.pointsDone;
    const wantTelemetry = step % this.telemetryEvery === 0;
    // Telemetry rides on the decay step's readback (one GPU sync per step at most), except at
    // a pruning point, where abrupt selections change the weights after that readback.
    const decayed = await this.decayStep(step, grads, wantTelemetry && !pointNow);
    let changed = decayed.changed;
    if (pointNow) {
      this.pointsDone = due;
      this.excluded.forEach((e) => e.fill(0));
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
      this.emit({ type: 'criteria', step, steps: step - this.closestSince + 1, family: c.family, channel: c.channel, cRate: c.cRate, cLen: c.cLen, tRate, tLen, closeness: c.closeness });
    }
    this.closest = null;
    this.closestSince = step + 1;
  }

  extraTrainable(): tf.Variable[] {
    return this.pruner.extraTrainable();
  }

  keptChannels(): Map<string, number> {
    return new Map(this.fams.map((f, i) => [f.id, this.status[i].reduce((a, s) => a + (s === REMOVED ? 0 : 1), 0)]));
  }

  keptIndices(): Map<string, number[]> {
    return new Map(
      this.fams.map((f, i) => {
        const keep: number[] = [];
        this.status[i].forEach((s, c) => {
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
      Array.from(this.status[i], (s, c) => (s === ALIVE ? 1 : s === REMOVED ? 0 : Math.max(0, (this.N - (step - this.selStep[i][c])) / this.N))),
    );
  }

  state(): PruningState {
    const rec = <T>(fn: (i: number) => T): Record<string, T> => Object.fromEntries(this.fams.map((f, i) => [f.id, fn(i)]));
    const decay = this.decayFactors();
    return {
      decay: rec((i) => decay[i]),
      version: 1,
      status: rec((i) => Array.from(this.status[i])),
      selStep: rec((i) => Array.from(this.selStep[i])),
      linit: rec((i) => Array.from(this.linit[i])),
      excluded: rec((i) => Array.from(this.excluded[i])),
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
      this.status[i].set(check(s.status[f.id], 'status'));
      this.selStep[i].set(check(s.selStep[f.id], 'selStep'));
      this.linit[i].set(check(s.linit[f.id], 'linit'));
      this.excluded[i].set(check(s.excluded[f.id], 'excluded'));
    });
    this.pointsDone = s.pointsDone;
    this.rectifications = s.rectifications;
    this.lastStep = s.lastStep;
    this.pruner.restore(s.pruner);
  }

  dispose(): void {
    this.dropSnapshot();
    this.pruner.dispose();
  }

  // --- per step -----------------------------------------------------------------------------

  private takeSnapshot(): void {
    this.dropSnapshot();
    const snap = new Map<string, tf.Tensor>();
    this.fams.forEach((fam, i) => {
      if (!this.status[i].includes(DECAYING)) return;
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

  /**
   * DPM's norm projection for decaying groups, the abrupt masks, Self-Rectifying's release
   * and OTOv2's half-space test; one batched readback when a criterion must reach the CPU.
   * With `withNorms`, the same readback carries every family's group norms after the step
   * (for telemetry). Returns whether any channel changed state, and those norms.
   */
  private async decayStep(step: number, grads: Record<string, tf.Tensor>, withNorms: boolean): Promise<{ changed: boolean; norms: Float32Array | null }> {
    const sr = this.config.schedule === 'sr';
    const eps = this.pruner.halfSpaceEps;
    const snap = this.snapshot;
    const reads: { f: number; t: tf.Tensor1D }[] = [];
    this.fams.forEach((fam, f) => {
      const st = this.status[f];
      if (!st.some((s) => s !== ALIVE)) return;
      const C = fam.channels;
      const alive = new Float32Array(C);
      if (!st.includes(DECAYING)) {
        // Momentum and weight decay would revive removed groups: re-apply the mask every step.
        st.forEach((s, c) => (alive[c] = s === ALIVE ? 1 : 0));
        const m = tf.tensor1d(alive);
        scaleFamily(this.model, fam, m);
        m.dispose();
        return;
      }
      const dec = new Float32Array(C);
      const target = new Float32Array(C);
      const prev = new Float32Array(C);
      const ls = new Float32Array(C).fill(1);
      st.forEach((s, c) => {
        if (s === ALIVE) alive[c] = 1;
        if (s !== DECAYING) return;
        const n = step - this.selStep[f][c];
        const l = this.linit[f][c] / this.N;
        dec[c] = 1;
        ls[c] = l > 0 ? l : 1e-12;
        target[c] = Math.max(0, this.N - n) * l;
        prev[c] = Math.max(0, this.N - n + 1) * l;
      });
      const members = trainedMembers(this.model.def, fam);
      const read = tf.tidy(() => {
        const [tAlive, tDec, tTarget] = [alive, dec, target].map((a) => tf.tensor1d(a));
        const norm = groupL2(members, (p) => param(this.model, p), C);
        const toTarget = tf.div(tTarget, tf.maximum(norm, 1e-30));
        // Tensors exist only for the criteria this schedule uses: each op is a kernel launch.
        let release: tf.Tensor1D | null = null;
        let cRate: tf.Tensor1D | null = null;
        let cLen: tf.Tensor1D | null = null;
        if (sr) {
          const gnorm = groupL2(members, (p) => gradOf(this.model, grads, p), C);
          const aliveCount = Math.max(1, alive.reduce((a, v) => a + v, 0));
          const meanAlive = tf.div(tf.sum(tf.mul(gnorm, tAlive)), aliveCount);
          cRate = tf.div(tf.sub(norm, tf.tensor1d(prev)), tf.tensor1d(ls));
          cLen = tf.div(gnorm, tf.maximum(meanAlive, 1e-30));
          release = tf.mul(tDec, tf.cast(tf.logicalAnd(tf.greater(cRate, this.config.tRate), tf.greater(cLen, this.config.tLen)), 'float32'));
        }
        let cross: tf.Tensor1D | null = null;
        if (eps !== undefined && snap) {
          const dots: tf.Tensor1D[] = [];
          const sqs: tf.Tensor1D[] = [];
          for (const m of trainedMembers(this.model.def, fam, ['out'])) {
            const old = snap.get(m.param);
            if (!old) continue;
            dots.push(sliceDot(param(this.model, m.param), old, m.axis));
            sqs.push(sliceSum(old, m.axis, 2));
          }
          const dot = sumOf(dots, C);
          const sq = sumOf(sqs, C);
          const candidates = release ? tf.mul(tDec, tf.sub(1, release)) : tDec;
          cross = tf.mul(candidates, tf.cast(tf.less(dot, tf.mul(sq, eps)), 'float32'));
        }
        // alive -> 1, removed -> 0, released -> 1, crossed the half-space -> 0, else to target:
        // release + (1 - release) * (1 - cross) * toTarget, with absent terms left out.
        let decScale = toTarget as tf.Tensor1D;
        if (cross) decScale = tf.mul(tf.sub(1, cross), decScale);
        if (release) decScale = tf.add(release, tf.mul(tf.sub(1, release), decScale));
        const scale = tf.add(tAlive, tf.mul(tDec, decScale)) as tf.Tensor1D;
        scaleFamily(this.model, fam, scale);
        if (!sr && !cross) return undefined;
        const zero = tf.zerosLike(norm);
        return tf.concat([cRate ?? zero, cLen ?? zero, release ?? zero, cross ?? zero]) as tf.Tensor1D;
      });
      if (read) reads.push({ f, t: read });
    });
    this.dropSnapshot();
    // After every family is scaled: a conv shared by two families (out channels of one, in
    // channels of the next) changes both groups' norms.
    const after = withNorms ? this.normTensors() : [];

    let data: Float32Array | null = null;
    let norms: Float32Array | null = null;
    if (reads.length || after.length) {
      const parts = [...reads.map((r) => r.t), ...after];
      const all = tf.concat(parts);
      parts.forEach((t) => t.dispose());
      const values = (await all.data()) as Float32Array;
      all.dispose();
      const split = reads.reduce((a, r) => a + r.t.shape[0], 0);
      data = values.subarray(0, split);
      if (withNorms) norms = values.subarray(split);
    }
    const criteria = new Map<number, Float32Array>();
    let off = 0;
    for (const r of reads) {
      const len = 4 * this.fams[r.f].channels;
      criteria.set(r.f, data!.subarray(off, off + len));
      off += len;
    }

    let changed = false;
    let released = 0;
    this.fams.forEach((fam, f) => {
      const st = this.status[f];
      const C = fam.channels;
      const crit = criteria.get(f);
      const gone: number[] = [];
      st.forEach((s, c) => {
        if (s !== DECAYING) return;
        const n = step - this.selStep[f][c];
        if (crit && sr) this.noteCloseness(fam.id, c, crit[c], crit[C + c]);
        if (crit && crit[2 * C + c] > 0.5) {
          st[c] = ALIVE;
          this.excluded[f][c] = 1;
          this.selStep[f][c] = -1;
          this.rectifications++;
          released++;
          this.emit({
            type: 'rectify',
            step,
            family: fam.id,
            channel: c,
            cRate: crit[c],
            cLen: crit[C + c],
            decay: Math.max(0, (this.N - n + 1) / this.N),
          });
        } else if ((crit && crit[3 * C + c] > 0.5) || n >= this.N) {
          st[c] = REMOVED;
          gone.push(c);
        }
      });
      if (gone.length) {
        changed = true;
        this.emit({ type: 'removed', step, family: fam.id, channels: gone });
      }
    });
    if (released > 0) {
      changed = true;
      // Keep the stage target: the pruner picks replacements among the channels still in play.
      const stage = this.pointsDone > 0 ? this.plan.targets[this.pointsDone - 1] : 1;
      await this.select(step, stage, grads, 'sr');
    }
    return { changed, norms };
  }

  private noteCloseness(family: string, channel: number, cRate: number, cLen: number): void {
    const closeness = releaseCloseness(cRate, cLen, this.config.tRate, this.config.tLen);
    if (!Number.isFinite(closeness)) return;
    if (!this.closest || closeness > this.closest.closeness) this.closest = { family, channel, cRate, cLen, closeness };
  }

  /** Scores, selection to the target, and the start of the schedule for the chosen channels. */
  private async select(step: number, target: number, grads: Record<string, tf.Tensor>, schedule: 'abrupt' | 'sp' | 'sr'): Promise<void> {
    const { scores, norms } = await this.readScores(grads);
    const chosen = selectToTarget({
      def: this.model.def,
      available: this.fams.map((_f, i) => Array.from(this.status[i], (s, c) => s === ALIVE && !this.excluded[i][c])),
      staying: this.status.map((st) => st.reduce((a, s) => a + (s === ALIVE ? 1 : 0), 0)),
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
          this.status[f][c] = REMOVED;
          immediate.push(c);
        } else {
          this.status[f][c] = DECAYING;
          this.selStep[f][c] = step;
          this.linit[f][c] = l;
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
    const raw = this.pruner.scoreTensors(grads);
    const norms = this.normTensors();
    const all = tf.concat([...raw, ...norms]);
    const lens = [...raw, ...norms].map((t) => t.shape[0]);
    raw.forEach((t) => t.dispose());
    norms.forEach((t) => t.dispose());
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

  private normTensors(): tf.Tensor1D[] {
    return this.fams.map((fam) => groupL2(trainedMembers(this.model.def, fam), (p) => param(this.model, p), fam.channels));
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
    const norms = this.normTensors();
    const all = tf.concat(norms);
    norms.forEach((t) => t.dispose());
    const data = (await all.data()) as Float32Array;
    all.dispose();
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
