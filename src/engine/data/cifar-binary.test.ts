import { describe, expect, it } from 'vitest';
import {
  CIFAR_RECORD_BYTES,
  classifyMember,
  concatSplits,
  encodeCifarBatch,
  parseCifarBatch,
  parseClassNames,
  planarToInterleaved,
  requireMember,
} from './cifar-binary';
import { IMAGE_BYTES } from './types';
import { dataError } from './data-error.test-util';

/** Records whose every byte is derived from (record, plane, pixel), so any mix-up shows. */
function makeRecords(count: number): Uint8Array {
  const out = new Uint8Array(count * CIFAR_RECORD_BYTES);
  for (let r = 0; r < count; r++) {
    const base = r * CIFAR_RECORD_BYTES;
    out[base] = (r * 3) % 10;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) out[base + 1 + c * 1024 + p] = (r * 31 + c * 97 + p * 7) & 255;
    }
  }
  return out;
}

describe('parseCifarBatch', () => {
  it('transposes planar records to NHWC with exact pixels and labels', () => {
    const bytes = makeRecords(5);
    const split = parseCifarBatch('data_batch_1.bin', bytes);
    expect(split.count).toBe(5);
    expect(split.images.length).toBe(5 * IMAGE_BYTES);
    for (let r = 0; r < 5; r++) {
      expect(split.labels[r]).toBe((r * 3) % 10);
      for (const [y, x] of [
        [0, 0],
        [0, 31],
        [17, 5],
        [31, 31],
      ]) {
        const p = y * 32 + x;
        for (let c = 0; c < 3; c++) {
          expect(split.images[r * IMAGE_BYTES + p * 3 + c]).toBe((r * 31 + c * 97 + p * 7) & 255);
        }
      }
    }
  });

  it('gives the same pixels with word stores and with the byte-by-byte fallback', () => {
    const bytes = makeRecords(6);
    const words = new Uint8Array(6 * IMAGE_BYTES);
    const plain = new Uint8Array(6 * IMAGE_BYTES);
    planarToInterleaved(bytes, words, 6, true);
    planarToInterleaved(bytes, plain, 6, false);
    expect(Buffer.compare(words, plain)).toBe(0);
    expect(plain[3 * IMAGE_BYTES + 5 * 3 + 1]).toBe((3 * 31 + 97 + 5 * 7) & 255);
  });

  it('round-trips through encodeCifarBatch', () => {
    const bytes = makeRecords(7);
    expect(encodeCifarBatch(parseCifarBatch('x.bin', bytes))).toEqual(bytes);
  });

  it('rejects a size that is not a whole number of records, saying how much is left over', () => {
    const e = dataError(() => parseCifarBatch('data_batch_2.bin', new Uint8Array(2 * CIFAR_RECORD_BYTES + 100)));
    expect(e.file).toBe('data_batch_2.bin');
    expect(e.problem).toContain('2 whole records and 100 bytes left over');
  });

  it('recognises CIFAR-100-sized records', () => {
    const e = dataError(() => parseCifarBatch('train.bin', new Uint8Array(3 * 3074)));
    expect(e.problem).toContain('CIFAR-100');
  });

  it('rejects a label above 9 and names the record', () => {
    const bytes = makeRecords(4);
    bytes[2 * CIFAR_RECORD_BYTES] = 12;
    const e = dataError(() => parseCifarBatch('test_batch.bin', bytes));
    expect(e.problem).toContain('record 2');
    expect(e.problem).toContain('label 12');
  });

  it('rejects an empty file', () => {
    expect(dataError(() => parseCifarBatch('data_batch_3.bin', new Uint8Array(0))).problem).toContain('empty');
  });
});

describe('member names', () => {
  it('classifies official names with or without folders', () => {
    expect(classifyMember('cifar-10-batches-bin/data_batch_4.bin')).toEqual({ kind: 'train', index: 4 });
    expect(classifyMember('test_batch.bin')).toEqual({ kind: 'test' });
    expect(classifyMember('a\\b\\batches.meta.txt')).toEqual({ kind: 'meta' });
    expect(classifyMember('data_batch_6.bin')).toBeNull();
    expect(classifyMember('readme.html')).toBeNull();
  });

  it('requireMember throws a DataError listing the expected names', () => {
    const e = dataError(() => requireMember('photos.bin'));
    expect(e.file).toBe('photos.bin');
    expect(e.problem).toContain('data_batch_1.bin');
  });
});

describe('parseClassNames / concatSplits', () => {
  it('reads ten names and refuses other counts', () => {
    const names = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n';
    expect(parseClassNames(new TextEncoder().encode(names))).toEqual({ names: 'abcdefghij'.split('') });
    expect(parseClassNames(new TextEncoder().encode('a\nb\n'))).toHaveProperty('problem');
  });

  it('concatenates splits in order', () => {
    const a = parseCifarBatch('a', makeRecords(2));
    const b = parseCifarBatch('b', makeRecords(3));
    const c = concatSplits([a, b]);
    expect(c.count).toBe(5);
    expect(c.images.subarray(2 * IMAGE_BYTES)).toEqual(b.images);
    expect([...c.labels]).toEqual([...a.labels, ...b.labels]);
  });
});
