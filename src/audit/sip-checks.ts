// Mutual TLS and SIP, over real connections: does the endpoint accept trunkgate's client
// certificate and refuse a client without one; does it answer OPTIONS; and, when asked, how does it
// answer a test INVITE with an SRTP offer (cancelled as soon as it is being processed).
import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { buildAckForNon2xx, buildCancel, buildRequest, newBranch, newTag } from "../sip/message/build.js";
import { parseMessage, type SipRequest, type SipResponse } from "../sip/parse/message.js";
import { checkBody } from "../sip/media/body-policy.js";
import { ALLOWED_SUITE } from "../sip/media/sdp-srtp.js";
import { policyOptions } from "../tls/policy.js";
import { VERSION } from "../version.js";
import { finding, type Finding } from "./findings.js";
import { SipSession } from "./sip-session.js";
import { isCertificateRefusal, negotiated } from "./tls-checks.js";
import { probeTls, type ClientIdentity, type ProbeTarget } from "./tls-probe.js";

export interface SipAuditOptions {
  /** Subject/issuer of trunkgate's client certificate, and the trusted root it chains to. */
  clientSubject: string;
  clientRoot: string;
  /** --invite NUMBER */
  invite: string | undefined;
}

function hostPart(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

function policyProbe() {
  const p = policyOptions();
  return { minVersion: p.minVersion, maxVersion: p.maxVersion, ciphers: p.ciphers as string, keepOpen: true } as const;
}

function optionsRequest(t: ProbeTarget, s: SipSession): { buf: Buffer; callId: string } {
  const callId = `audit-${randomBytes(8).toString("hex")}`;
  const buf = buildRequest({
    method: "OPTIONS",
    requestUri: `sip:${hostPart(t.host)}:${t.port};transport=tls`,
    via: `SIP/2.0/TLS ${hostPart(s.localAddress)}:${s.localPort};branch=${newBranch()};rport`,
    from: `<sip:audit@${hostPart(s.localAddress)}>;tag=${newTag()}`,
    to: `<sip:${hostPart(t.host)}:${t.port}>`,
    callId,
    cseq: 1,
    headers: [["Accept", "application/sdp"], ["User-Agent", `trunkgate-audit/${VERSION}`]],
  });
  return { buf, callId };
}

function describeOptions(r: SipResponse): string[] {
  const lines: string[] = [];
  for (const h of ["Server", "User-Agent", "Allow", "Supported"]) {
    const v = r.getHeader(h);
    if (v !== undefined) lines.push(`${h}: ${v.slice(0, 200)}`);
  }
  return lines;
}

export async function auditSip(t: ProbeTarget, identity: ClientIdentity, o: SipAuditOptions): Promise<Finding[]> {
  const f: Finding[] = [];
  const refusalFix = `trust ${o.clientRoot} for client certificates (trunkgate presents ${o.clientSubject})`;
  const conn = await probeTls(t, { identity, ...policyProbe() });
  if (!conn.socket) {
    f.push(isCertificateRefusal(conn)
      ? finding("mtls", "mtls.client_certificate", "fail", `refuses trunkgate's client certificate (${conn.error})`, refusalFix)
      : finding("mtls", "mtls.client_certificate", "fail", `no TLS connection with trunkgate's client certificate (${conn.error ?? "failed"})`));
    f.push(finding("sip", "sip.options", "fail", "OPTIONS not sent: no connection"));
    f.push(isCertificateRefusal(conn) ? await withoutCertificate(t)
      : finding("mtls", "mtls.requires_certificate", "info", "not tested: no handshake with trunkgate's policy"));
    return f;
  }
  const session = new SipSession(conn.socket);
  try {
    const { buf, callId } = optionsRequest(t, session);
    session.send(buf);
    const out = await session.next(callId, "OPTIONS", t.timeoutMs, (r) => r.status >= 200);
    if (out.kind === "response") {
      f.push(finding("mtls", "mtls.client_certificate", "pass", `accepts trunkgate's client certificate (${o.clientSubject})`));
      const r = out.response;
      f.push(finding("sip", "sip.options", r.status >= 500 ? "warn" : "pass", `OPTIONS answered ${r.status} ${r.reason}`,
        r.status >= 500 ? "answer OPTIONS with 200 when in service (trunkgate's health checks use them)" : undefined, describeOptions(r)));
      if (o.invite !== undefined) f.push(...(await testInvite(t, session, o.invite)));
    } else if (out.kind === "closed" && out.reason.startsWith("alert ")) {
      f.push(finding("mtls", "mtls.client_certificate", "fail", `refuses trunkgate's client certificate (${out.reason})`, refusalFix));
      f.push(finding("sip", "sip.options", "fail", "OPTIONS not answered: the connection was refused"));
    } else if (out.kind === "closed") {
      // A SIP server does not hang up on an OPTIONS: the certificate was refused without an alert.
      f.push(finding("mtls", "mtls.client_certificate", "fail", `connection closed without an answer (${out.reason}): trunkgate's client certificate was probably refused, with no TLS alert saying why`, refusalFix));
      f.push(finding("sip", "sip.options", "fail", "OPTIONS not answered: the connection was closed"));
    } else {
      f.push(finding("mtls", "mtls.client_certificate", "pass", `TLS connection with trunkgate's client certificate kept (no alert)`));
      f.push(finding("sip", "sip.options", "fail",
        `no answer to OPTIONS within ${t.timeoutMs} ms`,
        "answer SIP OPTIONS over TLS (trunkgate's health checks send them)"));
    }
  } finally {
    session.close();
  }
  f.push(await withoutCertificate(t));
  return f;
}

/** Mutual TLS means a client without a certificate gets nothing: no handshake, or no SIP. */
async function withoutCertificate(t: ProbeTarget): Promise<Finding> {
  const r = await probeTls(t, policyProbe());
  if (!r.socket) {
    return negotiated(r) || r.error !== undefined
      ? finding("mtls", "mtls.requires_certificate", "pass", `refuses a client without a certificate (${r.error ?? "refused"})`)
      : finding("mtls", "mtls.requires_certificate", "pass", "refuses a client without a certificate");
  }
  const s = new SipSession(r.socket);
  try {
    const { buf, callId } = optionsRequest(t, s);
    s.send(buf);
    const out = await s.next(callId, "OPTIONS", t.timeoutMs, (res) => res.status >= 200);
    if (out.kind === "response") {
      return finding("mtls", "mtls.requires_certificate", "fail", `answers SIP without a client certificate (${out.response.status})`, "require a client certificate (mutual TLS)");
    }
    if (out.kind === "closed") return finding("mtls", "mtls.requires_certificate", "pass", `refuses a client without a certificate (${out.reason})`);
    return finding("mtls", "mtls.requires_certificate", "warn", "completes a handshake without a client certificate (no SIP answer seen)", "require a client certificate in the handshake");
  } finally {
    s.close();
  }
}

function srtpOffer(local: string): Buffer {
  const key = randomBytes(30).toString("base64");
  const ip = isIP(local) === 6 ? `IN IP6 ${local}` : `IN IP4 ${local}`;
  return Buffer.from(
    `v=0\r\no=trunkgate-audit 1 1 ${ip}\r\ns=-\r\nc=${ip}\r\nt=0 0\r\n` +
      `m=audio 40000 RTP/SAVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n` +
      `a=crypto:1 ${ALLOWED_SUITE} inline:${key}\r\na=sendrecv\r\n`,
    "latin1",
  );
}

/** A test INVITE with an SRTP offer, cancelled on its first provisional response. */
async function testInvite(t: ProbeTarget, s: SipSession, number: string): Promise<Finding[]> {
  const callId = `audit-${randomBytes(8).toString("hex")}`;
  const buf = buildRequest({
    method: "INVITE",
    requestUri: `sip:${number}@${hostPart(t.host)}:${t.port};transport=tls`,
    via: `SIP/2.0/TLS ${hostPart(s.localAddress)}:${s.localPort};branch=${newBranch()};rport`,
    from: `<sip:audit@${hostPart(s.localAddress)}>;tag=${newTag()}`,
    to: `<sip:${number}@${hostPart(t.host)}>`,
    callId,
    cseq: 1,
    headers: [["Contact", `<sip:audit@${hostPart(s.localAddress)}:${s.localPort};transport=tls>`], ["User-Agent", `trunkgate-audit/${VERSION}`]],
    body: srtpOffer(s.localAddress),
    contentType: "application/sdp",
  });
  const sent = parseMessage(buf);
  if (!sent.ok || sent.message.kind !== "request") return [finding("sip", "sip.invite", "fail", "could not build the test INVITE")];
  const invite: SipRequest = sent.message;
  s.send(buf);
  let cancelled = false;
  const f: Finding[] = [];
  for (;;) {
    const out = await s.next(callId, "INVITE", t.timeoutMs);
    if (out.kind !== "response") {
      f.push(finding("sip", "sip.invite", "fail", out.kind === "timeout" ? `no answer to the test INVITE within ${t.timeoutMs} ms` : `test INVITE: ${out.reason}`));
      return f;
    }
    const r = out.response;
    if (r.status >= 101 && r.body.length > 0) f.push(answerFinding(r));
    if (r.status < 200) {
      if (!cancelled) {
        cancelled = true;
        s.send(buildCancel(invite));
      }
      continue;
    }
    if (r.status < 300) {
      // It answered before the CANCEL took effect: acknowledge and hang up at once.
      const to = r.getHeader("To") ?? "";
      const common = `Via: SIP/2.0/TLS ${hostPart(s.localAddress)}:${s.localPort};branch=${newBranch()};rport\r\nMax-Forwards: 70\r\n` +
        `From: ${invite.getHeader("From")}\r\nTo: ${to}\r\nCall-ID: ${callId}\r\n`;
      s.send(Buffer.from(`ACK ${invite.requestUri} SIP/2.0\r\n${common}CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n`));
      s.send(Buffer.from(`BYE ${invite.requestUri} SIP/2.0\r\n${common.replace(/branch=[^;\r]+/, `branch=${newBranch()}`)}CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n`));
      f.push(finding("sip", "sip.invite", "warn", `test INVITE was answered ${r.status} before the CANCEL (hung up with BYE)`, "use a test number that does not answer, or expect a short call"));
      return f;
    }
    s.send(buildAckForNon2xx(invite, r));
    if (r.status === 487) f.push(finding("sip", "sip.invite", "pass", "test INVITE with an SRTP offer accepted for processing, then cancelled (487)"));
    else if (r.status === 488 || r.status === 415 || r.status === 606) {
      f.push(finding("sip", "sip.invite", "fail", `test INVITE refused ${r.status} ${r.reason}: the SRTP offer (${ALLOWED_SUITE}) is not accepted`, `accept RTP/SAVP with a=crypto ${ALLOWED_SUITE}`));
    } else f.push(finding("sip", "sip.invite", "warn", `test INVITE answered ${r.status} ${r.reason}`, "check the number and the carrier's routing for it"));
    return f;
  }
}

function answerFinding(r: SipResponse): Finding {
  const v = checkBody(r.contentType, r.body);
  return v.ok
    ? finding("sip", `sip.invite.answer.${r.status}`, "pass", `${r.status} carries an SRTP answer with ${ALLOWED_SUITE}`)
    : finding("sip", `sip.invite.answer.${r.status}`, "fail", `${r.status} carries an SDP answer trunkgate refuses (${v.reason})`, `answer with RTP/SAVP and a=crypto ${ALLOWED_SUITE}`);
}
