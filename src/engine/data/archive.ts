import { Gunzip } from 'fflate';
import { DataError } from './types';
import { errorMessage } from '../error-message';

/**
 * Reads .tar.gz and .tar archives as a stream: gzip output is fed straight into a minimal
 * ustar/GNU/pax tar reader, so each member is handed to the caller as soon as it is complete
 * and the whole uncompressed tar never has to exist in memory at once.
 */

/** Default cap on uncompressed bytes (the official CIFAR-10 tar is ~178 MB), against gzip bombs. */
export const MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024;

export interface ArchiveMember {
  /** Path inside the archive, with any leading './' removed. */
  name: string;
  bytes: Uint8Array;
}

export interface ArchiveOptions {
  /** Stop with a DataError once this many uncompressed bytes have been produced. */
  maxBytes?: number;
  /** Non-fatal findings (skipped members, duplicates) are appended here. */
  warnings?: string[];
}

const BLOCK = 512;
/**
 * Compressed bytes fed per step. Deflate expands at most ~1032x, so this also bounds how far
 * one step can overshoot the uncompressed cap (~130 MB) before the check sees it.
 */
const GZIP_CHUNK = 128 * 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** True if the first block is a tar header (ustar magic, or a valid header checksum). */
export function isTar(bytes: Uint8Array): boolean {
  if (bytes.length < BLOCK) return false;
  if (ascii(bytes, 257, 5) === 'ustar') return true;
  const stored = parseOctal(bytes.subarray(148, 156));
  return stored !== null && stored === headerChecksum(bytes.subarray(0, BLOCK));
}

/** Slicing-by-8 CRC tables: table k (at k * 256) advances the CRC over k further zero bytes. */
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  return t;
})();

/**
 * CRC-32 (gzip's), continued from `crc`. fflate checks neither the CRC nor the length
 * trailer; eight bytes per step keeps the check from costing more than the inflate itself.
 */
