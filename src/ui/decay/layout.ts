import type { FamilyLayout } from '../../engine/events';
import type { ChannelRef } from './types';

/**
 * Telemetry arrays list every channel flat, family after family, in the model event's order.
 * This maps between that flat row index and (family, channel).
 */
export class FamilyIndex {
  readonly families: readonly FamilyLayout[];
  /** offsets[i] = first flat row of family i; offsets[families.length] = total channels. */
  readonly offsets: Int32Array;
  readonly total: number;
  private readonly byId = new Map<string, number>();

  constructor(families: readonly FamilyLayout[]) {
    this.families = families;
    this.offsets = new Int32Array(families.length + 1);
    families.forEach((f, i) => {
      if (!Number.isInteger(f.channels) || f.channels < 0) {
        throw new Error(`family ${f.id}: channel count ${f.channels} is not a non-negative integer`);
      }
      this.offsets[i + 1] = this.offsets[i] + f.channels;
      this.byId.set(f.id, i);
    });
    this.total = this.offsets[families.length];
  }

  familyIndex(id: string): number {
    return this.byId.get(id) ?? -1;
  }

  /** Flat row of a channel, or -1 when the family is unknown or the channel out of range. */
  row(ref: ChannelRef): number {
    const fi = this.familyIndex(ref.family);
    if (fi < 0 || ref.channel < 0 || ref.channel >= this.families[fi].channels) return -1;
    return this.offsets[fi] + ref.channel;
  }

  /** Family index holding a flat row (binary search over offsets). */
  familyOfRow(row: number): number {
    if (row < 0 || row >= this.total) return -1;
    let lo = 0;
    let hi = this.families.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    // Skip empty families that share the same offset.
    while (lo < this.families.length - 1 && this.offsets[lo + 1] <= row) lo++;
    return lo;
  }

  refOfRow(row: number): ChannelRef | null {
    const fi = this.familyOfRow(row);
    if (fi < 0) return null;
    return { family: this.families[fi].id, channel: row - this.offsets[fi] };
  }
}
