import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { defaultExperiment, experimentSchema, type ExperimentConfig } from '../engine/experiment';
import { decode, encode, MAX_QUERY_LENGTH, MAX_REPORTED, shareUrl } from './codec';
import { FIELDS, FIELD_BY_KEY, getField } from './fields';

interface JsonField {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'array';
  enum?: string[];
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  items?: JsonField;
}

// The generators read the bounds from the zod schema itself, so a new or re-bounded field is
// covered without touching this file.
const jsonSchema = z.toJSONSchema(experimentSchema) as {
  properties: Record<string, JsonField & { properties?: Record<string, JsonField> }>;
};

function fieldJson(section: string, name: string): JsonField {
  return section === 'root'
    ? jsonSchema.properties[name]
    : (jsonSchema.properties[section].properties as Record<string, JsonField>)[name];
}

function arbitraryFor(j: JsonField): fc.Arbitrary<unknown> {
  switch (j.type) {
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: j.minimum ?? -(2 ** 31), max: j.maximum ?? 2 ** 31 });
    case 'number': {
      const min = j.minimum ?? j.exclusiveMinimum ?? -1e6;
      return fc
        .double({ min, max: j.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true })
        .filter((x) => !Object.is(x, -0) && (j.exclusiveMinimum === undefined || x > j.exclusiveMinimum));
    }
    case 'array':
      return fc.array(arbitraryFor(j.items as JsonField), { maxLength: j.maxItems ?? 8 });
    case 'string':
      if (j.enum) return fc.constantFrom(...j.enum);
      if (j.pattern) return fc.stringMatching(new RegExp(j.pattern));
      return fc
        .oneof(
          fc.string({ unit: 'binary', maxLength: 64 }),
          fc.webUrl(),
          fc.string({ unit: 'binary', minLength: Math.min(2000, j.maxLength ?? 256), maxLength: j.maxLength ?? 256 }),
        )
        .filter((s) => s.length <= (j.maxLength ?? 256));
  }
}

const configArb: fc.Arbitrary<ExperimentConfig> = fc
  .tuple(...FIELDS.map((f) => fc.option(arbitraryFor(fieldJson(f.section, f.name)), { nil: undefined, freq: 3 })))
  .map((values) => {
    const c = defaultExperiment();
    FIELDS.forEach((f, i) => {
      if (values[i] === undefined) return;
      const holder = (f.section === 'root' ? c : c[f.section]) as unknown as Record<string, unknown>;
      holder[f.name] = values[i];
    });
    return c;
  });

describe('key table', () => {
  it('covers every field of the experiment schema exactly once, with unique keys', () => {
    const schemaFields: string[] = [];
    for (const [section, prop] of Object.entries(jsonSchema.properties)) {
      if (prop.properties) for (const name of Object.keys(prop.properties)) schemaFields.push(`${section}.${name}`);
      else schemaFields.push(`root.${section}`);
    }
    const tableFields = FIELDS.map((f) => `${f.section}.${f.name}`);
    expect([...tableFields].sort()).toEqual([...schemaFields].sort());
    expect(new Set(FIELDS.map((f) => f.key)).size).toBe(FIELDS.length);
    expect(FIELD_BY_KEY.has('v')).toBe(false);
  });

  it('declares each kind to match the schema type', () => {
    for (const f of FIELDS) {
      const j = fieldJson(f.section, f.name);
      const expected = j.enum ? 'enum' : { integer: 'int', number: 'number', boolean: 'bool', array: 'numbers', string: 'string' }[j.type];
      expect(f.kind, f.key).toBe(expected);
      if (j.maxLength !== undefined) expect(f.maxLength, f.key).toBe(j.maxLength);
    }
  });
});

