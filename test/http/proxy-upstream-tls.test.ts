import t from "tap";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { h1request, makeTestPki, metricValue, startProxy, startUpstream, type UpstreamHandler } from "../helpers/http-harness.js";
import { curl } from "../helpers/curl.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());

/** Answers with the CN of the client certificate trunkgate presented to the upstream. */
const whoAmI: UpstreamHandler = (req, res) => {
  req.resume();
  const cert = (req.socket as TLSSocket).getPeerCertificate();
  res.end(JSON.stringify({ cn: cert.subject?.CN, peer: req.headers["x-trunkgate-peer"] }));
};

t.test("https upstream: trunkgate presents its client certificate, verifies the upstream by name", async (t) => {
  const up = await startUpstream({ https: { pki }, handler: whoAmI });
  t.teardown(() => up.close());
  for (const host of ["localhost", "127.0.0.1"]) {
    const p = await startProxy({ pki, upstreamUrl: `https://${host}:${up.port}` });
    t.teardown(() => p.close());
    const r = await curl(pki, `https://localhost:${p.port}/who`);
    t.equal(r.status, 200, `${host}: ${r.stderr}`);
    t.same(JSON.parse(r.body), { cn: "trunkgate", peer: "dev-trunk" }, `${host}: upstream verified trunkgate's certificate`);
  }
});

t.test("https upstream with a certificate for another name: 502, counted as tls", async (t) => {
  const wrong = await pki.issue({ name: "wrong-name", dns: ["other.example"], ip: [] });
  const up = await startUpstream({ https: { pki, cert: wrong }, handler: whoAmI });
  t.teardown(() => up.close());
  const p = await startProxy({ pki, upstreamUrl: `https://localhost:${up.port}` });
  t.teardown(() => p.close());
  const r = await h1request(pki, p.port, { path: "/x" });
  t.equal(r.status, 502);
  t.equal(await metricValue(p.metrics, "trunkgate_http_upstream_errors_total", { kind: "tls" }), 1);
  t.equal(up.seen.length, 0, "no request was sent to the impostor");
});

t.test("TLS reload: the upstream pool is rebuilt and presents the new client certificate", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "tg-http-reload-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const certPath = join(dir, "client.pem");
  const keyPath = join(dir, "client.key");
  await copyFile(pki.upstreamClient.certPath, certPath);
  await copyFile(pki.upstreamClient.keyPath, keyPath);
  const up = await startUpstream({ https: { pki }, handler: whoAmI });
  t.teardown(() => up.close());
  const p = await startProxy({ pki, upstreamUrl: `https://localhost:${up.port}`, tls: { clientCertificate: { cert: certPath, key: keyPath } } });
  t.teardown(() => p.close());
  const before = await h1request(pki, p.port, { path: "/before" });
  t.equal(JSON.parse(before.body.toString()).cn, "trunkgate");
  const next = await pki.issue({ name: "upstream-client-2", commonName: "trunkgate-rotated", dns: ["trunkgate.local"], eku: ["clientAuth"] });
  await copyFile(next.certPath, certPath);
  await copyFile(next.keyPath, keyPath);
  t.ok(p.tls.reload(), "reload accepted");
  const after = await h1request(pki, p.port, { path: "/after" });
  t.equal(JSON.parse(after.body.toString()).cn, "trunkgate-rotated", "new connections use the reloaded certificate");
  t.ok(p.logs.lines.some((l) => l.msg === "http upstream pool rebuilt with reloaded TLS material"));
});
