// The provisioning listener is an mTLS listener like the others: no client certificate, or one of
// no configured peer, is refused at the handshake before any HTTP is read. Also: unparseable HTTP
// gets a JSON 400, and drain/close stop the listener.
import t from "tap";
import { connect as tlsConnect } from "node:tls";
import { makeTestPki } from "../helpers/pki.js";
import { metricValue, within } from "../helpers/http-harness.js";
import { curl } from "../helpers/curl.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, { pki });
const failures = (reason: string) => metricValue(h.metrics, "trunkgate_tls_handshake_failures_total", { listener: "provisioning", reason });

/** Connects, sends a request once TLS is up, and reports what came back. */
function rawExchange(opts: { cert?: { cert: string; key: string }; payload: string }): Promise<{ data: string; error?: string }> {
  return within(
    new Promise((resolve) => {
      let data = "";
      const s = tlsConnect({ host: "127.0.0.1", port: h.port, ca: pki.ca.cert, servername: "localhost", ...opts.cert });
      s.on("secureConnect", () => s.write(opts.payload));
      s.on("data", (d: Buffer) => (data += d.toString()));
      s.on("error", (e) => resolve({ data, error: e.message }));
      s.on("close", () => resolve({ data }));
    }),
    10_000,
    "TLS exchange",
  );
}

t.test("a client without a certificate is refused at the handshake", async (t) => {
  const before = await failures("no_certificate");
  const tok = await h.token({ roles: [ROLES.admin] });
  const r = await rawExchange({ payload: `GET /api/v1/services HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\n\r\n` });
  t.equal(r.data, "", `no HTTP answer (${r.error ?? "closed"})`);
  t.equal(await failures("no_certificate"), before + 1);
  const c = await curl(pki, `https://localhost:${h.port}/api/v1/services`, ["-H", `Authorization: Bearer ${tok}`], null);
  t.not(c.code, 0, "curl without a certificate fails");
  t.equal(c.status, 0);
});

t.test("a certificate of no configured peer is refused", async (t) => {
  const before = await failures("peer_not_allowed");
  const r = await rawExchange({ cert: pki.unknownPeer, payload: "GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" });
  t.equal(r.data, "");
  t.equal(await failures("peer_not_allowed"), before + 1);
});

t.test("unparseable HTTP gets a JSON 400 and the connection is closed", async (t) => {
  const r = await rawExchange({ cert: pki.client, payload: "GET /api/v1/services HTTP/1.1\r\nHost x\r\n\r\n" });
  t.match(r.data, /^HTTP\/1\.1 400 /);
  t.match(r.data, /"error":"invalid_request"/);
  const big = await rawExchange({ cert: pki.client, payload: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n` });
  t.match(big.data, /^HTTP\/1\.1 431 /);
});

t.test("drain stops accepting and closes; readiness goes false", async (t) => {
  t.equal(h.component.ready(), true);
  await h.component.drain(Date.now() + 1000);
  t.equal(h.component.ready(), false);
  const r = await curl(pki, `https://localhost:${h.port}/api/v1/services`);
  t.not(r.code, 0, "no longer listening");
});

t.test("a header section that does not complete in time gets a JSON 408", async (t) => {
  const slow = await startHarness(t, { pki, provisioning: { timeouts: { headersMs: 300, requestMs: 600 } } });
  const started = Date.now();
  const r = await within(
    new Promise<string>((resolve) => {
      let data = "";
      const s = tlsConnect({ host: "127.0.0.1", port: slow.port, ca: pki.ca.cert, servername: "localhost", cert: pki.client.cert, key: pki.client.key });
      s.on("secureConnect", () => s.write("GET /api/v1/services HTTP/1.1\r\nHost: x\r\n")); // never finished
      s.on("data", (d: Buffer) => (data += d.toString()));
      s.on("error", () => resolve(data));
      s.on("close", () => resolve(data));
    }),
    10_000,
    "408",
  );
  t.match(r, /^HTTP\/1\.1 408 /);
  t.match(r, /"error":"request_timeout"/);
  t.ok(Date.now() - started >= 250, "not before the deadline");
});