describe('encode', () => {
  it('writes only the version for the default config', () => {
    expect(encode(defaultExperiment())).toBe('v=1');
  });

  it('writes readable values: words, decimals, 1/0 and comma lists', () => {
    const c = defaultExperiment();
    c.train.model = 'resnet56';
    c.train.lr = 0.1;
    c.train.milestones = [0.3, 0.6, 0.9];
    c.prune.sparse = true;
    c.data.augment = false;
    c.prune.decaySteps = 200;
    c.data.url = '/data/cifar 10';
    expect(encode(c)).toBe('v=1&du=%2Fdata%2Fcifar%2010&aug=0&m=resnet56&lr=0.1&ms=0.3,0.6,0.9&N=200&sp=1');
  });

  it('writes an empty list as an empty value, distinct from the default list', () => {
    const c = defaultExperiment();
    c.train.milestones = [];
    expect(encode(c)).toBe('v=1&ms=');
    expect(decode(encode(c)).config.train.milestones).toEqual([]);
  });

  it('shareUrl replaces the query of the page address', () => {
    const c = defaultExperiment();
    c.train.epochs = 30;
    expect(shareUrl(c, { origin: 'https://x.example', pathname: '/app/' })).toBe('https://x.example/app/?v=1&ep=30');
  });

  it('fits the longest valid config inside the decode cap', () => {
    const c = defaultExperiment();
    c.data.url = '\u0800'.repeat(2048); // three UTF-8 bytes each: the worst case per UTF-16 unit
    c.train.initUrl = '\u0800'.repeat(2048);
    c.train.initName = '\u0800'.repeat(200);
    c.train.initSha256 = 'f'.repeat(64);
    c.train.milestones = Array.from({ length: 8 }, (_, i) => 0.1234567890123456 + i / 100);
    for (const f of FIELDS) {
      if (f.kind === 'number' && f.name !== 'milestones') {
        const j = fieldJson(f.section, f.name);
        const holder = (f.section === 'root' ? c : c[f.section]) as unknown as Record<string, number>;
        holder[f.name] = (j.maximum ?? 1) * 0.1234567890123456;
      }
    }
    const q = encode(c);
    expect(q.length).toBeLessThanOrEqual(MAX_QUERY_LENGTH);
    const back = decode(q);
    expect(back.ignored).toEqual([]);
    expect(back.config).toEqual(c);
  });
});

describe('decode', () => {
  it('round-trips random valid configs exactly with nothing ignored', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        expect(experimentSchema.safeParse(c).success).toBe(true);
        const { config, ignored } = decode(`?${encode(c)}`);
        expect(ignored).toEqual([]);
        expect(config).toEqual(c);
      }),
      { numRuns: 300 },
    );
  });

  it('reads the empty query as the default with nothing to report', () => {
    expect(decode('')).toEqual({ config: defaultExperiment(), ignored: [] });
    expect(decode('?')).toEqual({ config: defaultExperiment(), ignored: [] });
  });

  it('keeps good fields when others are bad, and names each problem', () => {
    const { config, ignored } = decode('?v=1&m=resnet99&ep=600&lr=0.2&bs=1.5&aug=yes&t=0&sp=1&zzz=3&ms=0.5,x');
    expect(config.train.lr).toBe(0.2);
    expect(config.prune.sparse).toBe(true);
    expect(config.train.model).toBe('tiny');
    expect(config.train.epochs).toBe(3);
    expect(config.train.batchSize).toBe(64);
    expect(config.data.augment).toBe(true);
    expect(config.prune.target).toBe(0.5);
    expect(config.train.milestones).toEqual([0.5, 0.75]);
    const reasons = Object.fromEntries(ignored.map((i) => [i.key, i.reason]));
    expect(reasons.m).toMatch(/must be one of tiny, resnet20, resnet56, resnet20a, resnet56a, vgg16/);
    expect(reasons.ep).toMatch(/at most 500.*default \(3\)/);
    expect(reasons.bs).toMatch(/whole number/);
    expect(reasons.aug).toMatch(/not 1 or 0/);
    expect(reasons.t).toMatch(/greater than 0/);
    expect(reasons.zzz).toMatch(/not a setting/);
    expect(reasons.ms).toMatch(/value 2: 'x' is not a number/);
    expect(ignored).toHaveLength(7);
  });

  it('refuses NaN, Infinity, hex and overflowing numbers', () => {
    for (const bad of ['NaN', 'Infinity', '-Infinity', '0x10', '1e999', ' 1', '', '1,2']) {
      const { config, ignored } = decode(`v=1&lr=${encodeURIComponent(bad)}`);
      expect(config.train.lr, bad).toBe(0.05);
      expect(ignored.map((i) => i.key), bad).toEqual(['lr']);
    }
  });

  it('reports a missing or unsupported version and still reads the rest', () => {
    const missing = decode('ep=7');
    expect(missing.config.train.epochs).toBe(7);
    expect(missing.ignored).toEqual([{ key: 'v', value: '', reason: expect.stringMatching(/no version/) }]);
    const newer = decode('v=2&ep=7');
    expect(newer.config.train.epochs).toBe(7);
    expect(newer.ignored[0].reason).toMatch(/version 2 is newer/);
    expect(decode('v=abc&ep=7').ignored[0].reason).toMatch(/not a supported version/);
  });

  it('reads ds=fashion-mnist (added in version 1: a new value changes no old link)', () => {
    const { config, ignored } = decode('v=1&ds=fashion-mnist&du=data%2Ffashion-mnist%2F');
    expect(ignored).toEqual([]);
    expect(config.data.dataset).toBe('fashion-mnist');
    expect(config.data.url).toBe('data/fashion-mnist/');
    expect(encode(config)).toBe('v=1&ds=fashion-mnist&du=data%2Ffashion-mnist%2F');
    expect(decode('v=1&ds=mnist').ignored[0].reason).toMatch(/synthetic, cifar10, fashion-mnist/);
  });

  it('uses the first of repeated keys', () => {
    const { config, ignored } = decode('v=1&ep=5&ep=9');
    expect(config.train.epochs).toBe(5);
    expect(ignored).toEqual([{ key: 'ep', value: '9', reason: expect.stringMatching(/more than once/) }]);
  });

  it('never touches prototypes', () => {
    const { config, ignored } = decode('v=1&__proto__=x&constructor=y&prototype=z&__proto__%5Bpolluted%5D=1&ep=4');
    expect(config.train.epochs).toBe(4);
    expect(ignored.map((i) => i.key)).toEqual(['__proto__', 'constructor', 'prototype', '__proto__[polluted]']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
  });

  it('refuses a value longer than its cap before parsing it', () => {
    const long = 'a'.repeat(2049);
    const { config, ignored } = decode(`v=1&du=${long}&m=${'x'.repeat(100)}`);
    expect(config.data.url).toBe('');
    expect(ignored.map((i) => i.reason)).toEqual([
      expect.stringMatching(/longer than 2048/),
      expect.stringMatching(/longer than 32/),
    ]);
    expect(ignored[0].value.length).toBeLessThanOrEqual(81);
  });

  it('refuses an over-long query as a whole', () => {
    const { config, ignored } = decode(`v=1&ep=5&du=${'a'.repeat(MAX_QUERY_LENGTH)}`);
    expect(config).toEqual(defaultExperiment());
    expect(ignored).toHaveLength(1);
    expect(ignored[0].reason).toMatch(new RegExp(`more than the ${MAX_QUERY_LENGTH}`));
  });

  it('summarises floods of junk keys', () => {
    const q = `v=1&${Array.from({ length: 500 }, (_, i) => `k${i}=1`).join('&')}`;
    const { ignored } = decode(q);
    expect(ignored).toHaveLength(MAX_REPORTED);
    expect(ignored[MAX_REPORTED - 1].reason).toBe(`and ${500 - MAX_REPORTED + 1} more ignored settings`);
  });

  it('decodes percent-encoding once only', () => {
    const { config } = decode('v=1&du=%25252F');
    expect(config.data.url).toBe('%252F');
  });
});

