import { describe, expect, it } from 'vitest';
import { ProtoWriter } from './protobuf';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

// Byte strings from the protobuf encoding guide (protobuf.dev/programming-guides/encoding).
describe('ProtoWriter writes the wire format of the protobuf encoding guide', () => {
  it('varint field 1 = 150 is 08 96 01', () => {
    expect(hex(new ProtoWriter().varint(1, 150).finish())).toBe('08 96 01');
  });
  it('string field 2 = "testing" is 12 07 74 65 73 74 69 6e 67', () => {
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('12 07 74 65 73 74 69 6e 67');
  });
  it('embedded message field 3 = {1: 150} is 1a 03 08 96 01', () => {
    expect(hex(new ProtoWriter().message(3, (m) => m.varint(1, 150)).finish())).toBe('1a 03 08 96 01');
  });
  it('packed field 4 = [3, 270, 86942] is 22 06 03 8e 02 9e a7 05', () => {
    expect(hex(new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish())).toBe('22 06 03 8e 02 9e a7 05');
  });
  it('float field 2 = 1e-5 is fixed32 little-endian; varints past 32 bits are not truncated', () => {
    expect(hex(new ProtoWriter().float(2, 1e-5).finish())).toBe('15 ac c5 27 37');
    expect(hex(new ProtoWriter().varint(1, 2 ** 35).finish())).toBe('08 80 80 80 80 80 01');
    expect(() => new ProtoWriter().varint(1, -1)).toThrow(/non-negative/);
  });
});
