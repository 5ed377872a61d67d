import type { Model } from '../../models/graph';
import { trainedMembers } from '../../pruning/groups';

/**
 * The static tables behind the batched DPM kernels. Every trained family member tensor is
 * one slot, viewed as [S, I, O]: its last two axes are the channel axes a family can own (a
 * conv [kh, kw, in, out]: S = kh*kw; a dense [in, out]: S = 1; a vector [C]: S = I = 1).
 * Reducing the squares over S alone gives a slot's Q = [I, O] matrix, from which every
 * family's group norm follows, before the projection (row or column sums) and after it
 * (sums weighted by both axes' squared scales), even where one tensor is shared by two
 * families, without reading the weights again.
 */
export interface Slot {
  param: string;
  S: number;
  I: number;
  O: number;
  /** Offset of the slot's Q in a region of totalQ floats. */
  q: number;
  /** The family owning axis I / O, or -1. */
  famI: number;
  famO: number;
}

export interface MemberRef {
  slot: number;
  /** The family's channel indexes O (else I). */
  ownIsO: boolean;
  isOut: boolean;
}

export interface FamilyRef {
  channels: number;
  /** First global channel index (families in order). */
  chanBase: number;
  members: MemberRef[];
}

export interface DpmTables {
  slots: Slot[];
  families: FamilyRef[];
  /**
   * Families grouped for the criteria passes. Families are projected in family order, each
   * measured after the scales of the earlier families it shares a tensor with; level(f) =
   * 1 + the highest level of those, so one dispatch per level keeps that order (ResNet: 4).
   */
  levels: number[][];
  totalQ: number;
  totalChannels: number;
  /**
   * int32: [C, chanBase, memberStart, memberCount] per family at famBase, 8 per member at
   * memBase, the family of every channel at chanFamBase, each level's families at levelBase.
   */
  table: Int32Array;
  famBase: number;
  memBase: number;
  chanFamBase: number;
  /** Where each level's family list starts in the table. */
  levelBase: number[];
}

/** Member table row: [q, I, O, ownIsO, isOut, otherChanBase (-1: no family), otherFamily (-1), 0]. */
export const MEMBER_STRIDE = 8;

export function dpmTables(model: Model): DpmTables {
  const def = model.def;
  const slots: Slot[] = [];
  const slotOf = new Map<string, number>();
  let totalQ = 0;
  let chanBase = 0;
  const families: FamilyRef[] = def.families.map((fam, f) => {
    const members: MemberRef[] = [];
    for (const m of trainedMembers(def, fam)) {
      const shape = model.vars.get(m.param)?.shape;
      if (!shape) throw new Error(`DPM kernels: no parameter ${m.param}`);
      const r = shape.length;
      const ownIsO = m.axis === r - 1;
      if (!ownIsO && m.axis !== r - 2) throw new Error(`DPM kernels: ${m.param} has its channels on axis ${m.axis} of ${r}; only the last two are supported`);
      let s = slotOf.get(m.param);
      if (s === undefined) {
        const O = shape[r - 1];
        const I = r >= 2 ? shape[r - 2] : 1;
        const S = shape.slice(0, Math.max(0, r - 2)).reduce((a, b) => a * b, 1);
        s = slots.length;
        slots.push({ param: m.param, S, I, O, q: totalQ, famI: -1, famO: -1 });
        slotOf.set(m.param, s);
        totalQ += I * O;
      }
      const slot = slots[s];
      if (ownIsO) slot.famO = f;
      else slot.famI = f;
      members.push({ slot: s, ownIsO, isOut: m.role === 'out' });
    }
    const ref = { channels: fam.channels, chanBase, members };
    chanBase += fam.channels;
    return ref;
  });
  const totalChannels = chanBase;
  const level = families.map(() => 0);
  families.forEach((_fam, f) => {
    for (const slot of slots) {
      const other = slot.famO === f ? slot.famI : slot.famI === f ? slot.famO : -1;
      if (other >= 0 && other < f) level[f] = Math.max(level[f], level[other] + 1);
    }
  });
  const levels: number[][] = [];
  level.forEach((l, f) => (levels[l] ??= []).push(f));
  const memberCount = families.reduce((a, f) => a + f.members.length, 0);
  const famBase = 0;
  const memBase = 4 * families.length;
  const chanFamBase = memBase + MEMBER_STRIDE * memberCount;
  const levelBase: number[] = [];
  let at = chanFamBase + totalChannels;
  for (const l of levels) {
    levelBase.push(at);
    at += l.length;
  }
  const table = new Int32Array(at);
  levels.forEach((l, i) => table.set(l, levelBase[i]));
  let m = 0;
  families.forEach((fam, f) => {
    table.set([fam.channels, fam.chanBase, m, fam.members.length], famBase + 4 * f);
    for (const ref of fam.members) {
      const slot = slots[ref.slot];
      const other = ref.ownIsO ? slot.famI : slot.famO;
      table.set([slot.q, slot.I, slot.O, ref.ownIsO ? 1 : 0, ref.isOut ? 1 : 0, other >= 0 ? families[other].chanBase : -1, other], memBase + MEMBER_STRIDE * m);
      m++;
    }
    table.fill(f, chanFamBase + fam.chanBase, chanFamBase + fam.chanBase + fam.channels);
  });
  return { slots, families, levels, totalQ, totalChannels, table, famBase, memBase, chanFamBase, levelBase };
}
