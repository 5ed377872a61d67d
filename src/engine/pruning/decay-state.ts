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
}

export function emptyStates(channels: readonly number[]): ChannelStates {
  return {
    status: channels.map((c) => new Uint8Array(c)),
    selStep: channels.map((c) => new Int32Array(c).fill(-1)),
    linit: channels.map((c) => new Float32Array(c)),
    excluded: channels.map((c) => new Uint8Array(c)),
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
  /** The previous projection (N - n + 1) * L_s, against which C_rate measures the update. */
  prev: Float32Array;
  /** L_s = L_init / N (1 where not decaying, so C_rate never divides by zero). */
  ls: Float32Array;
  /** Whether this family's criteria reach the CPU (SR or the half-space test is on). */
  criteria: boolean;
}

export function decayInputs(st: ChannelStates, step: number, N: number, wantCriteria: boolean): FamilyDecayInput[] {
  return st.status.map((status, f) => {
    const C = status.length;
    const alive = new Float32Array(C);
    const dec = new Float32Array(C);
    const target = new Float32Array(C);
    const prev = new Float32Array(C);
    const ls = new Float32Array(C).fill(1);
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
        ls[c] = l > 0 ? l : 1e-12;
        target[c] = Math.max(0, N - n) * l;
        prev[c] = Math.max(0, N - n + 1) * l;
      }
    });
    const mode = decaying ? 'decay' : removed ? 'mask' : 'keep';
    return { mode, alive, dec, target, prev, ls, criteria: decaying && wantCriteria };
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
      if (c4 && o.sr) {
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
  return out;
}
