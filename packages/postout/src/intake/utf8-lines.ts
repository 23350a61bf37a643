import { isUtf8 } from "node:buffer";
import { Transform, type TransformCallback } from "node:stream";

const LF = 0x0a;
const CR = 0x0d;

/**
 * Passes a byte stream through unchanged while noting where each physical line ends and which
 * lines are not valid UTF-8, so the CSV reader can give every record its line by byte offset
 * and reject just the rows on bad lines (the CSV parser itself would turn bad bytes into U+FFFD
 * silently). A physical line ends at LF, CRLF or a lone CR: each is one line break, also when a
 * CRLF is split between two chunks.
 */
export class Utf8LineTracker extends Transform {
  /** Lines (1-based, ascending) found invalid and not yet forgotten. */
  private readonly bad: number[] = [];
  /** Byte offsets where the remembered line breaks start and end (just past the LF or CR). */
  private starts: number[] = [];
  private ends: number[] = [];
  /** Remembered breaks before `head` are forgotten; `forgotten` breaks were dropped in all. */
  private head = 0;
  private forgotten = 0;
  /** Offset of the next byte to arrive. */
  private offset = 0;
  private bomLength = -1;
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

  /**
   * The line (1-based) holding the byte at `offset`; a line break belongs to the line it ends.
   * Offsets must not go back before one given to {@link forgetBreaksBefore}.
   */
  lineAt(offset: number): number {
    // Breaks that end at or before `offset` come before the line holding it.
    let lo = this.head;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ends[mid] ?? 0) <= offset) lo = mid + 1;
      else hi = mid;
    }
    return 1 + this.forgotten + (lo - this.head);
  }

  /**
   * The line of the first byte at or after `offset` that is neither a line break nor the byte
   * order mark: where a record that starts at `offset`, after skipped blank lines, really starts.
   */
  firstContentLine(offset: number): number {
    let at = offset === 0 && this.bomLength > 0 ? this.bomLength : offset;
    let line = this.lineAt(at);
    let i = this.head + (line - 1 - this.forgotten);
    while (i < this.starts.length && this.starts[i] === at) {
      at = this.ends[i] ?? at;
      line++;
      i++;
    }
    return line;
  }

  /** Drops the break offsets that end at or before `offset`: later questions ask about later bytes. */
  forgetBreaksBefore(offset: number): void {
    const drop = this.lineAt(offset) - 1 - this.forgotten;
    this.head += drop;
    this.forgotten += drop;
    if (this.head > 4096 && this.head * 2 > this.ends.length) {
      this.starts = this.starts.slice(this.head);
      this.ends = this.ends.slice(this.head);
      this.head = 0;
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.bomLength < 0) {
      // Only the first chunk can hold a BOM; a stream's first chunk is never shorter than 3 bytes
      // unless the whole file is.
      this.bomLength = chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
    }
    const base = this.offset;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === LF) {
        if (this.lastWasCR && i === 0) {
          // The LF of a CRLF split between chunks: the line was already ended at its CR.
          this.lastWasCR = false;
          this.ends[this.ends.length - 1] = base + 1;
          start = 1;
          continue;
        }
        this.endLine(chunk, start, i, base + i, base + i + 1);
        start = i + 1;
        this.lastWasCR = false;
      } else if (b === CR) {
        const crlf = chunk[i + 1] === LF;
        this.endLine(chunk, start, i, base + i, base + i + (crlf ? 2 : 1));
        if (crlf) i++;
        start = i + 1;
        this.lastWasCR = !crlf && i === chunk.length - 1;
      } else {
        this.lastWasCR = false;
      }
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
    this.offset += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.pendingBytes > 0) this.endLine(Buffer.alloc(0), 0, 0, -1, -1);
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

  /** Ends the current line at `chunk[end]`; its break spans `breakStart..breakEnd` (none at -1). */
  private endLine(
    chunk: Buffer,
    start: number,
    end: number,
    breakStart: number,
    breakEnd: number,
  ): void {
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
    if (breakStart >= 0) {
      this.starts.push(breakStart);
      this.ends.push(breakEnd);
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
