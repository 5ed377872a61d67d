/**
 * The CPU half of a DPM step, with no tensors: what the device must do for each family this
 * step (`decayInputs`), where each criterion sits in the one vector read back (`CriteriaLayout`,
 * `criteriaView`), and the state machine those criteria drive (`applyCriteria`). The device
 * half (tfjs ops in decay-ops.ts, batched WebGPU kernels in kernels/webgpu/dpm-hooks.ts) sits
 * between `decayInputs` and `criteriaView`; both device paths share everything here.
 */

export const ALIVE = 0;
export const DECAYING = 1;
export const REMOVED = 2;

/** Per family, per channel schedule state. */
export interface ChannelStates {
  /** ALIVE | DECAYING | REMOVED. */
  status: Uint8Array[];
  /** The step a decaying channel was selected at (-1 otherwise). */
  selStep: Int32Array[];
  /** L_init = ||x|| at selection. */
  linit: Float32Array[];
  /** Released by Self-Rectifying since the last pruning point: not re-selected until the next. */
  excluded: Uint8Array[];
  /**
   * A decaying group's norm after the previous step's projection, as read back (L_init at
   * selection; 0 = not known, e.g. after a restore): what C_rate measures the update against.
   * The target (N - n + 1) * L_s is not it: where two families share a tensor, the later
   * family's scale moves the earlier one's norm off its target by as much as a whole update.
   */
  lastNorm: Float32Array[];
}

export function emptyStates(channels: readonly number[]): ChannelStates {
  return {
    status: channels.map((c) => new Uint8Array(c)),
    selStep: channels.map((c) => new Int32Array(c).fill(-1)),
    linit: channels.map((c) => new Float32Array(c)),
    excluded: channels.map((c) => new Uint8Array(c)),
    lastNorm: channels.map((c) => new Float32Array(c)),
  };
}

/**
 * One family's job this step. `keep`: every channel alive, nothing to do. `mask`: no channel
 * decaying: re-apply the removed mask (momentum and weight decay would revive removed groups).
 * `decay`: project decaying channels to `target`, with criteria when `criteria` is set.
 */
export interface FamilyDecayInput {
  mode: 'keep' | 'mask' | 'decay';
  /** Per channel 1/0. */
  alive: Float32Array;
  dec: Float32Array;
  /** L_target = (N - n) * L_s for decaying channels, else 0. */
  target: Float32Array;
  /** ||x_k||, the group's norm before this step's update: `lastNorm`, else (N - n + 1) * L_s; 0 where not decaying. */
  prev: Float32Array;
  /** L_init where decaying, else 0 (so C_len is 0 there). */
  linit: Float32Array;
  /** 1 where Self-Rectifying may release the channel this step (`srJudges`), else 0. */
  judged: Float32Array;
  /** Whether this family's criteria reach the CPU (SR or the half-space test is on). */
  criteria: boolean;
}

/**
 * Whether Self-Rectifying may release a channel at step n of its N-step decay, in a run of
 * `totalSteps` [I]. Only while the channel keeps at least half its norm (decay factor
 * (N - n + 1) / N >= 1/2): later the network has mostly adapted to its absence, and near the
 * end of a decay C_len (divided by the decay factor) is dominated by noise; measured on the SR
 * lesson, releases at factor 0.05 came back as near-zero channels and chained replacements
 * until the run collapsed (docs/dpm-compare.md). And only while a replacement chosen now has
 * its N steps to decay before the run ends, so the run still meets its target.
 */
export function srJudges(n: number, N: number, step: number, totalSteps: number): boolean {
  return 2 * (N - n + 1) >= N && step + N < totalSteps;
}

