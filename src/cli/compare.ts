import type { EventOf } from '../engine/events';
import { SCHEDULE_NAMES, type ScheduleName } from '../engine/experiment';
import { UsageError } from './args';

/**
 * `cli compare`: the same config and seed under several schedules, one after another. This
 * module holds the plain parts (parsing the list, the per-schedule line, the table) so the
 * command in main.ts is only the loop.
 */

export type DamageFigures = Omit<EventOf<'damage'>, 'type'>;

export interface CompareRow {
  type: 'compare';
  schedule: ScheduleName;
  testAcc: number;
  flopsFraction: number;
  paramsFraction: number;
  rectifications: number;
  /** One entry per pruning point, in step order. */
  damage: DamageFigures[];
  steps: number;
  seconds: number;
}

export function parseSchedules(list: string | undefined): ScheduleName[] {
  const names = (list ?? SCHEDULE_NAMES.join(',')).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new UsageError(`--schedules: give one or more of ${SCHEDULE_NAMES.join(', ')}, comma separated`);
  for (const n of names) {
    if (!(SCHEDULE_NAMES as readonly string[]).includes(n)) throw new UsageError(`--schedules: "${n}" is not one of ${SCHEDULE_NAMES.join(', ')}`);
  }
  if (new Set(names).size !== names.length) throw new UsageError('--schedules: a schedule is listed twice');
  return names as ScheduleName[];
}

/**
 * Where one schedule's file (export, --record) goes when compare is given one path: the
 * schedule's name before the extension (`slim.onnx` -> `slim-sr.onnx`), so no run overwrites
 * another's file, or in place of `{schedule}` when the path has one (`x.{schedule}.json`).
 */
export function schedulePath(path: string, schedule: ScheduleName): string {
  if (path.includes('{schedule}')) return path.replaceAll('{schedule}', schedule);
  const m = /^(.*?)(\.[A-Za-z0-9]+)?$/.exec(path)!;
  const dir = path.lastIndexOf('/');
  // A dot in a folder name is not an extension.
  if (m[2] && path.lastIndexOf('.') > dir) return `${m[1]}-${schedule}${m[2]}`;
  return `${path}-${schedule}`;
}

export function damageFigures(e: EventOf<'damage'>): DamageFigures {
  const { type: _type, ...rest } = e;
  return rest;
}

const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—');
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** The aggregate damage of a run's points: what the table shows. */
export function damageTotals(damage: DamageFigures[]) {
  const acc = damage.filter((d) => d.accBefore !== null && d.accAfter !== null);
  return {
    points: damage.length,
    maxPeakRise: damage.length ? Math.max(...damage.map((d) => d.peakRise)) : NaN,
    meanPeakRise: mean(damage.map((d) => d.peakRise)),
    /** Longest recovery; Infinity when some point never recovered. */
    maxRecoverySteps: damage.length ? Math.max(...damage.map((d) => d.recoverySteps ?? Infinity)) : NaN,
    meanAccDrop: mean(acc.map((d) => d.accBefore! - d.accAfter!)),
  };
}

/** A fixed-width table, one row per schedule. */
export function compareTable(rows: CompareRow[]): string {
  const head = ['schedule', 'test acc', 'FLOPs kept', 'params kept', 'rectified', 'points', 'max peak rise', 'mean peak rise', 'max recovery', 'mean acc drop'];
  const body = rows.map((r) => {
    const t = damageTotals(r.damage);
    const recovery = Number.isNaN(t.maxRecoverySteps) ? '—' : t.maxRecoverySteps === Infinity ? 'never' : `${t.maxRecoverySteps} steps`;
    return [
      r.schedule,
      pct(r.testAcc),
      pct(r.flopsFraction),
      pct(r.paramsFraction),
      String(r.rectifications),
      String(t.points),
      Number.isFinite(t.maxPeakRise) ? t.maxPeakRise.toFixed(3) : '—',
      Number.isFinite(t.meanPeakRise) ? t.meanPeakRise.toFixed(3) : '—',
      recovery,
      Number.isFinite(t.meanAccDrop) ? `${(t.meanAccDrop * 100).toFixed(1)} pts` : '—',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
