// Certificate hot reload: a changed file (or a Kubernetes-style ..data symlink swap) builds a new
// secure context for new connections; open connections stay; a broken file keeps the old context.
import t from "tap";
import { once } from "node:events";
import { copyFile, mkdir, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { makeTestPki, type TestPki } from "../helpers/pki.js";
import { metricValue, startEdge, type RunningEdge } from "../helpers/edge.js";
import { patience, within } from "../helpers/time.js";

let pki: TestPki;
t.before(async () => {
  pki = await makeTestPki();
});
t.teardown(() => pki?.cleanup());

function open(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, servername: "localhost" }, () =>
      resolve(s),
    );
    s.once("error", reject);
    s.setTimeout(patience(5000), () => s.destroy(new Error("timeout")));
  });
}

/** Serial numbers as hex without leading zeros (Node prints whole bytes, the PKI helper may not). */
const norm = (hex: string) => hex.toLowerCase().replace(/^0+/, "");

async function serial(port: number): Promise<string> {
  const s = await open(port);
  const sn = norm(s.getPeerX509Certificate()!.serialNumber);
  s.destroy();
  return sn;
}

t.test("a replaced certificate file is picked up; the open connection stays", async (t) => {
  const dir = join(pki.dir, "live-file");
  await mkdir(dir);
  await copyFile(pki.serverEcdsa.certPath, join(dir, "server.pem"));
  await copyFile(pki.serverEcdsa.keyPath, join(dir, "server.key"));
  const edge: RunningEdge = await startEdge(pki, {
    config: { tls: { watch: true, certificates: [{ cert: join(dir, "server.pem"), key: join(dir, "server.key") }] } },
  });
  t.teardown(() => edge.stop());
  const port = edge.port("sip");
  const held = await open(port);
  t.equal(await serial(port), norm(pki.serverEcdsa.serialNumber));

  const next = await pki.issue({ name: "rotated" });
  const reloaded = once(edge.app.tls, "reload");
  // Key first, then certificate, each atomically, as cert-manager does.
  await copyFile(next.keyPath, join(dir, "server.key.tmp"));
  await copyFile(next.certPath, join(dir, "server.pem.tmp"));
  await rename(join(dir, "server.key.tmp"), join(dir, "server.key"));
  await rename(join(dir, "server.pem.tmp"), join(dir, "server.pem"));
  await within(reloaded, 5000, "reload event");
  // A debounced watcher may also see the half-way state (new key, old cert) and reject it; what
  // matters is that the final state is served.
  t.equal(await serial(port), norm(next.serialNumber), "new connections get the new certificate");
  t.notOk(held.destroyed, "the connection opened before the reload is still up");
  t.equal(norm(held.getPeerX509Certificate()!.serialNumber), norm(pki.serverEcdsa.serialNumber));
  held.destroy();
});

t.test("a Kubernetes-style ..data symlink swap is picked up", async (t) => {
  const base = join(pki.dir, "k8s");
  await mkdir(join(base, "v1"), { recursive: true });
  await copyFile(pki.serverEcdsa.certPath, join(base, "v1", "tls.crt"));
  await copyFile(pki.serverEcdsa.keyPath, join(base, "v1", "tls.key"));
  await symlink("v1", join(base, "..data"));
  await symlink("..data/tls.crt", join(base, "tls.crt"));
  await symlink("..data/tls.key", join(base, "tls.key"));
  const edge = await startEdge(pki, {
    config: { tls: { watch: true, certificates: [{ cert: join(base, "tls.crt"), key: join(base, "tls.key") }] } },
  });
  t.teardown(() => edge.stop());
  const port = edge.port("sip");
  const next = await pki.issue({ name: "k8s-next" });
  await mkdir(join(base, "v2"));
  await copyFile(next.certPath, join(base, "v2", "tls.crt"));
  await copyFile(next.keyPath, join(base, "v2", "tls.key"));
  const reloaded = once(edge.app.tls, "reload");
  await symlink("v2", join(base, "..data_tmp"));
  await rename(join(base, "..data_tmp"), join(base, "..data"));
  await within(reloaded, 5000, "reload event");
  t.equal(await serial(port), norm(next.serialNumber));
});

t.test("a broken file keeps the old context, logs an error and counts it", async (t) => {
  const dir = join(pki.dir, "broken");
  await mkdir(dir);
  await copyFile(pki.serverEcdsa.certPath, join(dir, "server.pem"));
  await copyFile(pki.serverEcdsa.keyPath, join(dir, "server.key"));
  const edge = await startEdge(pki, {
    config: { tls: { certificates: [{ cert: join(dir, "server.pem"), key: join(dir, "server.key") }] } },
  });
  t.teardown(() => edge.stop());
  const port = edge.port("sip");
  const failed = once(edge.app.tls, "reloadError");
  await writeFile(join(dir, "server.pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  t.equal(edge.app.reloadTls(), false, "SIGHUP-style reload refuses the broken file");
  const [err] = await within(failed, 1000, "reloadError");
  t.match((err as Error).message, /^tls\.certificates\.0\.cert: /);
  t.equal(await serial(port), norm(pki.serverEcdsa.serialNumber), "still served the old certificate");
  t.equal(metricValue(await edge.metrics(), 'trunkgate_tls_reloads_total{result="error"}'), 1);
  t.ok(edge.logs.some((l) => l.includes("TLS reload failed")));

  // A key that does not match the certificate is refused the same way.
  const other = await pki.issue({ name: "other" });
  await copyFile(pki.serverEcdsa.certPath, join(dir, "server.pem"));
  await copyFile(other.keyPath, join(dir, "server.key"));
  t.equal(edge.app.reloadTls(), false);
  t.equal(metricValue(await edge.metrics(), 'trunkgate_tls_reloads_total{result="error"}'), 2);
});