export function decayInputs(st: ChannelStates, step: number, N: number, wantCriteria: boolean, totalSteps = Infinity): FamilyDecayInput[] {
  return st.status.map((status, f) => {
    const C = status.length;
    const alive = new Float32Array(C);
    const dec = new Float32Array(C);
    const target = new Float32Array(C);
    const prev = new Float32Array(C);
    const linit = new Float32Array(C);
    const judged = new Float32Array(C);
    let decaying = false;
    let removed = false;
    status.forEach((s, c) => {
      if (s === ALIVE) alive[c] = 1;
      else if (s === REMOVED) removed = true;
      else {
        decaying = true;
        const n = step - st.selStep[f][c];
        const l = st.linit[f][c] / N;
        dec[c] = 1;
        linit[c] = st.linit[f][c];
        target[c] = Math.max(0, N - n) * l;
        prev[c] = st.lastNorm[f][c] > 0 ? st.lastNorm[f][c] : Math.max(0, N - n + 1) * l;
        judged[c] = srJudges(n, N, step, totalSteps) ? 1 : 0;
      }
    });
    const mode = decaying ? 'decay' : removed ? 'mask' : 'keep';
    return { mode, alive, dec, target, prev, linit, judged, criteria: decaying && wantCriteria };
  });
}

/**
 * Where everything sits in the one vector a step reads back: a block of 4*C per family whose
 * criteria are read ([C_rate | C_len | release | cross], each C long), then, with telemetry,
 * every family's group norm after the projection, in family order.
 */
export interface CriteriaLayout {
  blocks: { family: number; offset: number; channels: number }[];
  /** Offset of the norms, null without telemetry. */
  normsOffset: number | null;
  length: number;
}

export function criteriaLayout(inputs: readonly FamilyDecayInput[], withNorms: boolean): CriteriaLayout {
  const blocks: CriteriaLayout['blocks'] = [];
  let length = 0;
  inputs.forEach((inp, f) => {
    if (!inp.criteria) return;
    const C = inp.alive.length;
    blocks.push({ family: f, offset: length, channels: C });
    length += 4 * C;
  });
  const normsOffset = withNorms ? length : null;
  if (withNorms) length += inputs.reduce((a, inp) => a + inp.alive.length, 0);
  return { blocks, normsOffset, length };
}

/** One family's criteria, per channel (release and cross are 1/0). */
export interface FamilyCriteria {
  cRate: Float32Array;
  cLen: Float32Array;
  release: Float32Array;
  cross: Float32Array;
}

export interface DecayCriteria {
  /** Per family, null where its criteria were not computed. */
  families: (FamilyCriteria | null)[];
  /** Every family's group norm after the step, in family order (telemetry), else null. */
  norms: Float32Array | null;
}

export function criteriaView(layout: CriteriaLayout, data: Float32Array | null, families: number): DecayCriteria {
  const out: DecayCriteria = { families: new Array<FamilyCriteria | null>(families).fill(null), norms: null };
  if (!data) return out;
  for (const { family, offset: o, channels: C } of layout.blocks) {
    out.families[family] = {
      cRate: data.subarray(o, o + C),
      cLen: data.subarray(o + C, o + 2 * C),
      release: data.subarray(o + 2 * C, o + 3 * C),
      cross: data.subarray(o + 3 * C, o + 4 * C),
    };
  }
  if (layout.normsOffset !== null) out.norms = data.subarray(layout.normsOffset, layout.length);
  return out;
}

/**
 * Self-Rectifying's two criteria for one decaying group, on plain numbers: the definition both
 * device paths (decay-ops.ts, kernels/webgpu/dpm-criteria.ts) compute, op for op.
 *
 * - C_rate = (||x*|| - ||x_k||) / (lr * ||g||): how far the update pushed the norm up against
 *   the decay, in units of one plain gradient step of this group. With plain SGD it is at most
 *   about 1 (the whole step pointing outwards); momentum that keeps pushing outwards takes it
 *   up to 1 / (1 - momentum). lr, N and the group's size cancel out.
 * - C_len = ||g|| / (d * mean_j ||g_j||), d = ||x_k|| / L_init, j over the family's alive
 *   channels: the group's gradient against its peers', at the size it had before the decay
 *   (a group scaled by d has gradients about d times smaller, so without 1/d every group
 *   would look unimportant halfway through its decay).
 *
 * Worked example: lr 0.05, ||g|| 0.4, ||x_k|| 1.0, ||x*|| 1.03, L_init 2, mean 0.5:
 * C_rate = 0.03 / 0.02 = 1.5, C_len = 0.4 / (0.5 * 0.5) = 1.6.
 */
