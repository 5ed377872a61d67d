import { describe, expect, it } from 'vitest';
import { dataError } from './data-error.test-util';
import { encodeIdx, looksLikeIdx, parseIdx, parseIdxImages, parseIdxLabels } from './idx';

describe('IDX parsing', () => {
  it('reads the header big-endian and returns the elements', () => {
    const data = new Uint8Array(2 * 300 * 2).map((_, i) => i & 255);
    const { dims, data: out } = parseIdx('x', encodeIdx([2, 300, 2], data), 3);
    expect(dims).toEqual([2, 300, 2]);
    expect(Array.from(out)).toEqual(Array.from(data));
  });

  it('centres 28x28 grey images on 32x32 and repeats the grey value in R, G and B', () => {
    const px = new Uint8Array(2 * 28 * 28);
    px[0] = 11; // image 0, row 0, col 0
    px[784 + 27 * 28 + 27] = 99; // image 1, last pixel
    const split = parseIdxImages('imgs', encodeIdx([2, 28, 28], px));
    expect(split.count).toBe(2);
    expect(split.images.length).toBe(2 * 3072);
    const at = (i: number, y: number, x: number) => Array.from(split.images.subarray(i * 3072 + (y * 32 + x) * 3, i * 3072 + (y * 32 + x) * 3 + 3));
    expect(at(0, 2, 2)).toEqual([11, 11, 11]);
    expect(at(1, 29, 29)).toEqual([99, 99, 99]);
    // The two-pixel border stays black.
    const sum = (i: number) => split.images.subarray(i * 3072, (i + 1) * 3072).reduce((a, b) => a + b, 0);
    expect(sum(0)).toBe(33);
    expect(sum(1)).toBe(297);
    expect(at(0, 0, 0)).toEqual([0, 0, 0]);
    expect(at(1, 31, 31)).toEqual([0, 0, 0]);
  });

  it('reads labels and rejects a label above 9 with its index and offset', () => {
    expect(Array.from(parseIdxLabels('l', encodeIdx([3], new Uint8Array([0, 9, 4]))))).toEqual([0, 9, 4]);
    const e = dataError(() => parseIdxLabels('labels.idx1', encodeIdx([3], new Uint8Array([0, 12, 4]))));
    expect(e.file).toBe('labels.idx1');
    expect(e.problem).toMatch(/label 1 \(byte offset 9\) is 12/);
  });

  it('says what is wrong with a damaged or foreign file', () => {
    const imgs = encodeIdx([3, 28, 28], new Uint8Array(3 * 784));
    expect(dataError(() => parseIdx('f', new Uint8Array(0), 3)).problem).toMatch(/empty/);
    expect(dataError(() => parseIdx('f', imgs.subarray(0, 3), 3)).problem).toMatch(/too short/);
    expect(dataError(() => parseIdx('f', imgs.subarray(0, 10), 3)).problem).toMatch(/ends inside its 16-byte header/);
    expect(dataError(() => parseIdx('f', imgs.subarray(0, imgs.length - 1), 3)).problem).toMatch(/announces 3 item\(s\).*2 whole item\(s\).*truncated/);
    const longer = new Uint8Array(imgs.length + 5);
    longer.set(imgs);
    expect(dataError(() => parseIdx('f', longer, 3)).problem).toMatch(/5 byte\(s\) follow/);
    expect(dataError(() => parseIdx('f', new TextEncoder().encode('<!doctype html>'), 3)).problem).toMatch(/IDX signature/);
    const floats = imgs.slice();
    floats[2] = 0x0d;
    expect(dataError(() => parseIdx('f', floats, 3)).problem).toMatch(/floats.*unsigned bytes/);
    expect(dataError(() => parseIdx('f', encodeIdx([3], new Uint8Array(3)), 3)).problem).toMatch(/this is a label file/);
    expect(dataError(() => parseIdx('f', imgs, 1)).problem).toMatch(/this is an image file/);
    expect(dataError(() => parseIdx('f', new Uint8Array([0x1f, 0x8b, 8, 0, 0]), 3)).problem).toMatch(/compressed twice/);
    expect(dataError(() => parseIdxImages('f', encodeIdx([1, 40, 40], new Uint8Array(1600)))).problem).toMatch(/40×40/);
  });

  it('a header announcing billions of images fails before allocating', () => {
    const huge = encodeIdx([0xffffffff, 28, 28], new Uint8Array(10));
    expect(dataError(() => parseIdxImages('f', huge)).problem).toMatch(/4294967295 item/);
  });

  it('sniffs the IDX signature', () => {
    expect(looksLikeIdx(encodeIdx([1], new Uint8Array(1)))).toBe(true);
    expect(looksLikeIdx(new Uint8Array([0, 0, 8]))).toBe(false);
    expect(looksLikeIdx(new Uint8Array(3073))).toBe(false);
  });
});
