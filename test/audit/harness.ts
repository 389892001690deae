// Endpoints for the audit tests: the auditor's configuration (it presents the dev-trunk
// certificate), a Node TLS server that never answers SIP, and openssl s_server as a misconfigured
// carrier endpoint. Everything on ephemeral loopback ports, torn down with the test.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { stringify } from "yaml";
import type { Test } from "tap";
import { runAudit, type AuditOptions } from "../../src/audit/audit.js";
import type { AuditReport, Finding } from "../../src/audit/findings.js";
import { parseConfig } from "../../src/config/load.js";
import { loadTlsMaterial } from "../../src/tls/material.js";
import { policyOptions } from "../../src/tls/policy.js";
import { freeTcpPort } from "../helpers/sipp.js";
import { testPki } from "../sip/e2e/harness.js";

export const TIMEOUT_MS = 3000;

export async function auditorConfig() {
  const pki = await testPki();
  const raw = {
    tls: {
      certificates: [{ cert: pki.serverEcdsa.certPath, key: pki.serverEcdsa.keyPath }],
      // The auditor presents the dev-trunk certificate, which the gateway under test accepts.
      clientCertificate: { cert: pki.client.certPath, key: pki.client.keyPath },
      trust: { bundledRoots: false, extraRoots: [pki.ca.certPath], crls: [] },
      watch: false,
    },
    peers: [{ name: "carrier", match: { dnsNames: ["localhost"] }, sip: { targets: [{ host: "127.0.0.1", port: 5061 }] } }],
  };
  const cfg = parseConfig(stringify(raw), "audit-test");
  return { pki, cfg, material: loadTlsMaterial(cfg.tls), yaml: stringify(raw) };
}

export async function audit(port: number, extra: Partial<AuditOptions> = {}): Promise<AuditReport> {
  const { cfg, material } = await auditorConfig();
  return runAudit(cfg, material, { host: "127.0.0.1", port, serverName: undefined, expectedPeer: undefined, invite: undefined, timeoutMs: TIMEOUT_MS, identity: undefined, ...extra });
}

export function get(r: AuditReport, id: string): Finding {
  const f = r.findings.find((x) => x.id === id);
  if (!f) throw new Error(`no finding ${id} in ${r.findings.map((x) => x.id).join(", ")}`);
  return f;
}

/** A TLS server with the policy and one server certificate, that never answers SIP. */
export async function silentServer(t: Test, cert: { cert: string; key: string }, caPem: string): Promise<{ port: number; server: Server }> {
  const sockets = new Set<TLSSocket>();
  const server = createServer({ ...policyOptions(), cert: cert.cert, key: cert.key, ca: caPem, requestCert: true, rejectUnauthorized: true }, (s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, server };
}

/** openssl s_server as a misconfigured carrier endpoint; resolves once it accepts. */
export async function sServer(t: Test, args: string[]): Promise<number> {
  const pki = await testPki();
  const port = await freeTcpPort();
  const child: ChildProcess = spawn("openssl", ["s_server", "-accept", `127.0.0.1:${port}`, "-cert", pki.serverEcdsa.certPath, "-key", pki.serverEcdsa.keyPath, "-quiet", ...args], { stdio: ["pipe", "ignore", "pipe"] });
  t.teardown(() => child.kill("SIGKILL"));
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  // Bounded wait on the port accepting connections.
  const { connect } = await import("node:net");
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, "127.0.0.1", () => { s.destroy(); res(true); });
      s.on("error", () => res(false));
    });
    if (ok) return port;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`openssl s_server did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


/**
 * A carrier SBC in miniature, over mutual TLS: answers OPTIONS 200; an INVITE gets 100 then 180
 * with an SRTP answer ("cancel": waits for the CANCEL, answers it 200 and the INVITE 487) or a
 * final `inviteStatus` at once. Records the methods it received, in order.
 */
export async function fakeCarrier(t: Test, behaviour: { inviteStatus?: number }): Promise<{ port: number; methods: string[] }> {
  const pki = await testPki();
  const { SipStreamFramer } = await import("../../src/sip/transport/framing.js");
  const { parseMessage } = await import("../../src/sip/parse/message.js");
  const { buildResponse } = await import("../../src/sip/message/build.js");
  const methods: string[] = [];
  const answer = Buffer.from("v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n");
  const sockets = new Set<TLSSocket>();
  const server = createServer({ ...policyOptions(), cert: pki.serverEcdsa.cert, key: pki.serverEcdsa.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    const framer = new SipStreamFramer();
    let invite: import("../../src/sip/parse/message.js").SipRequest | undefined;
    s.on("data", (chunk: Buffer) => {
      for (const ev of framer.push(chunk)) {
        if (ev.type !== "message") continue;
        const r = parseMessage(ev.message);
        if (!r.ok || r.message.kind !== "request") continue;
        const req = r.message;
        methods.push(req.method);
        if (req.method === "OPTIONS") s.write(buildResponse(req, 200, "OK", { headers: [["Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"], ["Server", "fake-sbc/1.0"]] }));
        else if (req.method === "INVITE") {
          invite = req;
          s.write(buildResponse(req, 100, "Trying"));
          if (behaviour.inviteStatus !== undefined) s.write(buildResponse(req, behaviour.inviteStatus, "Final", { toTag: "c1" }));
          else s.write(buildResponse(req, 180, "Ringing", { toTag: "c1", body: answer, contentType: "application/sdp" }));
        } else if (req.method === "CANCEL" && invite) {
          s.write(buildResponse(req, 200, "OK", { toTag: "c1" }));
          s.write(buildResponse(invite, 487, "Request Terminated", { toTag: "c1" }));
        }
      }
    });
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, methods };
}