describe('decode fuzz', () => {
  const tokens = fc.oneof(
    fc.constantFrom(...FIELDS.map((f) => f.key), 'v', '__proto__', 'constructor', 'prototype', '', '=', '&', '?', '%', '%25', '%2525', '%zz', '+', ',', '#'),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.double().map(String),
    fc.integer().map(String),
  );
  const queries = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.array(tokens, { maxLength: 60 }).map((t) => t.join('')),
    fc
      .array(fc.tuple(fc.constantFrom(...FIELDS.map((f) => f.key), 'v', '__proto__'), tokens), { maxLength: 20 })
      .map((kv) => kv.map(([k, v]) => `${k}=${v}`).join('&')),
    fc.tuple(fc.constantFrom(...FIELDS.map((f) => f.key)), fc.integer({ min: 0, max: 30_000 })).map(([k, n]) => `v=1&${k}=${'9'.repeat(n)}`),
    fc.string({ maxLength: 5 }).map((s) => {
      let v = s;
      for (let i = 0; i < 6; i++) v = encodeURIComponent(v);
      return `v=1&du=${v}&m=${v}`;
    }),
  );

  it('never throws and always yields a schema-valid config within every cap', () => {
    fc.assert(
      fc.property(queries, (q) => {
        const { config, ignored } = decode(q);
        const checked = experimentSchema.safeParse(config);
        expect(checked.success).toBe(true);
        expect(checked.data).toEqual(config);
        for (const f of FIELDS) {
          const value = getField(config, f);
          if (typeof value === 'string') expect(value.length).toBeLessThanOrEqual(f.maxLength);
        }
        for (const i of ignored) {
          expect(typeof i.reason).toBe('string');
          expect(i.key.length).toBeLessThanOrEqual(81);
          expect(i.value.length).toBeLessThanOrEqual(81);
        }
        expect(ignored.length).toBeLessThanOrEqual(MAX_REPORTED);
      }),
      { numRuns: 500 },
    );
  });

  it('survives non-string input at runtime', () => {
    expect(decode(undefined as unknown as string).config).toEqual(defaultExperiment());
    expect(decode(42 as unknown as string).config).toEqual(defaultExperiment());
  });
});
