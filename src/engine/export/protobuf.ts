/**
 * The few protobuf wire-format pieces an ONNX file needs: varints (wire type 0), 32-bit floats
 * (wire type 5) and length-delimited fields (wire type 2: strings, bytes, sub-messages, packed
 * arrays). A message is written into its own buffer and then embedded, so lengths are known.
 * Spec: https://protobuf.dev/programming-guides/encoding/
 */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private current: number[] = [];
  private length = 0;

  /** A non-negative integer field (int32, int64, enum). Numbers above 2^53 do not occur here. */
  varint(field: number, value: number): this {
    this.tag(field, 0);
    this.rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.raw(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.rawVarint(value.length);
    this.raw(value);
    return this;
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  /** A repeated integer field in packed form (proto3's default for repeated scalars). */
  packedVarints(field: number, values: readonly number[]): this {
    const w = new ProtoWriter();
    for (const v of values) w.rawVarint(v);
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`protobuf varint: ${value} is not a non-negative safe integer`);
    let v = value;
    // Math, not bit operators: those truncate to 32 bits.
    while (v >= 0x80) {
      this.current.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.current.push(v);
  }

  private raw(bytes: Uint8Array): void {
    this.flush();
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private flush(): void {
    if (this.current.length === 0) return;
    this.chunks.push(Uint8Array.from(this.current));
    this.length += this.current.length;
    this.current = [];
  }
}
