// Applies the SRTP policy to a SIP message body according to its Content-Type: application/sdp
// directly, multipart/* (e.g. SIP-I: SDP + ISUP) part by part; other bodies are not media
// descriptions and pass. Returns a replacement body when crypto lines were removed.
import { applySrtpPolicy, type SdpRefusal } from "./sdp-srtp.js";

export type BodyVerdict =
  | { ok: true; body: Buffer | undefined }
  | { ok: false; reason: SdpRefusal | "unparsable_multipart" };

function mediaType(contentType: string): string {
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

export function checkBody(contentType: string | undefined, body: Buffer): BodyVerdict {
  if (body.length === 0 || contentType === undefined) return { ok: true, body: undefined };
  const type = mediaType(contentType);
  if (type === "application/sdp") {
    const v = applySrtpPolicy(body.toString("latin1"));
    if (!v.ok) return v;
    return { ok: true, body: v.rewritten === undefined ? undefined : Buffer.from(v.rewritten, "latin1") };
  }
  if (type.startsWith("multipart/")) return checkMultipart(contentType, body);
  return { ok: true, body: undefined };
}

function boundaryOf(contentType: string): string | undefined {
  const lower = contentType.toLowerCase();
  const i = lower.indexOf("boundary=");
  if (i < 0) return undefined;
  let v = contentType.slice(i + 9);
  const semi = v.indexOf(";");
  if (semi >= 0) v = v.slice(0, semi);
  v = v.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
  return v.length > 0 ? v : undefined;
}

/** RFC 2046 multipart: check each application/sdp part (recursively for nested multiparts). */
function checkMultipart(contentType: string, body: Buffer): BodyVerdict {
  const boundary = boundaryOf(contentType);
  if (!boundary) return { ok: false, reason: "unparsable_multipart" };
  const text = body.toString("latin1");
  const delim = "--" + boundary;
  let first = text.indexOf(delim);
  if (first < 0) return { ok: false, reason: "unparsable_multipart" };
  const pieces: string[] = [text.slice(0, first)];
  let changed = false;
  let pos = first;
  for (;;) {
    // pos at a delimiter
    const afterDelim = pos + delim.length;
    if (text.startsWith("--", afterDelim)) {
      pieces.push(text.slice(pos)); // close delimiter and epilogue
      break;
    }
    const lineEnd = text.indexOf("\n", afterDelim);
    if (lineEnd < 0) return { ok: false, reason: "unparsable_multipart" };
    const partStart = lineEnd + 1;
    let nextDelim = text.indexOf("\r\n" + delim, partStart);
    let sepLen = 2;
    if (nextDelim < 0) {
      nextDelim = text.indexOf("\n" + delim, partStart);
      sepLen = 1;
    }
    if (nextDelim < 0) return { ok: false, reason: "unparsable_multipart" };
    pieces.push(text.slice(pos, partStart));
    const part = text.slice(partStart, nextDelim);
    let hdrEnd = part.indexOf("\r\n\r\n");
    let hdrSep = 4;
    if (hdrEnd < 0) {
      hdrEnd = part.indexOf("\n\n");
      hdrSep = 2;
    }
    const headers = hdrEnd < 0 ? "" : part.slice(0, hdrEnd);
    const partBody = hdrEnd < 0 ? part : part.slice(hdrEnd + hdrSep);
    const ct = partContentType(headers);
    let replaced: string | undefined;
    if (ct !== undefined) {
      const t = mediaType(ct);
      if (t === "application/sdp") {
        const v = applySrtpPolicy(partBody);
        if (!v.ok) return v;
        replaced = v.rewritten;
      } else if (t.startsWith("multipart/")) {
        const v = checkMultipart(ct, Buffer.from(partBody, "latin1"));
        if (!v.ok) return v;
        if (v.body) replaced = v.body.toString("latin1");
      }
    }
    if (replaced !== undefined) {
      changed = true;
      pieces.push(part.slice(0, hdrEnd < 0 ? 0 : hdrEnd + hdrSep) + replaced);
    } else {
      pieces.push(part);
    }
    pieces.push(text.slice(nextDelim, nextDelim + sepLen));
    pos = nextDelim + sepLen;
    first = pos;
  }
  return { ok: true, body: changed ? Buffer.from(pieces.join(""), "latin1") : undefined };
}

function partContentType(headers: string): string | undefined {
  let pos = 0;
  while (pos < headers.length) {
    let eol = headers.indexOf("\n", pos);
    if (eol < 0) eol = headers.length;
    const line = headers.slice(pos, eol).replace("\r", "");
    const colon = line.indexOf(":");
    if (colon > 0) {
      const name = line.slice(0, colon).trim().toLowerCase();
      if (name === "content-type" || name === "c") return line.slice(colon + 1).trim();
    }
    pos = eol + 1;
  }
  return undefined;
}
