/**
 * An append-only sequence with persistent (immutable-looking) semantics and O(1) amortised
 * appends. Each value records how many items it owns; consecutive appends share one buffer,
 * so a state's series never copies on the hot path. If an older value is appended to (a
 * branch), its prefix is copied first, so values already handed out never change.
 */
export interface Series<T> {
  readonly buf: T[];
  readonly length: number;
}

export function emptySeries<T>(): Series<T> {
  return { buf: [], length: 0 };
}

function ownedBuffer<T>(s: Series<T>): T[] {
  return s.buf.length === s.length ? s.buf : s.buf.slice(0, s.length);
}

export function append<T>(s: Series<T>, item: T): Series<T> {
  const buf = ownedBuffer(s);
  buf.push(item);
  return { buf, length: s.length + 1 };
}

export function appendAll<T>(s: Series<T>, items: readonly T[]): Series<T> {
  if (items.length === 0) return s;
  const buf = ownedBuffer(s);
  for (const item of items) buf.push(item);
  return { buf, length: s.length + items.length };
}

export function seriesFrom<T>(items: readonly T[]): Series<T> {
  return { buf: items.slice(), length: items.length };
}

/** A fresh array of this value's items (safe to keep: later appends never touch it). */
export function toArray<T>(s: Series<T>): T[] {
  return s.buf.slice(0, s.length);
}

export function at<T>(s: Series<T>, index: number): T | undefined {
  return index >= 0 && index < s.length ? s.buf[index] : undefined;
}

export function last<T>(s: Series<T>): T | undefined {
  return at(s, s.length - 1);
}
