// SRTP-only media policy on SDP and multipart bodies.
import t from "tap";
import { checkBody } from "../../../src/sip/media/body-policy.js";
import { applySrtpPolicy } from "../../../src/sip/media/sdp-srtp.js";

const head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";
const good = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32\r\n";

t.test("audio over RTP/SAVP with AES_CM_128_HMAC_SHA1_80 passes unchanged", async (t) => {
  const v = applySrtpPolicy(head + "m=audio 4000 RTP/SAVP 0\r\n" + good);
  t.same(v, { ok: true, rewritten: undefined });
  t.same(applySrtpPolicy(head + "m=video 4002 RTP/SAVPF 96\r\n" + good), { ok: true, rewritten: undefined }, "SAVPF too");
});

t.test("refusals", async (t) => {
  t.same(applySrtpPolicy(head + "m=audio 4000 RTP/AVP 0\r\n"), { ok: false, reason: "insecure_transport" });
  t.same(applySrtpPolicy(head + "m=audio 4000 UDP/TLS/RTP/SAVP 0\r\na=fingerprint:sha-256 AB\r\n"), { ok: false, reason: "insecure_transport" }, "DTLS-SRTP is not SDES");
  t.same(applySrtpPolicy(head + "m=audio 4000 RTP/SAVP 0\r\n"), { ok: false, reason: "no_allowed_crypto" });
  t.same(applySrtpPolicy(head + "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:abc\r\n"), { ok: false, reason: "no_allowed_crypto" });
  t.same(applySrtpPolicy(head + "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc UNENCRYPTED_SRTP\r\n"), { ok: false, reason: "no_allowed_crypto" }, "no unencrypted session params");
  t.same(applySrtpPolicy(head + "m=audio 4000 RTP/SAVP 0\r\n" + good + "m=video 4002 RTP/SAVP 96\r\n"), { ok: false, reason: "no_allowed_crypto" }, "every m-line is checked");
  t.same(applySrtpPolicy(head + "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:x\r\nm=video 1 RTP/SAVP 9\r\n" + good), { ok: false, reason: "no_allowed_crypto" }, "crypto of another m-line does not count");
});

t.test("disabled streams and non-RTP media pass", async (t) => {
  t.same(applySrtpPolicy(head + "m=audio 4000 RTP/SAVP 0\r\n" + good + "m=video 0 RTP/AVP 96\r\n"), { ok: true, rewritten: undefined });
  t.same(applySrtpPolicy(head + "m=audio 4000 RTP/SAVP 0\r\n" + good + "m=image 4004 udptl t38\r\n"), { ok: true, rewritten: undefined });
});

t.test("other suites are removed; the rest is byte-identical", async (t) => {
  const sdp = head + "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:zzz\r\n" + good + "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:yyy\r\na=rtpmap:0 PCMU/8000\r\n";
  const v = applySrtpPolicy(sdp);
  t.same(v, { ok: true, rewritten: head + "m=audio 4000 RTP/SAVP 0\r\n" + good + "a=rtpmap:0 PCMU/8000\r\n" });
  const lf = sdp.replace(/\r\n/g, "\n");
  const v2 = applySrtpPolicy(lf);
  t.ok(v2.ok && v2.rewritten !== undefined && !v2.rewritten.includes("yyy") && v2.rewritten.includes("a=rtpmap"), "bare LF line ends too");
});

t.test("bodies: by Content-Type, multipart part by part", async (t) => {
  const ok = head + "m=audio 4000 RTP/SAVP 0\r\n" + good;
  t.same(checkBody("application/sdp", Buffer.from(ok)), { ok: true, body: undefined });
  t.same(checkBody("Application/SDP; charset=x", Buffer.from(head + "m=audio 1 RTP/AVP 0\r\n")), { ok: false, reason: "insecure_transport" });
  t.same(checkBody("application/isup", Buffer.from("\x01\x02")), { ok: true, body: undefined });
  const mp = (sdp: string) => Buffer.from(["--b1", "Content-Type: application/sdp", "", sdp + "--b1", "Content-Type: application/isup", "", "xx", "--b1--", ""].join("\r\n"));
  t.same(checkBody('multipart/mixed;boundary="b1"', mp(head + "m=audio 1 RTP/AVP 0\r\n")), { ok: false, reason: "insecure_transport" }, "SDP inside multipart checked");
  const v = checkBody("multipart/mixed;boundary=b1", mp(ok + "a=crypto:9 F8_128_HMAC_SHA1_80 inline:q\r\n"));
  t.ok(v.ok && v.body !== undefined && !v.body.toString().includes("F8_128") && v.body.toString().includes("application/isup"), "rewritten inside the multipart");
  t.same(checkBody("multipart/mixed", Buffer.from("x")), { ok: false, reason: "unparsable_multipart" });
});