export function crc32(crc: number, data: Uint8Array): number {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const a = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    const b = data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24);
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + (b & 0xff)] ^
      t[512 + ((b >>> 8) & 0xff)] ^
      t[256 + ((b >>> 16) & 0xff)] ^
      t[b >>> 24];
  }
  for (; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * Decompresses gzip data chunk by chunk, calling `onChunk` with each piece of output.
 * Throws a DataError for non-gzip input, corrupt or truncated data, a checksum mismatch,
 * or output beyond `maxBytes`.
 */
export function gunzipStream(
  file: string,
  bytes: Uint8Array,
  onChunk: (chunk: Uint8Array) => void,
  maxBytes = MAX_UNCOMPRESSED_BYTES,
): number {
  if (bytes.length === 0) throw new DataError(file, 'the file is empty (0 bytes).');
  if (!isGzip(bytes)) {
    throw new DataError(file, 'this is not gzip data (it does not start with the gzip signature 1f 8b). Give the .tar.gz as downloaded, a .tar, or the .bin files.');
  }
  let total = 0;
  let crc = 0;
  let members = 1;
  const gz = new Gunzip((chunk) => {
    total += chunk.length;
    if (total > maxBytes) {
      throw new DataError(
        file,
        `it decompresses to more than ${formatMB(maxBytes)}, the limit for a CIFAR-10 archive (the official one is about 178 MB). ` +
          'It is not the CIFAR-10 archive, or it is a decompression bomb.',
      );
    }
    crc = crc32(crc, chunk);
    onChunk(chunk);
  });
  gz.onmember = () => {
    members++;
  };
  try {
    for (let i = 0; i < bytes.length; i += GZIP_CHUNK) {
      const end = Math.min(bytes.length, i + GZIP_CHUNK);
      gz.push(bytes.subarray(i, end), end === bytes.length);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    const msg = errorMessage(e);
    if (/unexpected EOF/i.test(msg)) {
      throw new DataError(file, 'the archive is truncated: the compressed data ends early. Download it again.');
    }
    throw new DataError(file, `the gzip data is corrupt (${msg}). Download it again.`);
  }
  // Multi-member streams (rare; never the official archive) have a trailer per member.
  if (members === 1) {
    if (bytes.length < 18) throw new DataError(file, 'the archive is truncated: the gzip trailer is missing.');
    const t = bytes.length - 8;
    const storedCrc = (bytes[t] | (bytes[t + 1] << 8) | (bytes[t + 2] << 16) | (bytes[t + 3] << 24)) >>> 0;
    const storedSize = (bytes[t + 4] | (bytes[t + 5] << 8) | (bytes[t + 6] << 16) | (bytes[t + 7] << 24)) >>> 0;
    if (storedSize !== total >>> 0 || storedCrc !== crc) {
      throw new DataError(
        file,
        'the gzip checksum does not match its contents: the archive is truncated or corrupt. Download it again.',
      );
    }
  }
  return total;
}

/** Decompresses a whole gzip buffer (with the same checks and cap as gunzipStream). */
export function gunzip(file: string, bytes: Uint8Array, maxBytes = MAX_UNCOMPRESSED_BYTES): Uint8Array {
  const chunks: Uint8Array[] = [];
  const total = gunzipStream(file, bytes, (c) => chunks.push(c.slice()), maxBytes);
  return joinChunks(chunks, total);
}

/** The chunks of a stream as one array (the first chunk itself when there is only one). */
export function joinChunks(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function ascii(bytes: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len && i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** A NUL-terminated UTF-8 string field. */
function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
}

/** An octal numeric field (NUL/space padded); null when it is not a number. */
function parseOctal(field: Uint8Array): number | null {
  let v = 0;
  let digits = 0;
  for (let i = 0; i < field.length; i++) {
    const b = field[i];
    if (b === 0 || b === 0x20) {
      if (digits > 0) break;
      continue;
    }
    if (b < 0x30 || b > 0x37) return null;
    v = v * 8 + (b - 0x30);
    digits++;
  }
  return digits > 0 ? v : null;
}

/** GNU base-256 size (high bit of the first byte set), used for members of 8 GiB and more. */
function parseSize(field: Uint8Array): number | null {
  if (field[0] & 0x80) {
    let v = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i];
    return v;
  }
  return parseOctal(field);
}

function headerChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum;
}

function isZeroBlock(h: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (h[i] !== 0) return false;
  return true;
}

/** The 'path' record of a pax extended header ("<len> key=value\n" records, len in bytes), if any. */
function paxPath(data: Uint8Array): string | null {
  const dec = new TextDecoder();
  let at = 0;
  let path: string | null = null;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const len = Number(ascii(data, at, space - at));
    if (!Number.isInteger(len) || len <= space - at + 1 || at + len > data.length) break;
    const record = dec.decode(data.subarray(space + 1, at + len - 1));
    const eq = record.indexOf('=');
    if (eq !== -1 && record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    at += len;
  }
  return path;
}

/** Why a member path is refused (absolute, or escaping with '..'), or null when it is safe. */
export function unsafePathReason(path: string): string | null {
  if (path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path)) return 'absolute path';
  if (path.split(/[\\/]/).includes('..')) return "path contains '..'";
  return null;
}

type Pending = 'file' | 'longname' | 'pax' | 'skip';

/** A push-driven tar reader: feed it bytes in any chunking, then call finish(). */
export class TarReader {
  private readonly header = new Uint8Array(BLOCK);
  private headerFill = 0;
  private offset = 0;
  private pending: Pending | null = null;
  private name = '';
  private remaining = 0;
  private size = 0;
  private chunks: Uint8Array[] = [];
  private pad = 0;
  private ended = false;
  private nextName: string | null = null;

