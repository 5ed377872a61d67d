import { unzipSync } from 'fflate';
import { DataError } from '../data/types';
import { PyDict, PyGlobal, PyTuple, unpickle, type PyValue } from './pickle';
import { DTYPES, MAX_CHECKPOINT_BYTES, numel, type SourceTensor } from './tensors';

/**
 * PyTorch's checkpoint format since 1.6 (torch/serialization.py, `_save`): a zip archive
 * (entries stored, 64-byte aligned) holding `<name>/data.pkl`, a pickle of the saved object in
 * which every storage is a persistent id ('storage', torch.<Type>Storage, key, location,
 * numel), and `<name>/data/<key>` with each storage's raw bytes; `<name>/byteorder` ('little'
 * or 'big') since 2.1. A tensor is pickled as torch._utils._rebuild_tensor_v2(storage, offset,
 * size, stride, requires_grad, backward_hooks).
 */

/** A tensor as the pickle describes it; the reader resolves it to contiguous float32. */
export class TorchTensor {
  constructor(readonly tensor: SourceTensor) {}
}

const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

class Storage {
  constructor(
    readonly key: string,
    readonly dtype: string,
    readonly values: Float32Array,
  ) {}
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const ZIP_EMPTY_MAGIC = [0x50, 0x4b, 0x05, 0x06];

export const isZip = (b: Uint8Array) => ZIP_MAGIC.every((m, i) => b[i] === m) || ZIP_EMPTY_MAGIC.every((m, i) => b[i] === m);
/** Legacy torch.save (before 1.6) starts with a pickled magic number: PROTO 2, LONG1. */
export const isLegacyTorch = (b: Uint8Array) => b[0] === 0x80 && b[1] === 0x02 && b[2] === 0x8a;

export const REFUSAL_HINT = 'a checkpoint may only hold tensors (torch._utils._rebuild_tensor_v2 over torch.*Storage), collections.OrderedDict and plain dicts, lists, numbers and strings; re-save just the weights with torch.save(model.state_dict(), path)';

/** Reads the object a torch.save zip holds, with every tensor resolved to a TorchTensor. */
export function readTorchZip(file: string, bytes: Uint8Array): PyValue {
  if (isLegacyTorch(bytes)) {
    throw new DataError(file, 'this is PyTorch\'s legacy (pre-1.6) checkpoint format, which needs Python to read safely; re-save it in the current format: in Python with torch >= 1.6, `torch.save(torch.load(path, map_location="cpu", weights_only=True), "resaved.pth")`');
  }
  if (!isZip(bytes)) throw new DataError(file, 'not a PyTorch checkpoint: it is neither a zip archive (torch.save since 1.6) nor a safetensors file');
  let entries: Record<string, Uint8Array>;
  try {
    let total = 0;
    entries = unzipSync(bytes, {
      filter: (f) => {
        if (f.compression !== 0 && f.compression !== 8) throw new DataError(file, `zip entry ${f.name} uses compression method ${f.compression}; torch.save stores entries uncompressed`);
        total += f.originalSize;
        if (total > MAX_CHECKPOINT_BYTES) throw new DataError(file, `the archive unpacks to more than ${MAX_CHECKPOINT_BYTES / 2 ** 20} MB`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(file, `the zip archive is damaged or truncated (${(e as Error).message})`);
  }
  const pkl = Object.keys(entries).filter((n) => /^[^/]+\/data\.pkl$/.test(n) || n === 'data.pkl');
  if (pkl.length !== 1) throw new DataError(file, `a torch.save archive holds exactly one <name>/data.pkl; this zip has ${pkl.length} (entries: ${Object.keys(entries).slice(0, 5).join(', ')}${Object.keys(entries).length > 5 ? ', ...' : ''})`);
  const prefix = pkl[0].slice(0, -'data.pkl'.length);
  const byteorderEntry = entries[`${prefix}byteorder`];
  const byteorder = byteorderEntry ? new TextDecoder().decode(byteorderEntry).trim() : 'little';
  if (byteorder !== 'little' && byteorder !== 'big') throw new DataError(file, `unknown byteorder "${byteorder.slice(0, 20)}"`);

  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: PyValue): PyValue => {
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length !== 5) {
      throw new DataError(file, 'data.pkl refers to external data that is not a tensor storage');
    }
    const [, type, key, , count] = pid.items;
    if (!(type instanceof PyGlobal) || typeof key !== 'string' || typeof count !== 'number') throw new DataError(file, 'a storage reference in data.pkl is malformed');
    const dtype = STORAGE_DTYPES[type.name];
    if (!dtype) throw new DataError(file, `storage type ${type.qualified} is not supported (float, half, bfloat16, double and integer storages are)`);
    const cached = storages.get(key);
    if (cached) return cached;
    const raw = entries[`${prefix}data/${key}`];
    if (!raw) throw new DataError(file, `storage ${key} is missing from the archive (${prefix}data/${key}); the file is truncated or damaged`);
    const info = DTYPES[dtype];
    if (raw.length !== count * info.bytes) {
      throw new DataError(file, `storage ${key} (${type.name}) should hold ${count} elements = ${count * info.bytes} bytes, the archive has ${raw.length}`);
    }
    const bytesLE = byteorder === 'big' ? swapBytes(raw, info.bytes) : raw;
    const storage = new Storage(key, dtype, info.read(new DataView(bytesLE.buffer, bytesLE.byteOffset, bytesLE.byteLength), 0, count));
    storages.set(key, storage);
    return storage;
  };

  const rebuildTensor = (args: PyValue[]): PyValue => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof Storage)) throw new DataError(file, 'a tensor in data.pkl is not backed by a storage');
    const st = storage;
    const dims = intTuple(size);
    const strides = intTuple(stride);
    if (!dims || !strides || dims.length !== strides.length || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
      throw new DataError(file, `a tensor over storage ${st.key} has a malformed offset, size or stride`);
    }
    const n = numel(dims);
    const last = n === 0 ? offset - 1 : offset + dims.reduce((s, d, i) => s + (d - 1) * strides[i], 0);
    if (last >= st.values.length) {
      throw new DataError(file, `a tensor of shape [${dims.join(', ')}] reads element ${last} of storage ${st.key}, which has ${st.values.length}: its bytes run past its storage`);
    }
    return new TorchTensor({ shape: dims, dtype: st.dtype, isFloat: DTYPES[st.dtype].isFloat, data: gather(st.values, offset, dims, strides) });
  };

