// Output assembly for edits and builders: a list of segments (spans of a source Buffer, or new
// text) measured first, then written into one Buffer.allocUnsafe() — one allocation per message,
// untouched spans copied as-is with Buffer#copy (memcpy).
import { canonicalHeaderName } from "../parse/header-names.js";

export class SegmentWriter {
  private readonly spans: number[] = []; // pairs [start, end) in src, or -1 followed by text index
  private readonly texts: string[] = [];
  private length = 0;
  private runStart = -1;
  private runEnd = -1;

  constructor(private readonly src: Buffer) {}

  /** Copy src[start, end) (adjacent spans are coalesced into one copy). */
  span(start: number, end: number): void {
    if (end <= start) return;
    if (this.runEnd === start) {
      this.runEnd = end;
      return;
    }
    this.flushRun();
    this.runStart = start;
    this.runEnd = end;
  }

  /** Append new text (UTF-8). */
  text(s: string): void {
    if (s.length === 0) return;
    this.flushRun();
    this.spans.push(-1, this.texts.length);
    this.texts.push(s);
    this.length += Buffer.byteLength(s, "utf8");
  }

  private flushRun(): void {
    if (this.runStart < 0) return;
    this.spans.push(this.runStart, this.runEnd);
    this.length += this.runEnd - this.runStart;
    this.runStart = this.runEnd = -1;
  }

  /** Assemble the output; `tail` (a body) is appended after everything else. */
  finish(tail?: Buffer): Buffer {
    this.flushRun();
    const out = Buffer.allocUnsafe(this.length + (tail ? tail.length : 0));
    let pos = 0;
    const spans = this.spans;
    for (let i = 0; i < spans.length; i += 2) {
      const a = spans[i]!;
      if (a === -1) pos += out.write(this.texts[spans[i + 1]!]!, pos, "utf8");
      else pos += this.src.copy(out, pos, a, spans[i + 1]!);
    }
    if (tail) tail.copy(out, pos);
    return out;
  }
}

/** Refuse a header name that is not an RFC 3261 token (it would corrupt the header section). */
export function assertHeaderName(name: string): void {
  if (canonicalHeaderName(name) === "") throw new RangeError(`header name ${JSON.stringify(name)} is not a token`);
}

/** Refuse header text that would inject a line break (values come from config/route decisions). */
export function assertHeaderText(what: string, s: string): void {
  if (s.indexOf("\r") !== -1 || s.indexOf("\n") !== -1) {
    throw new RangeError(`${what} must not contain CR or LF`);
  }
}
