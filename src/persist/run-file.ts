import { z } from '../engine/zod';
import { fileSlug } from '../engine/file-slug';
import type { EngineEvent } from '../engine/events';
import { experimentSchema, type ExperimentConfig } from '../engine/experiment';
import { engineEventSchema } from './event-schema';
import { runSummarySchema } from './records';
import type { RunRecord, RunStatus, RunStore, RunSummary } from './types';

/**
 * A run as one JSON file: its config and full event log, enough to redraw every view
 * elsewhere. JSON has no NaN or Infinity, and a diverged run's metrics hold them, so those
 * numbers are written as {"$nonFinite": "NaN" | "Infinity" | "-Infinity"}.
 */

export const RUN_FILE_FORMAT = 'dpm-playground-run';
export const RUN_FILE_VERSION = 1;
export const MAX_RUN_FILE_BYTES = 200 * 1024 * 1024;

export interface RunFile {
  format: typeof RUN_FILE_FORMAT;
  version: typeof RUN_FILE_VERSION;
  name?: string;
  createdAt?: number;
  config: ExperimentConfig;
  events: EngineEvent[];
  summary?: RunSummary;
}

/** The whole file; import checks it in stages (below) to name the first problem precisely. */
export const runFileSchema = z.object({
  format: z.literal(RUN_FILE_FORMAT),
  version: z.literal(RUN_FILE_VERSION),
  name: z.string().max(200).optional(),
  createdAt: z.number().optional(),
  config: experimentSchema,
  events: z.array(engineEventSchema),
  summary: runSummarySchema.optional(),
});

const NON_FINITE = '$nonFinite';

export function runFileFromRun(run: Pick<RunRecord, 'name' | 'createdAt' | 'config' | 'summary'>, events: EngineEvent[]): RunFile {
  const file: RunFile = {
    format: RUN_FILE_FORMAT,
    version: RUN_FILE_VERSION,
    name: run.name,
    createdAt: run.createdAt,
    config: run.config,
    events,
  };
  if (run.summary) file.summary = run.summary;
  return file;
}

export function serializeRunFile(file: RunFile): string {
  return JSON.stringify(file, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isFinite(value) ? { [NON_FINITE]: String(value) } : value,
  );
}

/** A download-ready file for the run (the caller makes the object URL). */
export function runFileBlob(file: RunFile): Blob {
  return new Blob([serializeRunFile(file)], { type: 'application/json' });
}

export function runFileName(name: string): string {
  return `dpm-run-${fileSlug(name) || 'untitled'}.json`;
}

export type RunFileResult = { ok: true; file: RunFile } | { ok: false; error: string };

function revive(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === NON_FINITE) {
      const v = (value as Record<string, unknown>)[NON_FINITE];
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
    }
  }
  return value;
}

