// The lean engine's chunked request body decoder (RFC 9112 §7.1), pure and incremental: it is fed
// whatever bytes arrived and hands the chunk data on as slices of them. Strict on what decides
// framing: hex sizes of at most 15 digits (no sign, no 0x, no overflow), CRLF after the size and
// after each chunk's data (data longer than its size is a 400), bounded chunk extensions and
// trailer section. Trailer fields are read and dropped (they are not forwarded today either).

export interface ChunkSink {
  chunkData(buf: Buffer, from: number, to: number): void;
}

/** decode: all input consumed, the body goes on. */
export const CHUNKED_MORE = -1;
/** decode: malformed framing (400). */
export const CHUNKED_MALFORMED = -2;
/** decode: chunk extensions over the cap (413, as Node answers). */
export const CHUNKED_EXT_TOO_LARGE = -3;
/** decode: trailer section over maxHeaderBytes (431). */
export const CHUNKED_TRAILERS_TOO_LARGE = -4;

/** Node's llhttp caps the chunk extensions of a message at 16 KiB; the same here. */
const MAX_EXTENSION_BYTES = 16 * 1024;

const enum State {
  Size,
  SizeWs,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerLineStart,
  Trailer,
  TrailerLf,
  FinalLf,
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

export class ChunkedDecoder {
  #state = State.Size;
  #digits = 0;
  #size = 0;
  #extBytes = 0;
  #trailerBytes = 0;

  constructor(private readonly maxTrailerBytes: number) {}

  /** Back to the start of a body (the decoder is reused per connection). */
  reset(): void {
    this.#state = State.Size;
    this.#digits = 0;
    this.#size = 0;
    this.#extBytes = 0;
    this.#trailerBytes = 0;
  }

  /**
   * Feeds buf[from, to). Returns the index just past the body's end when it ended there, else
   * CHUNKED_MORE or one of the error codes.
   */
  decode(buf: Buffer, from: number, to: number, sink: ChunkSink): number {
    let i = from;
    while (i < to) {
      const c = buf[i]!;
      switch (this.#state) {
        case State.Size: {
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.#digits > 15) return CHUNKED_MALFORMED;
            this.#size = this.#size * 16 + h;
            i++;
            break;
          }
          if (this.#digits === 0) return CHUNKED_MALFORMED;
          if (c === 13) this.#state = State.SizeLf;
          else if (c === 59 /* ; */) this.#state = State.Ext;
          else if (c === 32 || c === 9) this.#state = State.SizeWs;
          else return CHUNKED_MALFORMED;
          i++;
          break;
        }
        case State.SizeWs:
          // BWS is only allowed before a chunk extension.
          if (c === 59) this.#state = State.Ext;
          else if (c !== 32 && c !== 9) return CHUNKED_MALFORMED;
          i++;
          break;
        case State.Ext:
          if (c === 13) this.#state = State.SizeLf;
          else if ((c < 32 && c !== 9) || c === 127) return CHUNKED_MALFORMED;
          else if (++this.#extBytes > MAX_EXTENSION_BYTES) return CHUNKED_EXT_TOO_LARGE;
          i++;
          break;
        case State.SizeLf:
          if (c !== 10) return CHUNKED_MALFORMED;
          i++;
          if (this.#size === 0) this.#state = State.TrailerLineStart;
          else this.#state = State.Data;
          break;
        case State.Data: {
          const n = Math.min(this.#size, to - i);
          sink.chunkData(buf, i, i + n);
          this.#size -= n;
          i += n;
          if (this.#size === 0) this.#state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (c !== 13) return CHUNKED_MALFORMED;
          this.#state = State.DataLf;
          i++;
          break;
        case State.DataLf:
          if (c !== 10) return CHUNKED_MALFORMED;
          this.#state = State.Size;
          this.#digits = 0;
          i++;
          break;
        case State.TrailerLineStart:
          if (c === 13) {
            this.#state = State.FinalLf;
            i++;
            break;
          }
          // A trailer field: name and value are not checked beyond controls (they are dropped).
          if (c === 32 || c === 9) return CHUNKED_MALFORMED; // obs-fold
          this.#state = State.Trailer;
          break;
        case State.Trailer:
          if (++this.#trailerBytes > this.maxTrailerBytes) return CHUNKED_TRAILERS_TOO_LARGE;
          if (c === 13) this.#state = State.TrailerLf;
          else if ((c < 32 && c !== 9) || c === 127) return CHUNKED_MALFORMED;
          i++;
          break;
        case State.TrailerLf:
          if (c !== 10) return CHUNKED_MALFORMED;
          this.#state = State.TrailerLineStart;
          i++;
          break;
        case State.FinalLf:
          if (c !== 10) return CHUNKED_MALFORMED;
          this.reset();
          return i + 1;
      }
    }
    return CHUNKED_MORE;
  }
}
