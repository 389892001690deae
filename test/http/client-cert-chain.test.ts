// RFC 9440 Client-Cert-Chain carries the certificates the CLIENT sent after its leaf, on every Node
// version: Node 24.21 reads the peer certificate itself when a server handshake ends and, doing
// so, empties OpenSSL's peer chain (nodejs/node#65579); the proxy must still see what was sent.
// Never completed from the proxy's own trust store; a self-signed root the client sent is left out.
import t, { type Test } from "tap";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { curl } from "../helpers/curl.js";
import { startProxy, upstreamBed } from "../helpers/http-harness.js";

const { pki, upstream } = await upstreamBed(t);

const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64").toString("base64");

/** Sends one request through a proxy with these extra roots and returns the chain header the upstream saw. */
async function chainHeaderSeen(t: Test, extraRoots: string[], client: typeof pki.viaIntermediate): Promise<string | string[] | undefined> {
  const proxy = await startProxy({ pki, upstreamUrl: upstream.url, tls: { trust: { bundledRoots: false, extraRoots } } });
  t.teardown(() => proxy.close());
  const n = upstream.seen.length;
  const r = await curl(pki, `https://localhost:${proxy.port}/chain`, [], client);
  t.equal(r.status, 200, r.stderr);
  return upstream.seen[n]?.headers["client-cert-chain"];
}

t.test("leaf + intermediate sent: the intermediate", async (t) => {
  const seen = await chainHeaderSeen(t, [pki.ca.certPath], { ...pki.viaIntermediate, certPath: pki.viaIntermediate.chainPath });
  t.equal(seen, `:${derOf(pki.intermediate.cert)}:`);
});

t.test("leaf + intermediate + root sent: the intermediate, not the root", async (t) => {
  const withRoot = join(pki.dir, "leaf-intermediate-root.pem");
  await writeFile(withRoot, pki.viaIntermediate.chain + pki.ca.cert);
  const seen = await chainHeaderSeen(t, [pki.ca.certPath], { ...pki.viaIntermediate, certPath: withRoot });
  t.equal(seen, `:${derOf(pki.intermediate.cert)}:`);
});

t.test("leaf alone sent, intermediate in the proxy's trust store: no header (not what the client sent)", async (t) => {
  const seen = await chainHeaderSeen(t, [pki.ca.certPath, pki.intermediate.certPath], pki.viaIntermediate);
  t.equal(seen, undefined);
});
