import { z } from '../engine/zod';
import type { EngineEvent } from '../engine/events';
import { defaultExperiment, experimentSchema } from '../engine/experiment';
import {
  RUN_STATUSES,
  RunStoreError,
  type CheckpointInput,
  type CheckpointRecord,
  type ModelFiles,
  type NewRun,
  type RunPatch,
  type RunRecord,
  type TensorRecord,
} from './types';

/** Checks and conversions shared by both store implementations. */

// A diverged run's figures are NaN; the summary must still be storable.
const figure = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' });

export const runSummarySchema = z.object({
  testAcc: figure.optional(),
  flopsFraction: figure.optional(),
  paramsFraction: figure.optional(),
  rectifications: figure.optional(),
  steps: figure.optional(),
  seconds: figure.optional(),
  message: z.string().optional(),
});

const runRecordSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  // Records from older builds lack newer config fields; the schema fills in their defaults.
  config: experimentSchema,
  status: z.enum(RUN_STATUSES),
  summary: runSummarySchema.optional(),
  eventCount: z.number().int().min(0),
  chunkCount: z.number().int().min(0),
  checkpoint: z.object({ step: z.number(), epoch: z.number(), savedAt: z.number() }).optional(),
  hasModel: z.boolean(),
});

const MAX_ID_LENGTH = 200;

export function newRunId(): string {
  // getRandomValues exists in insecure contexts too, unlike randomUUID.
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `run-${Date.now().toString(36)}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new RunStoreError('invalid', `a run id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  return id;
}

export function makeRunRecord(input: NewRun, now: number): RunRecord {
  const config = experimentSchema.safeParse(input.config);
  if (!config.success) throw new RunStoreError('invalid', `the run's config is invalid: ${config.error.issues[0].message}`);
  return {
    id: checkId(input.id ?? newRunId()),
    name: String(input.name),
    createdAt: now,
    updatedAt: now,
    config: config.data,
    status: input.status ?? 'running',
    eventCount: 0,
    chunkCount: 0,
    hasModel: false,
  };
}

export function applyPatch(run: RunRecord, patch: RunPatch, now: number): RunRecord {
  const next: RunRecord = { ...run, updatedAt: Math.max(now, run.updatedAt) };
  if (patch.name !== undefined) next.name = String(patch.name);
  if (patch.status !== undefined) {
    if (!RUN_STATUSES.includes(patch.status)) throw new RunStoreError('invalid', `unknown run status '${String(patch.status)}'`);
    next.status = patch.status;
  }
  if (patch.summary !== undefined) {
    const s = runSummarySchema.safeParse(patch.summary);
    if (!s.success) throw new RunStoreError('invalid', `the run summary is invalid: ${s.error.issues[0].message}`);
    next.summary = s.data;
  }
  if (patch.config !== undefined) {
    const c = experimentSchema.safeParse(patch.config);
    if (!c.success) throw new RunStoreError('invalid', `the run's config is invalid: ${c.error.issues[0].message}`);
    next.config = c.data;
  }
  return next;
}

export function checkRunRecord(raw: unknown): { ok: true; run: RunRecord } | { ok: false; problem: string } {
  const parsed = runRecordSchema.safeParse(raw);
  if (parsed.success) return { ok: true, run: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, problem: `${issue.path.join('.') || 'record'}: ${issue.message}` };
}

/** A stored record, checked; a damaged one becomes a visible 'error' run that can be deleted. */
export function readRunRecord(raw: unknown, key: string): RunRecord {
  const checked = checkRunRecord(raw);
  if (checked.ok) return checked.run;
  return {
    id: key,
    name: 'Damaged run',
    createdAt: 0,
    updatedAt: 0,
    config: defaultExperiment(),
    status: 'error',
    summary: { message: `This saved run is damaged (${checked.problem}); delete it.` },
    eventCount: 0,
    chunkCount: 0,
    hasModel: false,
  };
}

