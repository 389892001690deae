// SRTP-only media policy for one SDP document (RFC 4566 lines, RFC 4568 a=crypto).
//
// Every audio/video m-line that is in use (port ≠ 0) must be RTP/SAVP or RTP/SAVPF and carry an
// a=crypto line with AES_CM_128_HMAC_SHA1_80 (without session parameters that switch encryption
// or authentication off). Crypto lines with any other suite are removed, so only the one allowed
// suite reaches the far side. Other media (image/T.38, application, text) are left alone.
//
// Key material (the inline: parameter) never leaves this function: reasons are fixed strings.
// Plain line scanning, no regular expressions: this runs on every INVITE/UPDATE/2xx with SDP.

export const ALLOWED_SUITE = "AES_CM_128_HMAC_SHA1_80";

export type SdpVerdict =
  | { ok: true; /** Rewritten SDP when crypto lines were removed, else undefined. */ rewritten: string | undefined }
  | { ok: false; reason: SdpRefusal };

/** Fixed reasons (safe for logs and the 488 Warning text). */
export type SdpRefusal = "insecure_transport" | "no_allowed_crypto" | "malformed_sdp";

const CRYPTO_PREFIX = "a=crypto:";

function isSecureProto(proto: string): boolean {
  // Protocol names are case-sensitive in SDP, but some stacks lower-case them: accept both.
  const p = proto.length <= 10 ? proto.toUpperCase() : proto;
  return p === "RTP/SAVP" || p === "RTP/SAVPF";
}

/** Whether one a=crypto line offers the allowed suite with encryption and authentication on. */
function isAllowedCrypto(line: string): boolean {
  // a=crypto:<tag> <suite> <key-params> [<session-params>]
  const sp1 = line.indexOf(" ", CRYPTO_PREFIX.length);
  if (sp1 < 0) return false;
  let i = sp1;
  while (line.charCodeAt(i) === 32) i++;
  const sp2 = line.indexOf(" ", i);
  const suite = sp2 < 0 ? line.slice(i) : line.slice(i, sp2);
  if (suite !== ALLOWED_SUITE || sp2 < 0) return false;
  if (line.indexOf("inline:", sp2) < 0) return false;
  return line.indexOf("UNENCRYPTED_SRTP", sp2) < 0 && line.indexOf("UNAUTHENTICATED_SRTP", sp2) < 0;
}

/**
 * Checks (and trims) one SDP document. `sdp` is the body decoded as latin1 (SDP is ASCII or
 * UTF-8; latin1 round-trips every byte, so a rewritten body is byte-identical elsewhere).
 */
export function applySrtpPolicy(sdp: string): SdpVerdict {
  let pos = 0;
  const n = sdp.length;
  // Current media section state.
  let inMedia = false;
  let needsCrypto = false;
  let hasAllowed = false;
  let sawMedia = false;
  let drops: number[] | undefined; // [start, end) spans of removed crypto lines

  while (pos < n) {
    let eol = sdp.indexOf("\n", pos);
    if (eol < 0) eol = n;
    const lineEnd = eol > pos && sdp.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
    const next = eol < n ? eol + 1 : n;
    const c0 = sdp.charCodeAt(pos);
    if (c0 === 109 /* m */ && sdp.charCodeAt(pos + 1) === 61 /* = */) {
      if (inMedia && needsCrypto && !hasAllowed) return { ok: false, reason: "no_allowed_crypto" };
      inMedia = true;
      sawMedia = true;
      hasAllowed = false;
      // m=<media> <port>[/<n>] <proto> <fmt> ...
      const sp1 = sdp.indexOf(" ", pos + 2);
      const sp2 = sp1 < 0 ? -1 : sdp.indexOf(" ", sp1 + 1);
      if (sp1 < 0 || sp2 < 0 || sp1 > lineEnd || sp2 > lineEnd) return { ok: false, reason: "malformed_sdp" };
      const sp3 = sdp.indexOf(" ", sp2 + 1);
      const protoEnd = sp3 < 0 || sp3 > lineEnd ? lineEnd : sp3;
      const media = sdp.slice(pos + 2, sp1);
      const port0 = sdp.charCodeAt(sp1 + 1) === 48 /* 0 */ && (sp1 + 2 === sp2 || sdp.charCodeAt(sp1 + 2) === 47); /* "0" or "0/n" */
      needsCrypto = (media === "audio" || media === "video") && !port0;
      if (needsCrypto && !isSecureProto(sdp.slice(sp2 + 1, protoEnd))) return { ok: false, reason: "insecure_transport" };
    } else if (c0 === 97 /* a */ && sdp.startsWith(CRYPTO_PREFIX, pos)) {
      const line = sdp.slice(pos, lineEnd);
      if (isAllowedCrypto(line)) {
        if (inMedia) hasAllowed = true;
      } else {
        (drops ??= []).push(pos, next);
      }
    }
    pos = next;
  }
  if (inMedia && needsCrypto && !hasAllowed) return { ok: false, reason: "no_allowed_crypto" };
  if (!sawMedia && n > 0 && sdp.indexOf("v=") < 0) return { ok: false, reason: "malformed_sdp" };
  if (drops === undefined) return { ok: true, rewritten: undefined };
  let out = "";
  let from = 0;
  for (let i = 0; i < drops.length; i += 2) {
    out += sdp.slice(from, drops[i]);
    from = drops[i + 1]!;
  }
  return { ok: true, rewritten: out + sdp.slice(from) };
}
