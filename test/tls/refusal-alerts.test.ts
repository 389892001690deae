// Issue 13 item 4: a refused client is told why by a TLS alert (openssl s_client prints it), on
// TLS 1.3 (encrypted with the server's application traffic key) and TLS 1.2 (before the server's
// ChangeCipherSpec), instead of a bare close; an accepted client is unaffected.
import t from "tap";
import type { CertFiles } from "../helpers/pki.js";
import { edgeWithCrl } from "../helpers/edge.js";
import { sClient } from "../helpers/openssl.js";

const { pki, edge } = await edgeWithCrl(t);

const args = (c: CertFiles, version: string) => ["-cert", c.certPath, "-key", c.keyPath, "-CAfile", pki.ca.certPath, version];

const cases: [string, () => CertFiles, RegExp][] = [
  ["foreign CA → unknown_ca (48)", () => pki.foreign, /alert unknown ca.*alert number 48/i],
  ["expired → certificate_expired (45)", () => pki.expired, /alert certificate expired.*alert number 45/i],
  ["revoked → certificate_revoked (44)", () => pki.revoked, /alert certificate revoked.*alert number 44/i],
  ["no clientAuth EKU → unsupported_certificate (43)", () => pki.serverAuthOnly, /alert unsupported certificate.*alert number 43/i],
  ["valid chain, no peer → access_denied (49)", () => pki.unknownPeer, /alert access denied.*alert number 49/i],
];

for (const version of ["-tls1_3", "-tls1_2"]) {
  for (const [what, cert, alert] of cases) {
    t.test(`${version} ${what}`, async (t) => {
      const r = await sClient(edge.port("sip"), args(cert(), version), { holdOpen: true });
      t.match(r.out, alert, r.out);
    });
  }
  t.test(`${version} an allowed peer gets no alert`, async (t) => {
    // A CRLF keep-alive answered by a pong proves the connection stayed up after the verdict.
    const r = await sClient(edge.port("sip"), args(pki.client, version), { input: "\r\n\r\n", timeoutMs: 10_000 });
    t.notMatch(r.out, /alert number/i, r.out);
    t.ok(r.protocol, "handshake completed");
  });
}
