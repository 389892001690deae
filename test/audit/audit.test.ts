// `trunkgate audit` against real endpoints the test starts: trunkgate's own SIP listener (ready),
// and misconfigured servers: openssl s_server offering TLS 1.1 only or CHACHA20 only (and one
// allowing renegotiation, with a SIP side that never answers), a Node TLS server with an expired
// certificate. Each case asserts the finding that names what is wrong, and the verdict.
import t from "tap";
import { addDays } from "../../src/pki/issue.js";
import { startGateway, testPki } from "../sip/e2e/harness.js";
import { waitFor } from "../helpers/openssl.js";
import { audit, fakeCarrier, get, sServer, silentServer } from "./harness.js";

t.test("trunkgate's own SIP listener is ready", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 1 }] }] });
  t.teardown(() => gw.stop());
  const r = await audit(gw.port, { expectedPeer: "carrier" });
  const failed = r.findings.filter((f) => f.level === "fail" || f.level === "warn");
  t.same(failed, [], "no failure and no warning");
  t.equal(r.ready, true);
  t.equal(get(r, "tls.policy").level, "pass");
  // The gateway under test serves an ECDSA certificate only: the six ECDHE-ECDSA/TLS 1.3 suites.
  t.match(get(r, "tls.suites.policy").message, /accepts 6 of the ten policy suites: TLS_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256, ECDHE-ECDSA/);
  t.equal(get(r, "tls.suites.other").level, "pass");
  t.equal(get(r, "tls.version.tls1_1").level, "pass");
  t.equal(get(r, "tls.renegotiation").level, "pass");
  t.equal(get(r, "cert.chain").level, "pass");
  t.equal(get(r, "cert.peer").level, "pass");
  t.equal(get(r, "mtls.client_certificate").level, "pass");
  t.equal(get(r, "mtls.requires_certificate").level, "pass");
  t.match(get(r, "sip.options").message, /OPTIONS answered 200/);
});

t.test("a client certificate the endpoint refuses is named, with the root to trust", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 1 }] }] });
  t.teardown(() => gw.stop());
  const pki = await testPki();
  const r = await audit(gw.port, { identity: { cert: pki.foreign.cert, key: pki.foreign.key } });
  t.equal(r.ready, false);
  const m = get(r, "mtls.client_certificate");
  t.equal(m.level, "fail");
  t.match(m.message, /client certificate/);
  t.match(m.fix ?? "", /trust .* for client certificates \(trunkgate presents dev-trunk\)/);
});

t.test("TLS 1.1 only (openssl s_server)", async (t) => {
  const port = await sServer(t, ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
  const r = await audit(port);
  t.equal(r.ready, false);
  t.equal(get(r, "tls.version.tls1_1").level, "fail");
  t.equal(get(r, "tls.policy").level, "fail");
  t.equal(get(r, "tls.version.tls1_3").level, "warn");
});

t.test("CHACHA20 only (openssl s_server)", async (t) => {
  const port = await sServer(t, ["-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"]);
  const r = await audit(port);
  t.equal(r.ready, false);
  t.equal(get(r, "tls.policy").level, "fail");
  t.equal(get(r, "tls.suites.policy").level, "fail");
  t.equal(get(r, "tls.suites.other.TLS_CHACHA20_POLY1305_SHA256").level, "warn");
  t.equal(get(r, "tls.suites.other.ECDHE-ECDSA-CHACHA20-POLY1305").level, "warn");
  t.equal(get(r, "tls.version.tls1_3").level, "pass", "the version is accepted, only the suites are wrong");
  t.equal(get(r, "tls.groups").level, "pass");
  t.equal(get(r, "mtls.requires_certificate").level, "info", "not judged without a policy handshake");
});

t.test("policy plus CHACHA20, renegotiation allowed, a SIP side that never answers (openssl s_server)", async (t) => {
  const port = await sServer(t, ["-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256", "-client_renegotiation"]);
  const r = await audit(port);
  t.equal(get(r, "tls.policy").level, "pass");
  t.equal(get(r, "tls.suites.other.TLS_CHACHA20_POLY1305_SHA256").level, "warn", "outside suite is a finding");
  t.equal(get(r, "tls.renegotiation").level, "warn");
  t.equal(get(r, "sip.options").level, "fail");
  t.match(get(r, "sip.options").message, /no answer to OPTIONS/);
  t.equal(get(r, "mtls.requires_certificate").level, "warn", "s_server asks for no client certificate");
  t.equal(r.ready, false);
});

t.test("an expired server certificate, over a real handshake", async (t) => {
  const pki = await testPki();
  const expired = await pki.issue({ name: "audit-expired", notBefore: addDays(new Date(), -30), notAfter: addDays(new Date(), -1) });
  const e = await audit((await silentServer(t, expired, pki.ca.cert)).port);
  t.equal(get(e, "cert.chain").level, "fail");
  t.match(get(e, "cert.chain").message, /expired/);
  t.equal(get(e, "cert.days_left").level, "fail");
  t.equal(e.ready, false);
});

t.test("--invite: an SRTP offer, cancelled on the first provisional, then ACKed", async (t) => {
  const c = await fakeCarrier(t, {});
  const r = await audit(c.port, { invite: "+15551230000" });
  t.match(get(r, "sip.options"), { level: "pass", detail: ["Server: fake-sbc/1.0", "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"] });
  t.match(get(r, "sip.invite"), { level: "pass", message: /cancelled \(487\)/ });
  t.equal(get(r, "sip.invite.answer.180").level, "pass", "the 180's SDP answer is SRTP");
  // The ACK travels on its own; the audit does not wait for the carrier to read it.
  await waitFor(() => c.methods.includes("ACK"), 30_000, "the ACK at the carrier");
  t.same(c.methods.filter((m) => m !== "OPTIONS"), ["INVITE", "CANCEL", "ACK"]);
  t.equal(r.ready, true);
});

t.test("--invite: a carrier refusing the SRTP offer with 488 fails", async (t) => {
  const c = await fakeCarrier(t, { inviteStatus: 488 });
  const r = await audit(c.port, { invite: "+15551230000" });
  t.match(get(r, "sip.invite"), { level: "fail", message: /488/ });
  // A CANCEL may cross the 488 (the 100 came first): either way the 488 is acknowledged.
  await waitFor(() => c.methods.includes("ACK"), 30_000, "the ACK at the carrier");
  t.match(c.methods.filter((m) => m !== "OPTIONS").join(","), /^INVITE,(CANCEL,)?ACK$/);
  t.equal(r.ready, false);
});
