import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { makeFashionMnistFixtureFiles } from '../engine/data/fixture';
import { configFromFlags, parseFlags, UsageError } from './args';
import type { CompareRow } from './compare';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 300_000 });

describe('cli flags', () => {
  it('map onto the experiment config, defaults elsewhere', () => {
    const cfg = configFromFlags(parseFlags(['prune', '--model', 'resnet20', '--schedule', 'sp', '--decay-steps', '50', '--target', '0.4']).values, 'prune');
    expect(cfg.train.model).toBe('resnet20');
    expect(cfg.prune.schedule).toBe('sp');
    expect(cfg.prune.decaySteps).toBe(50);
    expect(cfg.prune.target).toBe(0.4);
    expect(cfg.train.epochs).toBe(3);
  });
  it('train means no pruning', () => {
    expect(configFromFlags(parseFlags(['train']).values, 'train').prune.pruner).toBe('none');
  });
  it('names the bad flag', () => {
    expect(() => configFromFlags(parseFlags(['train', '--batch-size', '0']).values, 'train')).toThrow(UsageError);
    expect(() => configFromFlags(parseFlags(['train', '--batch-size', 'abc']).values, 'train')).toThrow(/--batch-size/);
  });
});

describe('cli process', () => {
  it('prune runs a whole SP+SR experiment headless and ends with a summary line', () => {
    const r = cli(
      'prune', '--model', 'tiny', '--dataset', 'synthetic', '--synthetic-size', '100', '--train-limit', '64', '--test-limit', '32',
      '--epochs', '1', '--batch-size', '16', '--schedule', 'sr', '--decay-steps', '2', '--start-at', '0', '--points', '1', '--target', '0.6',
      '--telemetry-every', '1', '--backend', 'cpu', '--json',
    );
    expect(r.stderr).not.toMatch(/Error|at .*\.ts:/);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);
    const types = new Set(lines.map((l) => l.type));
    for (const t of ['model', 'prune', 'telemetry', 'criteria', 'removed', 'slim', 'done']) expect(types).toContain(t);
    const summary = lines.at(-1)!;
    expect(summary.type).toBe('summary');
    expect(summary.flopsFraction).toBeLessThanOrEqual(0.6);
    expect(typeof summary.testAcc).toBe('number');
    expect(typeof summary.rectifications).toBe('number');
    expect(summary.srCloseness).toBeGreaterThan(0);
    // damage: one entry for the one pruning point, also printed as its own event.
    expect(summary.damage).toEqual([expect.objectContaining({ step: 0, schedule: 'sr', channels: expect.any(Number) })]);
    expect(types).toContain('damage');
  });

  it('compare runs abrupt, SP and SR on the same Fashion-MNIST files and seed: a JSON line each, then a table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpm-fm-'));
    for (const f of makeFashionMnistFixtureFiles({ train: 40, test: 16 })) writeFileSync(join(dir, f.name), f.bytes);
    const r = cli(
      'compare', '--schedules', 'abrupt,sp,sr', '--model', 'tiny', '--dataset', 'fashion-mnist', '--data', dir, '--train-limit', '32',
      '--epochs', '1', '--batch-size', '8', '--start-at', '0.25', '--points', '1', '--decay-steps', '2', '--target', '0.6', '--backend', 'cpu',
    );
    expect(r.stderr).not.toMatch(/Error|at .*\.ts:/);
    expect(r.status).toBe(0);
    const [json, table] = r.stdout.trim().split('\n\n');
    const rows = json.split('\n').map((l) => JSON.parse(l) as CompareRow);
    expect(rows.map((row) => row.schedule)).toEqual(['abrupt', 'sp', 'sr']);
    for (const row of rows) {
      expect(row.type).toBe('compare');
      expect(row.flopsFraction).toBeLessThanOrEqual(0.6);
      expect(typeof row.testAcc).toBe('number');
      expect(typeof row.rectifications).toBe('number');
      // One pruning point (step 1 of 4), measured.
      expect(row.damage).toHaveLength(1);
      expect(row.damage[0]).toMatchObject({ step: 1, schedule: row.schedule });
      expect(Number.isFinite(row.damage[0].lossBefore)).toBe(true);
    }
    // Same seed, same data: every schedule starts from the same loss before its point.
    expect(rows[1].damage[0].lossBefore).toBe(rows[0].damage[0].lossBefore);
    expect(rows[2].damage[0].accBefore).toBe(rows[0].damage[0].accBefore);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^schedule\s+test acc\s+FLOPs kept.*max peak rise/);
    expect(lines.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(['abrupt', 'sp', 'sr']);
  });

  it('compare refuses an unknown schedule with a usage error', () => {
    const r = cli('compare', '--schedules', 'abrupt,slow');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('"slow" is not one of abrupt, sp, sr');
  });

  it('train --export-onnx writes the trained tiny model as ONNX that ONNX Runtime runs', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dpm-cli-')), 'tiny.onnx');
    const r = cli(
      'train', '--model', 'tiny', '--dataset', 'synthetic', '--synthetic-size', '100', '--train-limit', '32', '--test-limit', '16',
      '--epochs', '1', '--batch-size', '16', '--backend', 'cpu', '--json', '--export-onnx', file,
    );
    expect(r.stderr).not.toMatch(/Error|at .*\.ts:/);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);
    expect(lines.find((l) => l.type === 'export')).toMatchObject({ format: 'onnx', path: file });
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(file)));
    const { logits } = await session.run({ input: new ort.Tensor('float32', new Float32Array(3 * 3072).fill(0.5), [3, 3, 32, 32]) });
    expect(logits.dims).toEqual([3, 10]);
    expect(Array.from(logits.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('info prints one JSON object with params and flops', () => {
    const r = cli('info', '--model', 'resnet56', '--json');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const info = JSON.parse(lines[0]);
    expect(info.params).toBeGreaterThan(0.83e6);
    expect(info.flops).toBeGreaterThan(122e6);
  });
  it('bad data exits non-zero with a clear message and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpm-cli-'));
    const file = join(dir, 'data_batch_1.bin');
    writeFileSync(file, new Uint8Array(3073 * 2 + 5));
    const r = cli('train', '--dataset', 'cifar10', '--data', file, '--json');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('data_batch_1.bin');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
