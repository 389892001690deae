// The certificate checks are pure: each case hands them a chain and the verdict OpenSSL gave, as
// the handshake would (the audit's endpoint tests prove that wiring over real connections).
import { X509Certificate } from "node:crypto";
import t from "tap";
import { certificateFindings, type CertificateInput } from "../../src/audit/certificate-checks.js";
import type { Finding } from "../../src/audit/findings.js";
import { parseConfig } from "../../src/config/load.js";
import { addDays } from "../../src/pki/issue.js";
import { testPki } from "../sip/e2e/harness.js";

const peers = parseConfig("peers:\n  - name: carrier\n    match: { dnsNames: [localhost] }\n", "t").peers;

async function input(over: Partial<CertificateInput> & { pem: string }): Promise<CertificateInput> {
  const pki = await testPki();
  return {
    chain: [new X509Certificate(over.pem)],
    authorized: true,
    authorizationError: undefined,
    trustedRoots: [new X509Certificate(pki.ca.cert)],
    host: "127.0.0.1",
    serverName: undefined,
    port: 5061,
    peers,
    expectedPeer: undefined,
    now: new Date(),
    ...over,
  };
}

function get(fs: Finding[], id: string): Finding {
  const f = fs.find((x) => x.id === id);
  if (!f) throw new Error(`no finding ${id} in ${fs.map((x) => x.id).join(", ")}`);
  return f;
}

t.test("a good certificate of a configured peer", async (t) => {
  const pki = await testPki();
  const fs = certificateFindings(await input({ pem: pki.serverEcdsa.cert, expectedPeer: "carrier" }));
  t.same(fs.filter((f) => f.level === "fail" || f.level === "warn"), []);
  t.match(get(fs, "cert.chain").message, /trusted root/);
  t.match(get(fs, "cert.key").message, /ECDSA key on prime256v1/);
  t.match(get(fs, "cert.peer").message, /peer carrier/);
});

t.test("unknown root, self-signed, incomplete chain are named with the fix", async (t) => {
  const pki = await testPki();
  const foreign = await pki.issue({ name: "audit-foreign", issuer: "foreignCa" });
  const f1 = certificateFindings(await input({ pem: foreign.cert, authorized: false, authorizationError: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" }));
  t.equal(get(f1, "cert.chain").level, "fail");
  t.match(get(f1, "cert.chain").fix ?? "", /DigiCert Global Root G2/);
  const f2 = certificateFindings(await input({ pem: pki.selfSigned.cert, authorized: false, authorizationError: "DEPTH_ZERO_SELF_SIGNED_CERT" }));
  t.match(get(f2, "cert.chain").message, /self-signed/);
});

t.test("expiry: warn under 30 days, fail under 7 and when expired", async (t) => {
  const pki = await testPki();
  const soon = await pki.issue({ name: "audit-soon", notAfter: addDays(new Date(), 20) });
  const verySoon = await pki.issue({ name: "audit-very-soon", notAfter: addDays(new Date(), 3) });
  t.equal(get(certificateFindings(await input({ pem: soon.cert })), "cert.days_left").level, "warn");
  t.equal(get(certificateFindings(await input({ pem: verySoon.cert })), "cert.days_left").level, "fail");
});

t.test("names: no SAN, a name it does not carry", async (t) => {
  const pki = await testPki();
  const noSan = await pki.issue({ name: "audit-nosan", dns: [], ip: [] });
  t.equal(get(certificateFindings(await input({ pem: noSan.cert })), "cert.san").level, "fail");
  const fs = certificateFindings(await input({ pem: pki.serverEcdsa.cert, serverName: "sbc.carrier.example" }));
  t.equal(get(fs, "cert.name").level, "fail");
  t.match(get(fs, "cert.name").fix ?? "", /serverName/);
});

t.test("EKU: serverAuth required, clientAuth noted", async (t) => {
  const pki = await testPki();
  // The dev-trunk client certificate has clientAuth only.
  const fs = certificateFindings(await input({ pem: pki.client.cert }));
  t.equal(get(fs, "cert.eku").level, "fail");
  t.equal(get(certificateFindings(await input({ pem: pki.serverEcdsa.cert })), "cert.eku.client").level, "info");
});

t.test("RSA key size is reported", async (t) => {
  const pki = await testPki();
  t.match(get(certificateFindings(await input({ pem: pki.serverRsa.cert })), "cert.key"), { level: "pass", message: /RSA-2048/ });
});

t.test("peer: a suggestion as YAML without --peer, a failure with a --peer it does not match", async (t) => {
  const pki = await testPki();
  const other = await pki.issue({ name: "audit-other", dns: ["sbc.carrier.example"], ip: ["127.0.0.1"] });
  const fs = certificateFindings(await input({ pem: other.cert }));
  t.equal(get(fs, "cert.peer").level, "info");
  const yaml = (get(fs, "cert.peer").detail ?? []).join("\n");
  t.match(yaml, /- name: sbc\.carrier\.example/);
  t.match(yaml, /match: \{ dnsNames: \[sbc\.carrier\.example\] \}/);
  t.match(yaml, /targets: \[\{ host: 127\.0\.0\.1, port: 5061 \}\]/);
  t.equal(get(certificateFindings(await input({ pem: other.cert, expectedPeer: "carrier" })), "cert.peer").level, "fail");
});
