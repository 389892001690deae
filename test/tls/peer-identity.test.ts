// Peer identity rules (RFC 5922 §7.1): SAN dNSName/URI first, CN only without SAN, SPKI pins.
import t from "tap";
import { X509Certificate } from "node:crypto";
import { makeTestPki, type TestPki } from "../helpers/pki.js";
import { createPeerIdentity } from "../../src/tls/peer-identity.js";
import { certificateNames, parseSubjectAltName, spkiSha256 } from "../../src/tls/certificate-names.js";
import { peerSchema } from "../../src/config/schema/peers.js";

let pki: TestPki;
t.before(async () => {
  pki = await makeTestPki();
});
t.teardown(() => pki?.cleanup());

const peer = (name: string, match: Record<string, string[]>) => peerSchema.parse({ name, match });
const x = (pem: string) => new X509Certificate(pem);

t.test("SAN dNSName matches, case-insensitively; a wildcard entry matches one label", async (t) => {
  const id = createPeerIdentity([peer("a", { dnsNames: ["DEV-TRUNK.local"] })]);
  t.equal(id.match(x(pki.client.cert))?.name, "a");
  t.equal(createPeerIdentity([peer("w", { dnsNames: ["*.local"] })]).match(x(pki.client.cert))?.name, "w");
  t.equal(createPeerIdentity([peer("w", { dnsNames: ["*.trunk.local"] })]).match(x(pki.client.cert)), undefined);
});

t.test("the CN is ignored when the certificate has a SAN", async (t) => {
  const id = createPeerIdentity([peer("cn", { commonNames: ["dev-trunk"] })]);
  t.equal(id.match(x(pki.client.cert)), undefined, "client has SAN dev-trunk.local: CN not consulted");
  t.equal(id.match(x(pki.clientCnOnly.cert))?.name, "cn", "no SAN: CN is the identity");
});

t.test("URI SANs match uris entries", async (t) => {
  const id = createPeerIdentity([peer("u", { uris: ["sip:TRUNK.example.com"] })]);
  t.equal(id.match(x(pki.clientUri.cert))?.name, "u");
  t.equal(id.match(x(pki.client.cert)), undefined);
});

t.test("SPKI pins match whatever the names", async (t) => {
  const pin = spkiSha256(x(pki.unknownPeer.cert));
  t.match(pin, /^[A-Za-z0-9+/]{43}=$/);
  const id = createPeerIdentity([peer("p", { spkiSha256: [pin] })]);
  t.equal(id.match(x(pki.unknownPeer.cert))?.name, "p");
  t.equal(id.match(x(pki.client.cert)), undefined);
});

t.test("no peers configured: nobody matches", async (t) => {
  t.equal(createPeerIdentity([]).match(x(pki.client.cert)), undefined);
});

t.test("the first matching peer wins, in config order", async (t) => {
  const id = createPeerIdentity([peer("first", { dnsNames: ["dev-trunk.local"] }), peer("second", { dnsNames: ["dev-trunk.local"] })]);
  t.equal(id.match(x(pki.client.cert))?.name, "first");
});

t.test("subjectAltName parsing copes with Node's quoting", async (t) => {
  t.same(parseSubjectAltName('DNS:a.example, DNS:"b,c.example", URI:sip:x@y, IP Address:127.0.0.1'), [
    { type: "DNS", value: "a.example" },
    { type: "DNS", value: "b,c.example" },
    { type: "URI", value: "sip:x@y" },
    { type: "IP Address", value: "127.0.0.1" },
  ]);
  t.same(parseSubjectAltName(undefined), []);
  t.same(certificateNames(x(pki.client.cert)), { dnsNames: ["dev-trunk.local"], uris: [], commonName: "dev-trunk" });
});
