import { DataError } from '../data/types';
import { DTYPES, numel, type SourceTensor, type StateDict } from './tensors';

/**
 * The safetensors format (huggingface/safetensors, "format" in its README): an 8-byte
 * little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin,
 * end]}, "__metadata__": {string: string}}, then the data; offsets are relative to the end of
 * the header. Every offset, length and dtype is checked before a byte of data is read.
 */
export function readSafetensors(file: string, bytes: Uint8Array): { tensors: StateDict; metadata: Record<string, string> } {
  const fail = (problem: string): never => {
    throw new DataError(file, `not a valid safetensors file: ${problem}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) fail(`the header claims ${headerLen} bytes but the file has ${bytes.length - 8} after the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`the header is not JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors: StateDict = new Map();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!e || typeof e !== 'object') fail(`entry "${name}" is not an object`);
    const dtype = String(e!.dtype);
    const info = DTYPES[dtype];
    if (!info) fail(`tensor "${name}" has dtype ${dtype}; supported: ${Object.keys(DTYPES).join(', ')}`);
    const shape = e!.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    const offs = e!.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataLen) fail(`tensor "${name}" spans bytes ${begin}..${end} but the data section has ${dataLen}`);
    const count = numel(shape as number[]);
    if ((end - begin) !== count * info.bytes) fail(`tensor "${name}" (${dtype} [${(shape as number[]).join(', ')}]) needs ${count * info.bytes} bytes, its offsets give ${end - begin}`);
    spans.push([begin, end, name]);
    tensors.set(name, { shape: [...(shape as number[])], dtype, isFloat: info.isFloat, data: info.read(view, dataStart + begin, count) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i][0] < spans[i - 1][1]) fail(`tensors "${spans[i - 1][2]}" and "${spans[i][2]}" overlap`);
  return { tensors, metadata };
}

/** Writes float32 tensors (in the given order) as a safetensors file. */
export function writeSafetensors(tensors: ReadonlyMap<string, Pick<SourceTensor, 'shape' | 'data'>>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (t.data.length !== numel(t.shape)) throw new Error(`${name}: ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // The format asks for the data to start 8-byte aligned; pad the header with spaces.
  const head = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  head.set(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    for (let i = 0; i < t.data.length; i++) view.setFloat32(at + i * 4, t.data[i], true);
    at += t.data.length * 4;
  }
  return out;
}
