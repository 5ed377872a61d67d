import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, ftruncateSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataError, rejectsWithDataError } from '../data/data-error.test-util';
import { DataError } from '../data/types';
import { unpickle } from './pickle';
import { readCheckpoint } from './read-checkpoint';
import { readCheckpointPath } from './read-path';
import { readSafetensors, writeSafetensors } from './safetensors';
import { stateDictValue, writePickle, writeTorchZip, type PickleValue } from './torch-fixture';

const python = spawnSync('python3', ['-c', 'import zipfile, pickle'], { encoding: 'utf8' }).status === 0;

/** Writes a checkpoint with Python's real pickle module (fixtures/torch_format.py). */
function pythonCheckpoint(spec: Record<string, unknown>): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'dpm-torch-'));
  const out = join(dir, 'ckpt.pth');
  const r = spawnSync('python3', [join(__dirname, 'fixtures', 'torch_format.py')], { input: JSON.stringify({ out, ...spec }), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const bytes = new Uint8Array(readFileSync(out));
  rmSync(dir, { recursive: true });
  return bytes;
}

const values = (n: number, seed = 1) => Array.from({ length: n }, (_, i) => Math.sin(seed * 13 + i * 0.7) * 0.5);

describe('PyTorch zip checkpoints', () => {
  it.skipIf(!python)('reads a checkpoint pickled by Python itself: wrapped in a dict, DataParallel prefix, int and half tensors', () => {
    const bytes = pythonCheckpoint({
      archive: 'resnet56',
      wrap: 'state_dict',
      prefix: 'module.',
      tensors: [
        ['conv1.weight', [2, 3, 1, 1], 'FloatStorage', values(6)],
        ['bn1.running_var', [2], 'HalfStorage', [0.5, 2.25]],
        ['bn1.num_batches_tracked', [], 'LongStorage', [390]],
        ['linear.bias', [3], 'DoubleStorage', [0.1, -0.2, 0.3]],
      ],
    });
    const r = readCheckpoint('resnet56.th', bytes);
    expect(r.format).toBe('pytorch');
    expect(r.path).toBe('state_dict');
    expect(r.strippedModulePrefix).toBe(true);
    expect([...r.state.keys()]).toEqual(['conv1.weight', 'bn1.running_var', 'bn1.num_batches_tracked', 'linear.bias']);
    const w = r.state.get('conv1.weight')!;
    expect(w.shape).toEqual([2, 3, 1, 1]);
    expect(Array.from(w.data)).toEqual(Array.from(Float32Array.from(values(6))));
    expect(Array.from(r.state.get('bn1.running_var')!.data)).toEqual([0.5, 2.25]);
    expect(r.state.get('bn1.num_batches_tracked')).toMatchObject({ shape: [], isFloat: false, data: new Float32Array([390]) });
    expect(Array.from(r.state.get('linear.bias')!.data)).toEqual(Array.from(Float32Array.from([0.1, -0.2, 0.3])));
  });

  it('reads our own writer\'s files: bare OrderedDict, bfloat16, strided views', () => {
    const bytes = writeTorchZip({
      ordered: true,
      dict: [
        ['w', { tensor: { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] } }],
        // A transposed view: shape [3, 2] with strides [1, 3] over the same six numbers.
        ['wt', { tensor: { shape: [3, 2], data: [1, 2, 3, 4, 5, 6], stride: [1, 3] } }],
        ['b', { tensor: { shape: [2], data: [1.5, -3], storage: 'BFloat16Storage' } }],
        ['off', { tensor: { shape: [2], data: [9, 8, 7, 6], offset: 2, storageNumel: 4 } }],
      ],
    });
    const r = readCheckpoint('x.pt', bytes);
    expect(r.path).toBe('');
    expect(Array.from(r.state.get('wt')!.data)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(r.state.get('b')!.data)).toEqual([1.5, -3]);
    expect(Array.from(r.state.get('off')!.data)).toEqual([7, 6]);
  });

  it('finds the weights under the usual wrapper keys', () => {
    for (const key of ['state_dict', 'model', 'net', 'model_state_dict']) {
      const state = stateDictValue(new Map([['fc.weight', { shape: [1], data: [2] }]]));
      const bytes = writeTorchZip({ dict: [['epoch', 3], ['acc', { float: 0.93 }], [key, state]] });
      expect(readCheckpoint('c.pth', bytes).path).toBe(key);
    }
  });

  it.skipIf(!python)('refuses a hostile pickle (os.system, builtins.eval) by name, running nothing', () => {
    const marker = '/tmp/dpm-pickle-pwned';
    rmSync(marker, { force: true });
    // Protocol 2 names builtins "__builtin__" (Python 2's spelling) and os.system "posix.system".
    for (const [target, global] of [['os.system', 'posix.system'], ['builtins.eval', '__builtin__.eval']]) {
      const bytes = pythonCheckpoint({ hostile: target, tensors: [['a', [1], 'FloatStorage', [1]]] });
      const e = dataError(() => readCheckpoint('evil.pth', bytes));
      expect(e.message).toContain('evil.pth');
      expect(e.message).toContain(`refused the Python global ${global}`);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses every global outside the allowed set, and object-constructing opcodes', () => {
    const evil: PickleValue = { dict: [['x', { reduce: ['os', 'system'], args: ['rm -rf /'] }]] };
    expect(dataError(() => readCheckpoint('a.pth', writeTorchZip(evil))).message).toMatch(/a\.pth.*refused the Python global os\.system/);
    expect(dataError(() => readCheckpoint('a.pth', writeTorchZip({ reduce: ['torch', 'load'], args: [] }))).message).toContain('torch.load');
    // A storage type is allowed as a value, never as a callable.
    expect(dataError(() => readCheckpoint('a.pth', writeTorchZip({ reduce: ['torch', 'FloatStorage'], args: [] }))).message).toContain('refused to call torch.FloatStorage');
    const host = { globals: new Map(), refusalHint: 'test' };
    // NEWOBJ: cls, args -> instance.
    expect(dataError(() => unpickle('p', new Uint8Array([0x80, 2, 0x29, 0x29, 0x81, 0x2e]), host)).message).toMatch(/constructs an object/);
    // INST: "module\nname\n" read as a class and instantiated.
    expect(dataError(() => unpickle('p', new TextEncoder().encode('(ios\nsystem\n.'), host)).message).toMatch(/constructs an object/);
  });

  it('says how to re-save a legacy (pre-1.6) checkpoint', () => {
    const legacy = new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
    const e = dataError(() => readCheckpoint('old.pth', legacy));
    expect(e.message).toMatch(/old\.pth.*legacy \(pre-1\.6\).*torch\.save/);
  });

  it('names the file and the problem for damaged archives', () => {
    const good = writeTorchZip(stateDictValue(new Map([['w', { shape: [4], data: [1, 2, 3, 4] }]])));
    expect(dataError(() => readCheckpoint('t.pth', good.subarray(0, good.length - 30))).message).toMatch(/t\.pth: the zip archive is damaged or truncated/);
    const past = writeTorchZip({ ordered: true, dict: [['w', { tensor: { shape: [3], data: [1, 2], offset: 1, storageNumel: 2 } }]] });
    expect(dataError(() => readCheckpoint('p.pth', past)).message).toMatch(/p\.pth: .*run past its storage/);
    expect(dataError(() => readCheckpoint('n.pth', new TextEncoder().encode('hello world'))).message).toMatch(/n\.pth: not a checkpoint/);
    const noDict = writeTorchZip([1, 2, 3]);
    expect(dataError(() => readCheckpoint('l.pth', noDict)).message).toMatch(/no dict of tensors/);
    const noTensors = writeTorchZip({ dict: [['epoch', 3]] });
    expect(dataError(() => readCheckpoint('e.pth', noTensors)).message).toMatch(/found no state dict.*epoch/);
  });

  it('refuses a 2 GB file by its size, before reading it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpm-big-'));
    const path = join(dir, 'huge.pth');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 2 * 1024 ** 3); // sparse: no disk used, and reading it would take seconds
    closeSync(fd);
    const started = performance.now();
    const e = await rejectsWithDataError(readCheckpointPath(path));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(e.message).toMatch(/huge\.pth: 2048 MB is larger than/);
    rmSync(dir, { recursive: true });
  });
});

