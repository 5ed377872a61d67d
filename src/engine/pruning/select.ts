import { countCost } from '../cost';
import type { ModelDef } from '../models/graph';

/**
 * Turning scores into decisions: which channels to prune so that the cost of what stays meets
 * a stage target. Pure CPU code over small arrays (one entry per channel).
 */

export interface PointPlan {
  /** Step of every pruning point, in order. */
  steps: number[];
  /** Kept fraction of the dense cost each point aims at (the last one is config.target). */
  targets: number[];
}

export function pointPlan(totalSteps: number, startAt: number, points: number, every: number, target: number): PointPlan {
  const first = Math.round(startAt * totalSteps);
  const steps: number[] = [];
  const targets: number[] = [];
  for (let i = 1; i <= points; i++) {
    steps.push(first + (i - 1) * every);
    targets.push(1 - ((1 - target) * i) / points);
  }
  return { steps, targets };
}

export interface Candidate {
  family: number;
  channel: number;
  score: number;
}

export interface SelectArgs {
  def: ModelDef;
  /** Per family, per channel: may this channel be chosen now. */
  available: boolean[][];
  /** Per family: channels that stay if nothing more is chosen (not decaying, not removed). */
  staying: number[];
  /** Per family, per channel: importance (lower = pruned first). */
  scores: ArrayLike<number>[];
  minKeep: number[];
  scope: 'global' | 'layer';
  targetKind: 'flops' | 'params';
  /** Kept fraction of the dense cost to reach. */
  target: number;
  /** Round each family's staying count down to a multiple of this where possible (1 = off). */
  align?: number;
}

export function costOf(def: ModelDef, staying: number[], kind: 'flops' | 'params'): number {
  const kept = new Map(def.families.map((f, i) => [f.id, staying[i]]));
  const c = countCost(def, kept);
  return kind === 'flops' ? c.flops : c.params;
}

/**
 * Greedy: walk candidates from least to most important and take each one (unless its family
 * would fall under its minimum) until the staying cost is at or under the target. Global scope
 * ranks all channels together; layer scope ranks by the channel's rank within its own family
 * (as a fraction), so every family loses about the same share.
 */
export function selectToTarget(a: SelectArgs): Candidate[] {
  const dense = costOf(a.def, a.def.families.map((f) => f.channels), a.targetKind);
  const goal = a.target * dense;
  const staying = a.staying.slice();
  if (costOf(a.def, staying, a.targetKind) <= goal) return [];
  const cands: (Candidate & { key: number })[] = [];
  a.available.forEach((avail, f) => {
    const idx: number[] = [];
    avail.forEach((ok, c) => {
      if (ok && Number.isFinite(a.scores[f][c])) idx.push(c);
    });
    idx.sort((x, y) => a.scores[f][x] - a.scores[f][y]);
    idx.forEach((c, r) => {
      const score = a.scores[f][c];
      cands.push({ family: f, channel: c, score, key: a.scope === 'global' ? score : (r + 1) / idx.length });
    });
  });
  cands.sort((x, y) => x.key - y.key || x.score - y.score);
  const chosen: Candidate[] = [];
  for (const c of cands) {
    if (staying[c.family] - 1 < Math.max(1, a.minKeep[c.family])) continue;
    staying[c.family]--;
    chosen.push({ family: c.family, channel: c.channel, score: c.score });
    if (costOf(a.def, staying, a.targetKind) <= goal) break;
  }
  if ((a.align ?? 1) > 1) alignFamilies(a, cands, staying, chosen);
  return chosen;
}

/**
 * Rounds every family the greedy pass touched down to a multiple of `align` by taking its next
 * least important channels. Pruning more only lowers the cost, so the target stays met; a
 * family that would fall under its minimum is left unaligned.
 */
function alignFamilies(a: SelectArgs, ranked: Candidate[], staying: number[], chosen: Candidate[]): void {
  const align = a.align ?? 1;
  const taken = new Set(chosen.map((c) => `${c.family}/${c.channel}`));
  const touched = new Set(chosen.map((c) => c.family));
  for (const f of touched) {
    const extra = staying[f] % align;
    if (extra === 0 || staying[f] - extra < Math.max(1, a.minKeep[f])) continue;
    const more = ranked.filter((c) => c.family === f && !taken.has(`${c.family}/${c.channel}`)).slice(0, extra);
    if (more.length < extra) continue;
    for (const c of more) chosen.push({ family: c.family, channel: c.channel, score: c.score });
    staying[f] -= extra;
  }
}
