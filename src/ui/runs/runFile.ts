import { gunzipSync, strFromU8 } from 'fflate';
import { z } from 'zod';
import type { EngineEvent, EngineEventType } from '../../engine/events';
import { experimentSchema, type ExperimentConfig } from '../../engine/experiment';
import type { RunRecord, RunStore } from '../../persist/types';

/**
 * A run as a file: config, name, status, summary and the whole event log, as JSON (optionally
 * gzipped). Importing validates the file shape and the config with the experiment schema;
 * the events are checked to be known event objects. Nothing in a file is ever rendered as
 * HTML: the views only draw its numbers and print its strings as text.
 */

export const RUN_FILE_FORMAT = 'dpm-playground-run';
export const RUN_FILE_VERSION = 1;
/** A run file bigger than this is refused before parsing (a long ResNet-56 run stays well below). */
export const MAX_RUN_FILE_BYTES = 256 * 1024 * 1024;

const EVENT_TYPES: readonly EngineEventType[] = [
  'status',
  'backend',
  'model',
  'step',
  'epoch',
  'cost',
  'telemetry',
  'prune',
  'rectify',
  'removed',
  'checkpoint',
  'slim',
  'latency',
  'done',
  'error',
];

const eventSchema = z.looseObject({ type: z.enum(EVENT_TYPES as [EngineEventType, ...EngineEventType[]]) });

const runFileSchema = z.object({
  format: z.literal(RUN_FILE_FORMAT),
  version: z.literal(RUN_FILE_VERSION),
  run: z.object({
    name: z.string().max(200),
    createdAt: z.number().finite(),
    status: z.enum(['running', 'paused', 'done', 'stopped', 'error', 'interrupted']),
    summary: z
      .object({
        testAcc: z.number().optional(),
        flopsFraction: z.number().optional(),
        paramsFraction: z.number().optional(),
        rectifications: z.number().optional(),
        steps: z.number().optional(),
        seconds: z.number().optional(),
        message: z.string().max(2000).optional(),
      })
      .optional(),
    config: z.unknown(),
  }),
  events: z.array(eventSchema),
});

export interface RunFile {
  name: string;
  createdAt: number;
  status: RunRecord['status'];
  summary?: RunRecord['summary'];
  config: ExperimentConfig;
  events: EngineEvent[];
}

export function encodeRunFile(run: RunRecord, events: readonly EngineEvent[]): string {
  return JSON.stringify({
    format: RUN_FILE_FORMAT,
    version: RUN_FILE_VERSION,
    run: { name: run.name, createdAt: run.createdAt, status: run.status, summary: run.summary, config: run.config },
    events,
  });
}

/** Parses and validates a run file's bytes; throws an Error whose message says what is wrong. */
export function decodeRunFile(bytes: Uint8Array): RunFile {
  if (bytes.byteLength > MAX_RUN_FILE_BYTES) throw new Error(`the file is larger than ${MAX_RUN_FILE_BYTES / 1024 / 1024} MB`);
  let text: string;
  try {
    text = bytes[0] === 0x1f && bytes[1] === 0x8b ? strFromU8(gunzipSync(bytes)) : strFromU8(bytes);
  } catch {
    throw new Error('the file is gzip-compressed but damaged');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('not a run file (it is not JSON)');
  }
  const parsed = runFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`not a valid run file: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const config = experimentSchema.safeParse(parsed.data.run.config);
  if (!config.success) {
    const issue = config.error.issues[0];
    throw new Error(`the run's settings are invalid: ${issue.path.join('.')}: ${issue.message}`);
  }
  const { name, createdAt, status, summary } = parsed.data.run;
  // A run that was live when exported cannot be live here.
  const storedStatus = status === 'running' ? 'interrupted' : status;
  return { name, createdAt, status: storedStatus, summary, config: config.data, events: parsed.data.events as EngineEvent[] };
}

export function runFileName(run: RunRecord): string {
  const safe = run.name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'run';
  return `${safe}.dpmrun.json`;
}

export async function exportRunToFile(store: RunStore, runId: string): Promise<{ fileName: string; blob: Blob }> {
  const run = await store.getRun(runId);
  if (!run) throw new Error('the run no longer exists');
  const events = await store.loadEvents(runId);
  return { fileName: runFileName(run), blob: new Blob([encodeRunFile(run, events)], { type: 'application/json' }) };
}

export async function importRunFromFile(store: RunStore, file: File): Promise<RunRecord> {
  if (file.size > MAX_RUN_FILE_BYTES) throw new Error(`the file is larger than ${MAX_RUN_FILE_BYTES / 1024 / 1024} MB`);
  const data = decodeRunFile(new Uint8Array(await file.arrayBuffer()));
  const record = await store.createRun({ name: data.name, config: data.config, status: data.status });
  try {
    if (data.events.length > 0) await store.appendEvents(record.id, data.events);
    return data.summary ? await store.updateRun(record.id, { summary: data.summary }) : record;
  } catch (e) {
    await store.deleteRun(record.id).catch(() => undefined);
    throw e;
  }
}
