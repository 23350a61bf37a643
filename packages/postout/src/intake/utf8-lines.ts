import { isUtf8 } from "node:buffer";
import { Transform, type TransformCallback } from "node:stream";

const LF = 0x0a;
const CR = 0x0d;

/**
 * Passes a byte stream through unchanged while noting which physical lines are not valid UTF-8,
 * so the CSV reader can reject just the rows on those lines (the CSV parser itself would turn
 * bad bytes into U+FFFD silently). A physical line ends at LF, CRLF or a lone CR.
 */
export class Utf8LineTracker extends Transform {
  /** Lines (1-based, ascending) found invalid and not yet forgotten. */
  private readonly bad: number[] = [];
  private line = 1;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingHigh = false;
  private overflow = false;
  private lastWasCR = false;
  private readonly maxLineBytes: number;

  /** @param maxLineBytes longer lines are not checked (the CSV parser stops at such a row anyway). */
  constructor(maxLineBytes: number) {
    super();
    this.maxLineBytes = maxLineBytes;
  }

  /** Whether any line in `from..to` (inclusive) is not valid UTF-8. */
  hasBadLine(from: number, to: number): boolean {
    for (const n of this.bad) {
      if (n > to) return false;
      if (n >= from) return true;
    }
    return false;
  }

  /** Drops what is known about lines before `line`: rows are read in order. */
  forgetBefore(line: number): void {
    let i = 0;
    while (i < this.bad.length && (this.bad[i] ?? 0) < line) i++;
    if (i > 0) this.bad.splice(0, i);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === LF) {
        if (this.lastWasCR && i === start) {
          // The LF of a CRLF that straddled the chunk boundary: the line was already ended.
          this.lastWasCR = false;
          start = i + 1;
          continue;
        }
        this.endLine(chunk, start, i);
        start = i + 1;
        this.lastWasCR = false;
      } else if (b === CR) {
        this.endLine(chunk, start, i);
        if (chunk[i + 1] === LF) i++;
        start = i + 1;
        this.lastWasCR = i === chunk.length - 1 && chunk[i] === CR;
      } else {
        this.lastWasCR = false;
      }
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.pendingBytes > 0) this.endLine(Buffer.alloc(0), 0, 0);
    done();
  }

  private keep(part: Buffer): void {
    if (this.overflow) return;
    this.pendingBytes += part.length;
    if (this.pendingBytes > this.maxLineBytes) {
      this.overflow = true;
      this.pending = [];
      return;
    }
    this.pending.push(part);
    if (!this.pendingHigh && hasHighByte(part)) this.pendingHigh = true;
  }

  private endLine(chunk: Buffer, start: number, end: number): void {
    const segment = chunk.subarray(start, end);
    if (!this.overflow) {
      const high = this.pendingHigh || hasHighByte(segment);
      // ASCII-only lines (the common case) are valid UTF-8 without a check.
      if (high) {
        const whole =
          this.pending.length === 0 ? segment : Buffer.concat([...this.pending, segment]);
        if (!isUtf8(whole)) this.bad.push(this.line);
      }
    }
    this.line++;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingHigh = false;
    this.overflow = false;
  }
}

function hasHighByte(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] ?? 0) >= 0x80) return true;
  }
  return false;
}