export function byNewest(a: RunRecord, b: RunRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function checkTensors(where: string, tensors: Record<string, TensorRecord>): Record<string, TensorRecord> {
  if (typeof tensors !== 'object' || tensors === null) throw new RunStoreError('invalid', `checkpoint ${where} must be an object`);
  const out: Record<string, TensorRecord> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) {
      throw new RunStoreError('invalid', `checkpoint ${where} '${name}' must be {shape: number[], data: Float32Array}`);
    }
    const size = t.shape.reduce((a, d) => a * d, 1);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || size !== t.data.length) {
      throw new RunStoreError('invalid', `checkpoint ${where} '${name}' has shape [${t.shape}] but ${t.data.length} values`);
    }
    // A view into a larger buffer would store the whole buffer; keep exactly its own bytes.
    const whole = t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength;
    out[name] = { shape: [...t.shape], data: whole ? t.data : t.data.slice() };
  }
  return out;
}

export function makeCheckpoint(cp: CheckpointInput, now: number): CheckpointRecord {
  if (!Number.isFinite(cp.step) || !Number.isFinite(cp.epoch)) {
    throw new RunStoreError('invalid', 'a checkpoint needs a finite step and epoch');
  }
  const record: CheckpointRecord = {
    step: cp.step,
    epoch: cp.epoch,
    savedAt: cp.savedAt ?? now,
    weights: checkTensors('weight', cp.weights),
    optimizer: checkTensors('optimizer slot', cp.optimizer),
    pruning: cp.pruning,
    rng: cp.rng,
  };
  if (cp.extra !== undefined) record.extra = cp.extra;
  return record;
}

/** Checks a checkpoint read back from storage before the engine writes it into variables. */
export function readCheckpoint(raw: unknown, runId: string): CheckpointRecord {
  try {
    const r = raw as CheckpointRecord;
    const cp = makeCheckpoint(r, r.savedAt);
    if (typeof r.savedAt !== 'number') throw new RunStoreError('corrupt', 'no savedAt');
    return cp;
  } catch (e) {
    throw new RunStoreError('corrupt', `the checkpoint of run ${runId} is damaged: ${(e as Error).message}`, { cause: e });
  }
}

export function checkModel(model: ModelFiles): ModelFiles {
  if (typeof model?.modelJson !== 'string' || !(model.weights instanceof ArrayBuffer)) {
    throw new RunStoreError('invalid', 'a model needs modelJson (string) and weights (ArrayBuffer)');
  }
  return { modelJson: model.modelJson, weights: model.weights.slice(0) };
}

export function checkEvents(events: readonly EngineEvent[]): EngineEvent[] {
  if (!Array.isArray(events)) throw new RunStoreError('invalid', 'events must be an array');
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as unknown;
    if (typeof e !== 'object' || e === null || typeof (e as { type?: unknown }).type !== 'string') {
      throw new RunStoreError('invalid', `event ${i} of the chunk has no type`);
    }
  }
  return [...events];
}

/** Approximate stored size; strings count one byte per character, which is what ASCII JSON takes. */
export function eventBytes(events: readonly EngineEvent[]): number {
  return JSON.stringify(events).length;
}

export function checkpointBytes(cp: CheckpointRecord): number {
  let n = JSON.stringify({ pruning: cp.pruning, rng: cp.rng, extra: cp.extra }).length;
  for (const t of Object.values(cp.weights)) n += t.data.byteLength;
  for (const t of Object.values(cp.optimizer)) n += t.data.byteLength;
  return n;
}

export function modelBytes(m: ModelFiles): number {
  return m.modelJson.length + m.weights.byteLength;
}

/** The record of a run whose page died while it was training. */
export function interrupt(run: RunRecord, now: number): RunRecord {
  const message = run.checkpoint
    ? `The page closed while this run was training; it can resume from its checkpoint at step ${run.checkpoint.step}.`
    : 'The page closed while this run was training, before its first checkpoint; it has to start over.';
  return applyPatch(run, { status: 'interrupted', summary: { ...run.summary, message } }, now);
}
