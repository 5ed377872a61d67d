import type { z } from 'zod';
import { defaultExperiment, type ExperimentConfig } from '../engine/experiment';
import { FIELD_BY_KEY, FIELDS, getField, setField, URL_VERSION, VERSION_KEY, type FieldSpec } from './fields';

/**
 * ExperimentConfig <-> URL query string. encode() writes only what differs from the defaults;
 * decode() never throws: whatever it cannot use is listed in `ignored` with a reason meant
 * for people, and that field keeps its default. See docs/urls.md.
 */

export interface IgnoredParam {
  key: string;
  value: string;
  reason: string;
}

export interface DecodeResult {
  config: ExperimentConfig;
  ignored: IgnoredParam[];
}

/**
 * Longest query decode() reads. A valid config can need this much: `du` and `iu` allow 2048
 * UTF-16 units each, `in` 200, and one unit percent-encodes to at most 9 characters
 * (%E0%A0%80); the rest of the fields take well under 1 KB. A test checks the worst case fits.
 */
export const MAX_QUERY_LENGTH = 40_960;

/** Beyond this many, ignored params are summarised in one entry (a hostile URL can hold thousands). */
export const MAX_REPORTED = 50;

/** Keys and values are echoed back in `ignored` at most this long, so a message stays readable. */
const ECHO_CHARS = 80;

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

// Plain decimal, optionally with an exponent (small numbers print as 5e-7 in shortest form).
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function formatNumber(n: number): string {
  // Shortest round-trip form; -0 has no place in a URL.
  return Object.is(n, -0) ? '0' : String(n);
}

