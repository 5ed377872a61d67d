import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { crc32, extractArchive, gunzip, isGzip, isTar, readArchive } from './archive';
import { gzipDeterministic, writeTar, type TarEntry } from './fixture';
import { dataError } from './data-error.test-util';

const bytesOf = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const pattern = (n: number, k: number) => Uint8Array.from({ length: n }, (_, i) => (i * k + 3) & 255);

const ENTRIES: TarEntry[] = [
  { name: 'cifar-10-batches-bin/', bytes: new Uint8Array(0), type: '5' },
  { name: 'cifar-10-batches-bin/data_batch_1.bin', bytes: pattern(3073 * 2, 5) },
  { name: 'cifar-10-batches-bin/batches.meta.txt', bytes: bytesOf('x\n') },
  { name: 'cifar-10-batches-bin/empty.txt', bytes: new Uint8Array(0) },
];

describe('tar.gz reading', () => {
  it('extracts members of a .tar.gz and a plain .tar with exact contents', () => {
    const tar = writeTar(ENTRIES);
    expect(isTar(tar)).toBe(true);
    for (const input of [gzipDeterministic(tar), tar]) {
      const { members, warnings } = extractArchive('a.tar.gz', input);
      expect(warnings).toEqual([]);
      expect(members.map((m) => m.name)).toEqual(ENTRIES.slice(1).map((e) => e.name));
      expect(members[0].bytes).toEqual(ENTRIES[1].bytes);
      expect(text(members[1].bytes)).toBe('x\n');
      expect(members[2].bytes.length).toBe(0);
    }
  });

  it('reads members split across many small gzip chunks', () => {
    const big = pattern(300_000, 13);
    const gz = gzipSync(writeTar([{ name: 'big.bin', bytes: big }]), { level: 1 });
    const { members } = extractArchive('big.tar.gz', gz);
    // Buffer.compare: deep equality on 300k typed-array elements is slow in vitest.
    expect(Buffer.compare(members[0].bytes, big)).toBe(0);
  });

  it('uses GNU long names and pax paths', () => {
    const long = `${'d'.repeat(120)}/data_batch_2.bin`;
    const tar = writeTar([
      { name: '././@LongLink', bytes: bytesOf(`${long}\0`), type: 'L' },
      { name: 'truncated-name', bytes: bytesOf('one') },
      { name: 'PaxHeaders/x', bytes: bytesOf('27 path=pax/test_batch.bin\n'), type: 'x' },
      { name: 'short', bytes: bytesOf('two') },
    ]);
    const { members } = extractArchive('l.tar', tar);
    expect(members.map((m) => m.name)).toEqual([long, 'pax/test_batch.bin']);
    expect(members.map((m) => text(m.bytes))).toEqual(['one', 'two']);
  });

  it('skips absolute and .. paths with a warning', () => {
    const tar = writeTar([
      { name: '/etc/data_batch_1.bin', bytes: bytesOf('a') },
      { name: 'x/../../data_batch_2.bin', bytes: bytesOf('b') },
      { name: 'ok/test_batch.bin', bytes: bytesOf('c') },
    ]);
    const { members, warnings } = extractArchive('evil.tar.gz', gzipDeterministic(tar));
    expect(members.map((m) => m.name)).toEqual(['ok/test_batch.bin']);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('absolute path');
    expect(warnings[1]).toContain("'..'");
  });

  it('keeps the last of duplicate members, with a warning', () => {
    const tar = writeTar([
      { name: 'd/data_batch_1.bin', bytes: bytesOf('first') },
      { name: 'd/data_batch_1.bin', bytes: bytesOf('second') },
    ]);
    const { members, warnings } = extractArchive('dup.tar.gz', gzipDeterministic(tar));
    expect(members).toHaveLength(1);
    expect(text(members[0].bytes)).toBe('second');
    expect(warnings.join()).toContain('more than once');
  });

  it('reports a truncated .tar.gz and a truncated .tar', () => {
    const tar = writeTar(ENTRIES);
    const gz = gzipDeterministic(tar);
    expect(dataError(() => extractArchive('t.tar.gz', gz.subarray(0, gz.length - 40))).problem).toMatch(/truncated/);
    expect(dataError(() => extractArchive('t.tar.gz', gz.subarray(0, gz.length - 3))).problem).toMatch(/truncated|corrupt/);
    expect(dataError(() => extractArchive('t.tar', tar.subarray(0, 512 + 1000))).problem).toMatch(/truncated.*stops/);
    // Cut at a member boundary: no end-of-archive marker.
    expect(dataError(() => extractArchive('t.tar', tar.subarray(0, 512))).problem).toMatch(/end-of-archive/);
  });

  it('refuses data that is neither gzip nor tar', () => {
    const e = dataError(() => extractArchive('page.tar.gz', bytesOf('<html>not found</html>')));
    expect(e.file).toBe('page.tar.gz');
    expect(e.problem).toMatch(/neither gzip nor tar/);
    expect(dataError(() => gunzip('x.gz', bytesOf('plain'))).problem).toMatch(/not gzip/);
    expect(isGzip(bytesOf('plain'))).toBe(false);
  });

  it('detects corrupt gzip data and a bad checksum', () => {
    const gz = gzipDeterministic(writeTar(ENTRIES)).slice();
    const crcAt = gz.length - 8;
    gz[crcAt] ^= 0xff;
    expect(dataError(() => gunzip('c.gz', gz)).problem).toMatch(/checksum/);
    const garbled = gzipDeterministic(pattern(50_000, 7)).slice();
    for (let i = 20; i < 60; i++) garbled[i] = 0xff;
    expect(dataError(() => gunzip('c.gz', garbled)).problem).toMatch(/corrupt|checksum|truncated/);
  });

  it('detects a corrupt tar header', () => {
    const tar = writeTar(ENTRIES).slice();
    tar[512 + 10] ^= 0x01; // inside the second header's name: checksum no longer matches
    expect(dataError(() => extractArchive('h.tar', tar)).problem).toMatch(/corrupt tar header at byte 512/);
  });

  it('stops a decompression bomb at the cap', () => {
    const bomb = gzipSync(writeTar([{ name: 'zeros.bin', bytes: new Uint8Array(2_000_000) }]), { level: 9 });
    expect(bomb.length).toBeLessThan(10_000);
    const e = dataError(() => readArchive('bomb.tar.gz', bomb, () => {}, { maxBytes: 1_000_000 }));
    expect(e.problem).toMatch(/more than 1 MB/);
    expect(() => readArchive('bomb.tar.gz', bomb, () => {}, { maxBytes: 3_000_000 })).not.toThrow();
  });
});

describe('crc32', () => {
  it('matches the standard check value and composes over chunks', () => {
    expect(crc32(0, bytesOf('123456789'))).toBe(0xcbf43926);
    const data = pattern(1001, 17);
    expect(crc32(crc32(0, data.subarray(0, 333)), data.subarray(333))).toBe(crc32(0, data));
  });
});