  constructor(
    private readonly file: string,
    private readonly onMember: (m: ArchiveMember) => void,
    private readonly warnings: string[],
    private readonly maxMemberBytes = MAX_UNCOMPRESSED_BYTES,
  ) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.ended) {
      if (this.pending !== null) {
        const n = Math.min(this.remaining, chunk.length - i);
        if (this.pending !== 'skip') this.chunks.push(chunk.slice(i, i + n));
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.endMember();
      } else if (this.pad > 0) {
        const n = Math.min(this.pad, chunk.length - i);
        this.pad -= n;
        i += n;
      } else {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - i);
        this.header.set(chunk.subarray(i, i + n), this.headerFill);
        this.headerFill += n;
        i += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.readHeader(this.offset + i - BLOCK);
        }
      }
    }
    this.offset += chunk.length;
  }

  finish(): void {
    if (this.ended) return;
    if (this.offset === 0) throw new DataError(this.file, 'the tar archive is empty.');
    if (this.pending !== null) {
      throw new DataError(
        this.file,
        `the archive is truncated: member '${this.name}' stops ${this.remaining} bytes short of its ${this.size} bytes. Download it again.`,
      );
    }
    throw new DataError(this.file, 'the archive is truncated: it ends without the tar end-of-archive marker. Download it again.');
  }

  private readHeader(at: number): void {
    const h = this.header;
    if (isZeroBlock(h)) {
      this.ended = true;
      return;
    }
    const stored = parseOctal(h.subarray(148, 156));
    if (stored === null || stored !== headerChecksum(h)) {
      throw new DataError(
        this.file,
        `corrupt tar header at byte ${at} (checksum mismatch): the archive is damaged or not a tar file.`,
      );
    }
    const size = parseSize(h.subarray(124, 136));
    if (size === null) throw new DataError(this.file, `corrupt tar header at byte ${at} (unreadable size field).`);
    if (size > this.maxMemberBytes) {
      throw new DataError(this.file, `a member claims ${size} bytes, over the ${formatMB(this.maxMemberBytes)} limit.`);
    }
    const type = String.fromCharCode(h[156]);
    let name = cString(h.subarray(0, 100));
    if (ascii(h, 257, 5) === 'ustar') {
      const prefix = cString(h.subarray(345, 500));
      if (prefix) name = `${prefix}/${name}`;
    }
    if (this.nextName !== null && type !== 'L' && type !== 'x') {
      name = this.nextName;
      this.nextName = null;
    }
    name = name.replace(/^(\.\/)+/, '');

    let pending: Pending;
    if (type === 'L') pending = 'longname';
    else if (type === 'x') pending = 'pax';
    else if (type === '0' || type === '\0' || type === '7') {
      const unsafe = unsafePathReason(name);
      if (unsafe) {
        this.warnings.push(`${this.file}: skipped member '${name}' (${unsafe}).`);
        pending = 'skip';
      } else pending = 'file';
    } else {
      // Directories, links, devices, global pax headers: nothing to extract.
      if (type === '1' || type === '2') this.warnings.push(`${this.file}: skipped link '${name}' (links are not followed).`);
      pending = 'skip';
    }
    this.name = name;
    this.size = size;
    this.pending = pending;
    this.remaining = size;
    this.chunks = [];
    if (size === 0) this.endMember();
  }

  private endMember(): void {
    const data = joinChunks(this.chunks, this.size);
    const kind = this.pending;
    this.chunks = [];
    this.pending = null;
    this.pad = (BLOCK - (this.size % BLOCK)) % BLOCK;
    if (kind === 'longname') this.nextName = cString(data);
    else if (kind === 'pax') {
      const p = paxPath(data);
      if (p !== null) this.nextName = p;
    } else if (kind === 'file') this.onMember({ name: this.name, bytes: data });
  }
}

/**
 * Streams the members of a .tar.gz or .tar to `onMember`, in archive order (duplicates are
 * passed on; see extractArchive for last-wins). Unsafe paths are skipped with a warning.
 */
export function readArchive(
  file: string,
  bytes: Uint8Array,
  onMember: (m: ArchiveMember) => void,
  opts: ArchiveOptions = {},
): void {
  const maxBytes = opts.maxBytes ?? MAX_UNCOMPRESSED_BYTES;
  const tar = new TarReader(file, onMember, opts.warnings ?? [], maxBytes);
  if (isGzip(bytes)) {
    gunzipStream(file, bytes, (c) => tar.push(c), maxBytes);
  } else if (isTar(bytes)) {
    if (bytes.length > maxBytes) {
      throw new DataError(file, `the archive is ${formatMB(bytes.length)}, over the ${formatMB(maxBytes)} limit.`);
    }
    tar.push(bytes);
  } else if (bytes.length === 0) {
    throw new DataError(file, 'the file is empty (0 bytes).');
  } else {
    throw new DataError(file, 'this is neither gzip nor tar data. Give the .tar.gz as downloaded, a .tar, or the .bin files.');
  }
  tar.finish();
}

/** All members of an archive; when a path appears twice the last copy wins, with a warning. */
export function extractArchive(
  file: string,
  bytes: Uint8Array,
  opts: ArchiveOptions = {},
): { members: ArchiveMember[]; warnings: string[] } {
  const warnings = opts.warnings ?? [];
  const byName = new Map<string, ArchiveMember>();
  readArchive(
    file,
    bytes,
    (m) => {
      if (byName.has(m.name)) {
        warnings.push(`${file}: member '${m.name}' appears more than once; the last copy is used.`);
        byName.delete(m.name);
      }
      byName.set(m.name, m);
    },
    { ...opts, warnings },
  );
  return { members: [...byName.values()], warnings };
}

export function formatMB(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}
