import type { z } from 'zod';
import {
  dataConfigSchema,
  experimentSchema,
  pruneConfigSchema,
  trainConfigSchema,
  type ExperimentConfig,
} from '../engine/experiment';

/**
 * The URL key of every config field. Keys are part of the public format: once released, a key
 * is never renamed, reused for another field, or given a different meaning without bumping
 * URL_VERSION (see docs/urls.md).
 */

export const URL_VERSION = 1;

/** How a field's value is written: enums as their word, booleans 1/0, lists comma separated. */
export type FieldKind = 'enum' | 'int' | 'number' | 'bool' | 'numbers' | 'string';

export type Section = 'data' | 'train' | 'prune' | 'root';

export interface FieldSpec {
  key: string;
  section: Section;
  /** The property name inside its section (for 'root', inside the config itself). */
  name: string;
  kind: FieldKind;
  /** Validates one decoded value on its own, with the experiment schema's own bounds. */
  schema: z.ZodType;
  /** Longest raw (percent-decoded) value read before parsing; longer ones are refused unread. */
  maxLength: number;
}

// Long enough for any number in shortest round-trip form ("-1.2345678901234567e-308" is 24).
const NUMBER_CHARS = 32;
const ENUM_CHARS = 32;
const LIST_ITEMS = 8;

function spec(
  key: string,
  section: Exclude<Section, 'root'>,
  name: string,
  kind: FieldKind,
  maxLength?: number,
): FieldSpec {
  const shapes = { data: dataConfigSchema.shape, train: trainConfigSchema.shape, prune: pruneConfigSchema.shape };
  const schema = (shapes[section] as Record<string, z.ZodType>)[name];
  if (!schema) throw new Error(`experiment schema has no field ${section}.${name}`);
  const length =
    maxLength ??
    (kind === 'numbers' ? LIST_ITEMS * (NUMBER_CHARS + 1) : kind === 'enum' ? ENUM_CHARS : NUMBER_CHARS);
  return { key, section, name, kind, schema, maxLength: length };
}

/** The key table, in the order keys are written. docs/urls.md mirrors it. */
export const FIELDS: readonly FieldSpec[] = [
  spec('ds', 'data', 'dataset', 'enum'),
  spec('du', 'data', 'url', 'string', 2048),
  spec('trl', 'data', 'trainLimit', 'int'),
  spec('tel', 'data', 'testLimit', 'int'),
  spec('syn', 'data', 'syntheticSize', 'int'),
  spec('aug', 'data', 'augment', 'bool'),
  spec('m', 'train', 'model', 'enum'),
  spec('ep', 'train', 'epochs', 'int'),
  spec('bs', 'train', 'batchSize', 'int'),
  spec('lr', 'train', 'lr', 'number'),
  spec('mo', 'train', 'momentum', 'number'),
  spec('wd', 'train', 'weightDecay', 'number'),
  spec('lrs', 'train', 'lrSchedule', 'enum'),
  spec('ms', 'train', 'milestones', 'numbers'),
  spec('seed', 'train', 'seed', 'int'),
  spec('iu', 'train', 'initUrl', 'string', 2048),
  spec('ih', 'train', 'initSha256', 'string', 64),
  spec('in', 'train', 'initName', 'string', 200),
  spec('inn', 'train', 'inputNorm', 'enum'),
  spec('pr', 'prune', 'pruner', 'enum'),
  spec('sch', 'prune', 'schedule', 'enum'),
  spec('tk', 'prune', 'targetKind', 'enum'),
  spec('t', 'prune', 'target', 'number'),
  spec('st', 'prune', 'startAt', 'number'),
  spec('pts', 'prune', 'points', 'int'),
  spec('ev', 'prune', 'every', 'int'),
  spec('N', 'prune', 'decaySteps', 'int'),
  spec('tr', 'prune', 'tRate', 'number'),
  spec('tl', 'prune', 'tLen', 'number'),
  spec('nrm', 'prune', 'norm', 'enum'),
  spec('sc', 'prune', 'scope', 'enum'),
  spec('sp', 'prune', 'sparse', 'bool'),
  spec('spr', 'prune', 'sparseReg', 'number'),
  spec('te', 'prune', 'telemetryEvery', 'int'),
  spec('al', 'prune', 'align', 'int'),
  {
    key: 'be',
    section: 'root',
    name: 'backend',
    kind: 'enum',
    schema: experimentSchema.shape.backend,
    maxLength: ENUM_CHARS,
  },
];

/** The version key; not a config field. */
export const VERSION_KEY = 'v';

export const FIELD_BY_KEY: ReadonlyMap<string, FieldSpec> = new Map(FIELDS.map((f) => [f.key, f]));

export function getField(config: ExperimentConfig, f: FieldSpec): unknown {
  const holder = f.section === 'root' ? config : config[f.section];
  return (holder as unknown as Record<string, unknown>)[f.name];
}

/** Writes one field; `f.name` always comes from the fixed table above, never from the URL. */
export function setField(config: ExperimentConfig, f: FieldSpec, value: unknown): void {
  const holder = f.section === 'root' ? config : config[f.section];
  (holder as unknown as Record<string, unknown>)[f.name] = value;
}