describe('safetensors', () => {
  it('round-trips float32 tensors with metadata', () => {
    const t = new Map([
      ['a.weight', { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      ['b', { shape: [], data: new Float32Array([7]) }],
    ]);
    const bytes = writeSafetensors(t, { format: 'pt' });
    expect(bytes[8]).toBe(0x7b);
    const r = readCheckpoint('m.safetensors', bytes);
    expect(r.format).toBe('safetensors');
    expect(r.metadata).toEqual({ format: 'pt' });
    expect(r.state.get('a.weight')).toMatchObject({ shape: [2, 2], dtype: 'F32', data: new Float32Array([1, 2, 3, 4]) });
    expect(r.state.get('b')!.shape).toEqual([]);
  });

  const file = (header: object, data: Uint8Array) => {
    const h = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  };

  it('converts F16, BF16 and F64 to float32', () => {
    const d = new DataView(new ArrayBuffer(2 + 2 + 8));
    d.setUint16(0, 0x3e00, true); // 1.5 in half
    d.setUint16(2, 0xc040, true); // -3 in bfloat16
    d.setFloat64(4, 0.25, true);
    const r = readSafetensors('x.safetensors', file({ h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] }, b: { dtype: 'BF16', shape: [1], data_offsets: [2, 4] }, d: { dtype: 'F64', shape: [1], data_offsets: [4, 12] } }, new Uint8Array(d.buffer)));
    expect([...r.tensors.values()].map((t) => t.data[0])).toEqual([1.5, -3, 0.25]);
  });

  it('validates header length, offsets, byte counts, dtypes and overlaps', () => {
    const data = new Uint8Array(16);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(5), /shorter than the 8-byte header/],
      [(() => { const b = file({}, data); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), /header claims/],
      [file({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 20] } }, data), /spans bytes 0\.\.20 but the data section has 16/],
      [file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, data), /needs 12 bytes, its offsets give 16/],
      [file({ a: { dtype: 'C64', shape: [2], data_offsets: [0, 16] } }, data), /dtype C64/],
      [file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 16] } }, data), /invalid shape/],
      [file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data), /overlap/],
      [(() => { const b = file({ a: 1 }, data); b[8] = 0x7b; b[9] = 0x7b; return b; })(), /not JSON/],
    ];
    for (const [bytes, msg] of cases) {
      const e = dataError(() => readSafetensors('w.safetensors', bytes));
      expect(e.message).toMatch(/^w\.safetensors: /);
      expect(e.message).toMatch(msg);
    }
  });
});