function issueText(issues: z.core.$ZodIssue[]): string {
  const issue = issues[0];
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

async function readText(input: string | Blob | ArrayBuffer, maxBytes: number): Promise<string | { error: string }> {
  const size = typeof input === 'string' ? input.length : input instanceof ArrayBuffer ? input.byteLength : input.size;
  if (size > maxBytes) {
    return { error: `The file is ${(size / 1024 / 1024).toFixed(1)} MB; run files larger than ${Math.round(maxBytes / 1024 / 1024)} MB are not imported.` };
  }
  if (typeof input === 'string') return input;
  try {
    const bytes = input instanceof ArrayBuffer ? input : await input.arrayBuffer();
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    return { error: `The file is not UTF-8 text (${(e as Error).message}).` };
  }
}

/** Reads and checks a run file; never throws. The error names the first thing that is wrong. */
export async function parseRunFile(input: string | Blob | ArrayBuffer, options: { maxBytes?: number } = {}): Promise<RunFileResult> {
  const text = await readText(input, options.maxBytes ?? MAX_RUN_FILE_BYTES);
  if (typeof text !== 'string') return { ok: false, error: text.error };
  let data: unknown;
  try {
    data = text.includes(NON_FINITE) ? JSON.parse(text, revive) : JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `The file is not JSON (${(e as Error).message}).` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, error: `The file is not a DPM Playground run: it holds ${describeType(data)}, not a run.` };
  }
  const top = data as Record<string, unknown>;
  if (top.format !== RUN_FILE_FORMAT) {
    const found = top.format === undefined ? 'it has no format field' : `its format is ${JSON.stringify(top.format).slice(0, 60)}`;
    return { ok: false, error: `The file is not a DPM Playground run (${found}; expected "${RUN_FILE_FORMAT}").` };
  }
  if (top.version !== RUN_FILE_VERSION) {
    const newer = typeof top.version === 'number' && top.version > RUN_FILE_VERSION;
    return {
      ok: false,
      error: newer
        ? `The run file is version ${top.version}, written by a newer DPM Playground; this one reads version ${RUN_FILE_VERSION}.`
        : `The run file's version ${JSON.stringify(top.version)?.slice(0, 20) ?? 'is missing'}; this app reads version ${RUN_FILE_VERSION}.`,
    };
  }
  const config = experimentSchema.safeParse(top.config);
  if (!config.success) return { ok: false, error: `The run's config is invalid: ${issueText(config.error.issues)}.` };
  if (!Array.isArray(top.events)) return { ok: false, error: `The run file's events are ${describeType(top.events)}, not a list.` };
  const events: EngineEvent[] = [];
  for (let i = 0; i < top.events.length; i++) {
    const raw = top.events[i] as { type?: unknown } | null;
    const checked = engineEventSchema.safeParse(raw);
    if (!checked.success) {
      const type = typeof raw?.type === 'string' ? ` (type "${raw.type.slice(0, 40)}")` : '';
      return { ok: false, error: `Event ${i}${type} is invalid: ${issueText(checked.error.issues)}.` };
    }
    events.push(checked.data);
  }
  const rest = runFileSchema.pick({ name: true, createdAt: true, summary: true }).safeParse(top);
  if (!rest.success) return { ok: false, error: `The run file is invalid: ${issueText(rest.error.issues)}.` };
  const file: RunFile = { format: RUN_FILE_FORMAT, version: RUN_FILE_VERSION, config: config.data, events };
  if (rest.data.name !== undefined) file.name = rest.data.name;
  if (rest.data.createdAt !== undefined) file.createdAt = rest.data.createdAt;
  if (rest.data.summary !== undefined) file.summary = rest.data.summary;
  return { ok: true, file };
}

/** How an imported run ended, read from its log. */
export function statusFromEvents(events: readonly EngineEvent[]): RunStatus {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.type === 'done') return 'done';
    if (e.type === 'error' && !e.recoverable) return 'error';
  }
  return 'stopped';
}

/** The run-list summary of a log: the done event's figures, or the latest known ones. */
export function summaryFromEvents(events: readonly EngineEvent[]): RunSummary {
  const summary: RunSummary = {};
  let done: EngineEvent | null = null;
  for (const e of events) {
    if (e.type === 'epoch') summary.testAcc = e.testAcc;
    else if (e.type === 'step') summary.steps = e.step;
    else if (e.type === 'cost') {
      summary.flopsFraction = e.flopsFraction;
      summary.paramsFraction = e.paramsFraction;
    } else if (e.type === 'rectify') summary.rectifications = (summary.rectifications ?? 0) + 1;
    else if (e.type === 'error') summary.message = e.message;
    else if (e.type === 'done') done = e;
  }
  if (done?.type === 'done') {
    // The final figures win over whatever was logged around them.
    const { type: _type, ...figures } = done;
    Object.assign(summary, figures);
  }
  return summary;
}

/** Events per stored chunk when importing: few transactions, none too large. */
const IMPORT_CHUNK = 2_000;

/**
 * Adds an imported run to the store under a new id. If storing fails part way (quota), the
 * partial run is removed again, so an import is all or nothing.
 */
export async function importRun(store: RunStore, file: RunFile): Promise<RunRecord> {
  const run = await store.createRun({ name: file.name ?? 'Imported run', config: file.config, status: 'stopped' });
  try {
    for (let i = 0; i < file.events.length; i += IMPORT_CHUNK) {
      await store.appendEvents(run.id, file.events.slice(i, i + IMPORT_CHUNK));
    }
    return await store.updateRun(run.id, { status: statusFromEvents(file.events), summary: file.summary ?? summaryFromEvents(file.events) });
  } catch (e) {
    await store.deleteRun(run.id).catch(() => undefined);
    throw e;
  }
}