export function srCriteria(x: { norm: number; prev: number; gnorm: number; meanAlive: number; linit: number; lr: number }): { cRate: number; cLen: number } {
  return {
    cRate: (x.norm - x.prev) / Math.max(x.lr * x.gnorm, SR_EPS),
    cLen: (x.gnorm * x.linit) / Math.max(x.meanAlive * x.prev, SR_EPS),
  };
}

/** The floor of both criteria's denominators (a group with no gradient has C_len 0). */
export const SR_EPS = 1e-30;

export interface Rectified {
  family: number;
  channel: number;
  cRate: number;
  cLen: number;
  /** The decay factor the channel had reached. */
  decay: number;
}

export interface Closest {
  family: number;
  channel: number;
  cRate: number;
  cLen: number;
  closeness: number;
}

export interface Transitions {
  rectified: Rectified[];
  /** Per family, channels removed this step (families without removals are absent). */
  removed: { family: number; channels: number[] }[];
  /** SR: the decaying channel closest to release this step (the first of equals). */
  closest: Closest | null;
}

/** A criterion as a fraction of its threshold (1 = at the threshold). */
function ofThreshold(value: number, threshold: number): number {
  if (threshold > 0) return value / threshold;
  return value > 0 ? 1e6 : 0;
}

/** How close a decaying channel came to release: both criteria must pass their thresholds. */
export function releaseCloseness(cRate: number, cLen: number, tRate: number, tLen: number): number {
  return Math.min(ofThreshold(cRate, tRate), ofThreshold(cLen, tLen));
}

export interface TransitionOptions {
  step: number;
  N: number;
  sr: boolean;
  tRate: number;
  tLen: number;
  /** The run's length, for `srJudges` (default: no end). */
  totalSteps?: number;
}

/**
 * The step's state transitions of decaying channels, in place: released by SR -> alive and
 * excluded until the next point; crossed OTOv2's half-space, or at n = N -> removed.
 */
export function applyCriteria(st: ChannelStates, crit: DecayCriteria, o: TransitionOptions): Transitions {
  const out: Transitions = { rectified: [], removed: [], closest: null };
  st.status.forEach((status, f) => {
    const c4 = crit.families[f];
    const gone: number[] = [];
    status.forEach((s, c) => {
      if (s !== DECAYING) return;
      const n = o.step - st.selStep[f][c];
      // The closest to release among the channels SR could release: a channel past the half of
      // its decay passing both thresholds would read as a release that did not happen.
      if (c4 && o.sr && srJudges(n, o.N, o.step, o.totalSteps ?? Infinity)) {
        const closeness = releaseCloseness(c4.cRate[c], c4.cLen[c], o.tRate, o.tLen);
        if (Number.isFinite(closeness) && (!out.closest || closeness > out.closest.closeness)) {
          out.closest = { family: f, channel: c, cRate: c4.cRate[c], cLen: c4.cLen[c], closeness };
        }
      }
      if (c4 && c4.release[c] > 0.5) {
        status[c] = ALIVE;
        st.excluded[f][c] = 1;
        st.selStep[f][c] = -1;
        out.rectified.push({ family: f, channel: c, cRate: c4.cRate[c], cLen: c4.cLen[c], decay: Math.max(0, (o.N - n + 1) / o.N) });
      } else if ((c4 && c4.cross[c] > 0.5) || n >= o.N) {
        status[c] = REMOVED;
        gone.push(c);
      }
    });
    if (gone.length) out.removed.push({ family: f, channels: gone });
  });
  if (crit.norms) recordNorms(st, crit.norms);
  return out;
}

/** Keeps each still-decaying group's norm after this step: the next step's ||x_k||. */
export function recordNorms(st: ChannelStates, norms: Float32Array): void {
  let off = 0;
  st.status.forEach((status, f) => {
    status.forEach((s, c) => {
      st.lastNorm[f][c] = s === DECAYING ? norms[off + c] : 0;
    });
    off += status.length;
  });
}