function formatValue(f: FieldSpec, value: unknown): string {
  switch (f.kind) {
    case 'bool':
      return value ? '1' : '0';
    case 'int':
    case 'number':
      return formatNumber(value as number);
    case 'numbers':
      return (value as number[]).map(formatNumber).join(',');
    case 'enum':
      return String(value);
    case 'string':
      // encodeURIComponent throws on a lone surrogate; the URL carries well-formed text only.
      return (value as string).replace(LONE_SURROGATE, '\uFFFD');
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** Percent-encodes a value but keeps list commas readable. */
function escapeValue(s: string): string {
  return encodeURIComponent(s).replace(/%2C/gi, ',');
}

/**
 * The query string (without '?') for a config; the default config gives just `v=1`. With a
 * `base` (a lesson's preset), only what differs from it is written, and decode() with the
 * same base reads it back.
 */
export function encode(config: ExperimentConfig, base: ExperimentConfig = defaultExperiment()): string {
  const defaults = base;
  const parts = [`${VERSION_KEY}=${URL_VERSION}`];
  for (const f of FIELDS) {
    const value = getField(config, f);
    if (sameValue(value, getField(defaults, f))) continue;
    parts.push(`${f.key}=${escapeValue(formatValue(f, value))}`);
  }
  return parts.join('&');
}

/** A link that opens this experiment on the page at `location` (origin + path; its query is replaced). */
export function shareUrl(config: ExperimentConfig, location: Pick<Location, 'origin' | 'pathname'>): string {
  return `${location.origin}${location.pathname}?${encode(config)}`;
}

type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };

function parseNumber(raw: string): Parsed {
  if (!NUMBER_RE.test(raw)) return { ok: false, reason: `'${echo(raw)}' is not a number` };
  const n = Number(raw);
  if (!Number.isFinite(n)) return { ok: false, reason: `'${echo(raw)}' is too large to be a number` };
  return { ok: true, value: n === 0 ? 0 : n };
}

function parseRaw(f: FieldSpec, raw: string): Parsed {
  switch (f.kind) {
    case 'enum':
    case 'string':
      return { ok: true, value: raw };
    case 'bool':
      if (raw === '1') return { ok: true, value: true };
      if (raw === '0') return { ok: true, value: false };
      return { ok: false, reason: `'${echo(raw)}' is not 1 or 0` };
    case 'int':
    case 'number':
      return parseNumber(raw);
    case 'numbers': {
      if (raw === '') return { ok: true, value: [] };
      const items = raw.split(',');
      const values: number[] = [];
      for (let i = 0; i < items.length; i++) {
        const p = parseNumber(items[i]);
        if (!p.ok) return { ok: false, reason: `value ${i + 1}: ${p.reason}` };
        values.push(p.value as number);
      }
      return { ok: true, value: values };
    }
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = typeof issue.path[0] === 'number' ? `value ${issue.path[0] + 1} ` : '';
  switch (issue.code) {
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array') return `${where}has more than ${max} values`;
      if (issue.origin === 'string') return `${where}is longer than ${max} characters`;
      return `${where}must be ${issue.inclusive ? 'at most' : 'less than'} ${max}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array') return `${where}has fewer than ${min} values`;
      if (issue.origin === 'string') return `${where}is shorter than ${min} characters`;
      return `${where}must be ${issue.inclusive ? 'at least' : 'greater than'} ${min}`;
    }
    case 'invalid_type':
      return issue.expected === 'int' ? `${where}must be a whole number` : `${where}must be a ${issue.expected}`;
    case 'invalid_value':
      return `${where}must be one of ${issue.values.map(String).join(', ')}`;
    default:
      return `${where}${issue.message}`;
  }
}

function echo(s: string): string {
  return s.length > ECHO_CHARS ? `${s.slice(0, ECHO_CHARS)}…` : s;
}

function fallback(f: FieldSpec, base: ExperimentConfig): string {
  const d = formatValue(f, getField(base, f));
  return `the default (${d === '' ? 'empty' : d}) is used`;
}

function decodeField(f: FieldSpec, raw: string): Parsed {
  if (raw.length > f.maxLength) return { ok: false, reason: `is longer than ${f.maxLength} characters` };
  const parsed = parseRaw(f, raw);
  if (!parsed.ok) return parsed;
  const checked = f.schema.safeParse(parsed.value);
  if (!checked.success) return { ok: false, reason: describeIssue(checked.error.issues[0]) };
  return { ok: true, value: checked.data };
}

function versionProblem(raw: string | undefined): string | null {
  if (raw === undefined) return `the link has no version (${VERSION_KEY}=${URL_VERSION}); it is read as version ${URL_VERSION}`;
  if (raw === String(URL_VERSION)) return null;
  if (/^\d{1,6}$/.test(raw) && Number(raw) > URL_VERSION) {
    return `version ${Number(raw)} is newer than this app understands (version ${URL_VERSION}); it is read as version ${URL_VERSION}, so some values may be misread`;
  }
  return `'${echo(raw)}' is not a supported version; it is read as version ${URL_VERSION}`;
}

function decodeParams(query: string, base: ExperimentConfig): DecodeResult {
  const config = structuredClone(base);
  const ignored: IgnoredParam[] = [];
  const seen = new Set<string>();
  let version: string | undefined;
  let count = 0;
  for (const [key, value] of new URLSearchParams(query)) {
    count++;
    const report = (reason: string) => ignored.push({ key: echo(key), value: echo(value), reason });
    if (seen.has(key)) {
      report('appears more than once; the first value is used');
      continue;
    }
    seen.add(key);
    if (key === VERSION_KEY) {
      version = value;
      continue;
    }
    if (PROTOTYPE_KEYS.has(key)) {
      report('is a reserved name, not a setting');
      continue;
    }
    const f = FIELD_BY_KEY.get(key);
    if (!f) {
      report('is not a setting this app knows');
      continue;
    }
    const result = decodeField(f, value);
    if (result.ok) setField(config, f, result.value);
    else report(`${result.reason}; ${fallback(f, base)}`);
  }
  const problem = count > 0 ? versionProblem(version) : null;
  if (problem) ignored.unshift({ key: VERSION_KEY, value: echo(version ?? ''), reason: problem });
  if (ignored.length > MAX_REPORTED) {
    const rest = ignored.length - (MAX_REPORTED - 1);
    ignored.splice(MAX_REPORTED - 1, rest, { key: '…', value: '', reason: `and ${rest} more ignored settings` });
  }
  return { config, ignored };
}

/**
 * Reads a query string ('?a=b&c=d' or 'a=b&c=d') over `base` (the defaults, or a lesson's
 * preset): fields the link gives replace the base's. Never throws.
 */
export function decode(search: string, base: ExperimentConfig = defaultExperiment()): DecodeResult {
  try {
    const query = typeof search === 'string' ? (search.startsWith('?') ? search.slice(1) : search) : '';
    if (query.length > MAX_QUERY_LENGTH) {
      return {
        config: structuredClone(base),
        ignored: [
          {
            key: '(link)',
            value: echo(query),
            reason: `the settings part of the link is ${query.length} characters long, more than the ${MAX_QUERY_LENGTH} this app reads; the default experiment is used`,
          },
        ],
      };
    }
    return decodeParams(query, base);
  } catch (e) {
    // Nothing above is expected to throw; a link must still never blank the page.
    return {
      config: structuredClone(base),
      ignored: [{ key: '(link)', value: '', reason: `the link could not be read (${String(e)}); the default experiment is used` }],
    };
  }
}