describe('fuzz: damaged checkpoints end in a state dict or a DataError', () => {
  const zip = writeTorchZip({ dict: [['epoch', 3], ['state_dict', stateDictValue(new Map([['a', { shape: [2, 2], data: [1, 2, 3, 4] }], ['b', { shape: [3], data: [5, 6, 7] }]]))]] });
  const pickle = writePickle(stateDictValue(new Map([['a', { shape: [2], data: [1, 2] }]])));
  const st = writeSafetensors(new Map([['a', { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]]));
  const outcome = (run: () => unknown) => {
    try {
      run();
      return 'ok';
    } catch (e) {
      if (e instanceof DataError) return 'error';
      throw e;
    }
  };
  const damage = fc.tuple(fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }), fc.boolean());
  const apply = (base: Uint8Array, [cut, flips, truncate]: [number, [number, number][], boolean]) => {
    const out = base.slice(0, truncate ? cut % (base.length + 1) : base.length);
    for (const [p, x] of flips) if (out.length) out[p % out.length] ^= x;
    return out;
  };
  for (const [name, base] of [['ckpt.pth', zip], ['model.safetensors', st]] as const) {
    it(name, () => {
      const seen = new Set<string>();
      fc.assert(fc.property(damage, (d) => void seen.add(outcome(() => readCheckpoint(name, apply(base, d))))), { numRuns: 300, seed: 11 });
      expect(seen.has('error')).toBe(true);
    });
  }
  it('data.pkl itself (the unpickler on arbitrary bytes)', () => {
    const host = { globals: new Map([['collections.OrderedDict', () => ({})]]), refusalHint: 'test', persistentLoad: () => null };
    fc.assert(fc.property(damage, (d) => void outcome(() => unpickle('data.pkl', apply(pickle, d), host))), { numRuns: 500, seed: 12 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void outcome(() => unpickle('data.pkl', b, host))), { numRuns: 500, seed: 13 });
  });
});
