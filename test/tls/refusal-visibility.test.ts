// Issue 13 item 4: which carrier fails. Refusals and handshakes carry a bounded `peer` label (a
// configured peer's name or "unknown", never a subject), and the refusal log names the remote
// address, subject and issuer, also for chains that failed verification (Node destroys those
// sockets before its public events show the certificate: handshake-observer.ts).
import t from "tap";
import { connect } from "node:tls";
import type { CertFiles } from "../helpers/pki.js";
import { edgeWithCrl, metricTotal } from "../helpers/edge.js";
import { waitFor } from "../helpers/openssl.js";
import { patience } from "../helpers/time.js";

const { pki, edge } = await edgeWithCrl(t);

/** Connects with a client certificate and resolves once the server ended the connection. */
function refusedWith(cert: CertFiles, maxVersion: "TLSv1.2" | "TLSv1.3"): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port: edge.port("sip"), ca: pki.ca.cert, cert: cert.cert, key: cert.key, maxVersion, servername: "localhost" });
    s.on("error", () => resolve());
    s.on("close", () => resolve());
    s.resume();
    s.setTimeout(patience(10_000), () => s.destroy());
  });
}

const failures = async (labels: Record<string, string>) =>
  metricTotal(await edge.metrics(), "trunkgate_tls_handshake_failures_total", { listener: "sip", ...labels });

function refusalLog(reason: string, from: number): Record<string, unknown> | undefined {
  for (const line of edge.logs.slice(from)) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.msg === "TLS connection refused" && entry.reason === reason) return entry;
  }
  return undefined;
}

for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
  t.test(`${version}: an expired certificate of a configured peer is counted under that peer and logged with subject and issuer`, async (t) => {
    const before = await failures({ reason: "expired", peer: "dev-trunk" });
    const logFrom = edge.logs.length;
    await refusedWith(pki.expired, version);
    await waitFor(async () => (await failures({ reason: "expired", peer: "dev-trunk" })) === before + 1, 10_000, "expired{peer=dev-trunk}");
    const log = refusalLog("expired", logFrom);
    t.ok(log, "refusal logged");
    t.equal(log?.remote, "127.0.0.1", "remote address named, though Node destroyed the socket");
    t.equal(typeof log?.remotePort, "number");
    t.match(String(log?.subject), /CN=dev-trunk/, "subject");
    t.match(String(log?.issuer), /CN=/, "issuer");
    t.equal(log?.peer, "dev-trunk", "the peer its names claim");
  });
}

t.test("a certificate from a foreign CA naming a configured peer: untrusted, under that peer's name", async (t) => {
  const before = await failures({ reason: "untrusted", peer: "dev-trunk" });
  const logFrom = edge.logs.length;
  await refusedWith(pki.foreign, "TLSv1.3");
  await waitFor(async () => (await failures({ reason: "untrusted", peer: "dev-trunk" })) === before + 1, 10_000, "untrusted{peer=dev-trunk}");
  t.match(String(refusalLog("untrusted", logFrom)?.issuer), /foreign test root CA/, "the issuer tells the operator which CA it came from");
});

t.test("a certificate that names nobody configured: peer unknown, never its subject in a label", async (t) => {
  const before = await failures({ reason: "peer_not_allowed", peer: "unknown" });
  await refusedWith(pki.unknownPeer, "TLSv1.3");
  await waitFor(async () => (await failures({ reason: "peer_not_allowed", peer: "unknown" })) === before + 1, 10_000, "peer_not_allowed{peer=unknown}");
  const text = await edge.metrics();
  t.notMatch(text, /stranger/, "no subject or SAN of a refused certificate in any label");
  for (const line of text.split("\n").filter((l) => l.startsWith("trunkgate_tls_handshake_failures_total{"))) {
    t.match(line, /peer="(dev-trunk|unknown)"/, `bounded peer label: ${line}`);
  }
});

t.test("completed handshakes are counted per peer", async () => {
  await new Promise<void>((resolve, reject) => {
    // A CRLF keep-alive answered by a pong: the server accepted the certificate (TLS 1.3 checks it after the client's handshake ends).
    const s = connect({ host: "127.0.0.1", port: edge.port("sip"), ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, servername: "localhost" }, () => s.write("\r\n\r\n"));
    s.once("data", () => {
      s.destroy();
      resolve();
    });
    s.on("error", reject);
  });
  await waitFor(async () => metricTotal(await edge.metrics(), "trunkgate_tls_handshakes_total", { listener: "sip", peer: "dev-trunk" }) >= 1, 10_000, "handshakes{peer=dev-trunk}");
});
