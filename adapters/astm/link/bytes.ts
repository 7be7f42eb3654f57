/** A growable byte buffer: frames and transfers are collected a byte at a time without an array per byte. */
export class ByteBuilder {
  private buffer: Buffer;
  length = 0;

  constructor(initial = 256) {
    this.buffer = Buffer.allocUnsafe(initial);
  }

  push(byte: number): void {
    if (this.length === this.buffer.length) this.grow(this.length + 1);
    this.buffer[this.length] = byte;
    this.length += 1;
  }

  append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buffer.length) this.grow(this.length + bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  at(index: number): number {
    return this.buffer[index];
  }

  /** A view of the bytes so far: valid until the next push or reset. */
  view(start = 0, end = this.length): Buffer {
    return this.buffer.subarray(start, end);
  }

  /** A copy of the bytes so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  reset(): void {
    this.length = 0;
    // Give back the memory of a large transfer.
    if (this.buffer.length > 1 << 20) this.buffer = Buffer.allocUnsafe(256);
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
}