  const globals = new Map<string, ((args: PyValue[]) => PyValue) | null>([
    ['torch._utils._rebuild_tensor_v2', rebuildTensor],
    ['torch._utils._rebuild_tensor', rebuildTensor],
    ['torch._utils._rebuild_parameter', (a) => a[0]],
    ['collections.OrderedDict', (a) => orderedDict(file, a)],
    ...Object.keys(STORAGE_DTYPES).map((n) => [`torch.${n}`, null] as [string, null]),
  ]);
  return unpickle(`${file} (${pkl[0]})`, entries[pkl[0]], { globals, persistentLoad, refusalHint: REFUSAL_HINT });
}

function orderedDict(file: string, args: PyValue[]): PyDict {
  const d = new PyDict('collections.OrderedDict');
  const items = args[0];
  if (items === undefined) return d;
  if (!Array.isArray(items)) throw new DataError(file, 'collections.OrderedDict is built from something other than a list of pairs');
  for (const pair of items) {
    if (!(pair instanceof PyTuple) || pair.items.length !== 2) throw new DataError(file, 'collections.OrderedDict is built from something other than (key, value) pairs');
    d.map.set(pair.items[0], pair.items[1]);
  }
  return d;
}

function intTuple(v: PyValue): number[] | null {
  if (!(v instanceof PyTuple)) return null;
  return v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) ? (v.items as number[]) : null;
}

/** The elements of a strided view, in row-major order. */
function gather(values: Float32Array, offset: number, dims: number[], strides: number[]): Float32Array {
  const n = numel(dims);
  const contiguous = dims.every((_, i) => dims[i] === 1 || strides[i] === dims.slice(i + 1).reduce((a, b) => a * b, 1));
  if (contiguous) return values.slice(offset, offset + n);
  const out = new Float32Array(n);
  const idx = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = offset;
    for (let d = 0; d < dims.length; d++) at += idx[d] * strides[d];
    out[i] = values[at];
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function swapBytes(raw: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += size) for (let j = 0; j < size; j++) out[i + j] = raw[i + size - 1 - j];
  return out;
}
