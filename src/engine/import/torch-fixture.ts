import { zipSync } from 'fflate';

/**
 * A writer of PyTorch checkpoints in torch.save's zip format, for tests (there is no PyTorch
 * here). It follows torch/serialization.py `_save`: protocol-2 pickle in `<name>/data.pkl`
 * with each storage as the persistent id ('storage', torch.<Type>Storage, key, 'cpu', numel)
 * and each tensor as torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
 * requires_grad, OrderedDict()); raw little-endian storage bytes in `<name>/data/<key>`;
 * `<name>/version` and `<name>/byteorder`. A state dict is a collections.OrderedDict.
 */

export type PickleValue =
  | null
  | boolean
  | number
  | string
  | PickleValue[]
  | { tuple: PickleValue[] }
  | { float: number }
  | { dict: [PickleValue, PickleValue][]; ordered?: boolean }
  | { tensor: FixtureTensor }
  /** Any callable applied to arguments: how a hostile pickle runs code. */
  | { reduce: [string, string]; args: PickleValue[] };

export interface FixtureTensor {
  shape: number[];
  data: ArrayLike<number>;
  /** Storage element type; default FloatStorage. */
  storage?: 'FloatStorage' | 'HalfStorage' | 'DoubleStorage' | 'LongStorage' | 'BFloat16Storage';
  /** A view: offset and strides into a storage of `storageNumel` elements (default: contiguous). */
  offset?: number;
  stride?: number[];
  storageNumel?: number;
}

class PickleWriter {
  private out: number[] = [];
  private storages: { key: string; bytes: Uint8Array }[] = [];

  constructor() {
    this.out.push(0x80, 2);
  }

  value(v: PickleValue): void {
    if (v === null) this.out.push(0x4e);
    else if (v === true) this.out.push(0x88);
    else if (v === false) this.out.push(0x89);
    else if (typeof v === 'number') this.int(v);
    else if (typeof v === 'string') this.str(v);
    else if (Array.isArray(v)) {
      this.out.push(0x5d, 0x28);
      v.forEach((x) => this.value(x));
      this.out.push(0x65);
    } else if ('tuple' in v) this.tuple(v.tuple);
    else if ('float' in v) {
      this.out.push(0x47);
      const b = new DataView(new ArrayBuffer(8));
      b.setFloat64(0, v.float, false);
      this.out.push(...new Uint8Array(b.buffer));
    } else if ('dict' in v) {
      if (v.ordered) {
        this.global('collections', 'OrderedDict');
        this.out.push(0x29, 0x52);
      } else this.out.push(0x7d);
      if (v.dict.length) {
        this.out.push(0x28);
        for (const [k, x] of v.dict) {
          this.value(k);
          this.value(x);
        }
        this.out.push(0x75);
      }
    } else if ('tensor' in v) this.tensor(v.tensor);
    else {
      this.global(...v.reduce);
      this.tuple(v.args);
      this.out.push(0x52);
    }
  }

  finish(): { pickle: Uint8Array; storages: { key: string; bytes: Uint8Array }[] } {
    this.out.push(0x2e);
    return { pickle: new Uint8Array(this.out), storages: this.storages };
  }

  private tensor(t: FixtureTensor): void {
    const type = t.storage ?? 'FloatStorage';
    const count = t.storageNumel ?? t.data.length;
    const key = String(this.storages.length);
    this.storages.push({ key, bytes: storageBytes(type, t.data, count) });
    const contiguous = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.out.push(0x28);
    // The storage: a persistent id tuple.
    this.out.push(0x28);
    this.str('storage');
    this.global('torch', type);
    this.str(key);
    this.str('cpu');
    this.int(count);
    this.out.push(0x74, 0x51);
    this.int(t.offset ?? 0);
    this.tuple(t.shape);
    this.tuple(t.stride ?? contiguous);
    this.out.push(0x89);
    this.global('collections', 'OrderedDict');
    this.out.push(0x29, 0x52);
    this.out.push(0x74, 0x52);
  }

  private tuple(items: PickleValue[]): void {
    if (items.length === 0) return void this.out.push(0x29);
    this.out.push(0x28);
    items.forEach((x) => this.value(x));
    this.out.push(0x74);
  }

  private global(module: string, name: string): void {
    this.out.push(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }

  private int(n: number): void {
    if (Number.isInteger(n) && n >= 0 && n < 256) this.out.push(0x4b, n);
    else if (Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) {
      const b = new DataView(new ArrayBuffer(4));
      b.setInt32(0, n, true);
      this.out.push(0x4a, ...new Uint8Array(b.buffer));
    } else throw new Error(`fixture: ${n} is not a 32-bit int`);
  }

  private str(s: string): void {
    const b = new TextEncoder().encode(s);
    const len = new DataView(new ArrayBuffer(4));
    len.setUint32(0, b.length, true);
    this.out.push(0x58, ...new Uint8Array(len.buffer), ...b);
  }
}

function storageBytes(type: NonNullable<FixtureTensor['storage']>, data: ArrayLike<number>, count: number): Uint8Array {
  const size = { FloatStorage: 4, HalfStorage: 2, BFloat16Storage: 2, DoubleStorage: 8, LongStorage: 8 }[type];
  const view = new DataView(new ArrayBuffer(count * size));
  for (let i = 0; i < Math.min(count, data.length); i++) {
    const x = data[i];
    if (type === 'FloatStorage') view.setFloat32(i * 4, x, true);
    else if (type === 'DoubleStorage') view.setFloat64(i * 8, x, true);
    else if (type === 'LongStorage') view.setBigInt64(i * 8, BigInt(Math.round(x)), true);
    else if (type === 'BFloat16Storage') {
      const f = new DataView(new ArrayBuffer(4));
      f.setFloat32(0, x, true);
      view.setUint16(i * 2, f.getUint16(2, true), true);
    } else view.setUint16(i * 2, floatToHalf(x), true);
  }
  return new Uint8Array(view.buffer);
}

function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  const e = Math.floor(Math.log2(a));
  const m = Math.round((a / 2 ** e - 1) * 1024);
  return m === 1024 ? sign | ((e + 16) << 10) : sign | ((e + 15) << 10) | m;
}

/** The pickle bytes alone (for tests of the unpickler). */
export function writePickle(v: PickleValue): Uint8Array {
  const w = new PickleWriter();
  w.value(v);
  return w.finish().pickle;
}

/** A complete torch.save-format zip holding `v`. */
export function writeTorchZip(v: PickleValue, archiveName = 'archive'): Uint8Array {
  const w = new PickleWriter();
  w.value(v);
  const { pickle, storages } = w.finish();
  const files: Record<string, [Uint8Array, { level: 0 }]> = {
    [`${archiveName}/data.pkl`]: [pickle, { level: 0 }],
    [`${archiveName}/byteorder`]: [new TextEncoder().encode('little'), { level: 0 }],
  };
  for (const s of storages) files[`${archiveName}/data/${s.key}`] = [s.bytes, { level: 0 }];
  files[`${archiveName}/version`] = [new TextEncoder().encode('3\n'), { level: 0 }];
  return zipSync(files);
}

/** A state dict (name -> float tensor in PyTorch layout) as an OrderedDict pickle value. */
export function stateDictValue(tensors: ReadonlyMap<string, { shape: number[]; data: ArrayLike<number> }>, prefix = ''): PickleValue {
  return { ordered: true, dict: [...tensors].map(([k, t]): [PickleValue, PickleValue] => [prefix + k, { tensor: { shape: t.shape, data: t.data } }]) };
}
