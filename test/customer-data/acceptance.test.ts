// The customer-data issue end to end: a number provisioned through the API with a
// Provisioning.Write token routes a SIPp call (SRTP, over mutual TLS) to its service with the
// custom header added (checked by the callee), the call shows up in the daily statistics, a
// purge with the clock 31 days ahead removes its record while the statistics remain, and the raw
// database files hold no provisioned number in clear.
import t from "tap";
import { readFile, readdir } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { startEdge, type RunningEdge } from "../helpers/edge.js";
import { freeTcpPort, runSipp, startSipp, startStunnel } from "../helpers/sipp.js";
import type { TestPki } from "../helpers/pki.js";
import { testPki } from "../sip/e2e/harness.js";
import { AUDIENCE, ISSUER, signingKey, signToken, writeJwks } from "../provisioning/harness.js";
import { UAC_NUMBER_CALL, uasExpectingHeader } from "./scenarios.js";
import { patience } from "../helpers/time.js";

const DAY = 86_400_000;
const CALLED = "+4930123456";
const CALLING = "+4989111222";
const CONTEXT = "ctx-42";

function api(pki: TestPki, port: number, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        ca: pki.ca.cert,
        cert: pki.client.cert,
        key: pki.client.key,
        servername: "localhost",
        headers: { authorization: `Bearer ${token}`, ...(data ? { "content-type": "application/json", "content-length": data.length } : {}) },
        timeout: patience(5000),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(data);
  });
}

/** Every encoding a number could be stored in by mistake. */
function needles(value: string): Buffer[] {
  return [Buffer.from(value), Buffer.from(value.replace(/^\+/, "")), Buffer.from(value, "utf16le")];
}

t.test("provision → route with header → statistics → purge at +31 days → nothing in clear", async (t) => {
  const pki = await testPki();
  const key = await signingKey("k1");
  const jwksFile = join(pki.dir, "jwks.json");
  writeJwks(jwksFile, [key]);
  const writer = await signToken(key, { roles: ["Provisioning.Write"] });
  const reader = await signToken(key, { roles: ["Provisioning.Read"] });

  const uas = await startSipp({ scenario: { name: "uas-ctx", xml: uasExpectingHeader(CONTEXT) }, timeoutSeconds: 60 });
  t.teardown(() => uas.stop());
  const deadPort = await freeTcpPort(); // svc-a, the default route: a call routed there fails
  let offsetMs = 0;
  const dataDir = join(pki.dir, "data");
  const edge: RunningEdge = await startEdge(pki, {
    now: () => new Date(Date.now() + offsetMs),
    config: {
      sip: {
        defaultUpstream: "svc-a",
        upstreams: [
          { name: "svc-a", targets: [{ host: "127.0.0.1", port: deadPort, transport: "tcp" }], healthCheck: { enabled: false } },
          { name: "svc-b", targets: [{ host: "127.0.0.1", port: uas.port, transport: "tcp" }], healthCheck: { enabled: false } },
        ],
      },
      provisioning: {
        enabled: true,
        auth: { jwksFile, issuer: ISSUER, audience: AUDIENCE },
      },
      store: { url: `sqlite:${join(dataDir, "trunkgate.db")}`, encryptionKeyFile: join(dataDir, "trunkgate.key") },
    },
  });
  t.teardown(() => edge.stop());
  const apiPort = edge.port("provisioning");

  // 1. Provision through the API with a Provisioning.Write token.
  const put = await api(pki, apiPort, "PUT", `/api/v1/numbers/${encodeURIComponent(CALLED)}`, writer, { service: "svc-b", customHeader: CONTEXT });
  t.equal(put.status, 201, JSON.stringify(put.json));
  t.equal((await api(pki, apiPort, "PUT", `/api/v1/numbers/${encodeURIComponent(CALLED)}`, reader, { service: "svc-b" })).status, 403, "a reader cannot write");
  await edge.app.data.numbers.refreshIfChanged(); // (the cache also polls every store.numberCacheRefreshMs)

  // 2. A call from the trunk to that number reaches svc-b with the header (the callee checks it).
  const st = await startStunnel({ mode: "client", acceptPort: await freeTcpPort(), connectPort: edge.port("sip"), certPath: pki.client.certPath, keyPath: pki.client.keyPath, caPath: pki.ca.certPath });
  t.teardown(() => st.stop());
  const calls = 3;
  const res = await runSipp({
    scenario: { name: "uac-number", xml: UAC_NUMBER_CALL },
    target: `127.0.0.1:${edge.port("sip")}`,
    via: `127.0.0.1:${st.port}`,
    calls,
    rate: 10,
    timeoutSeconds: 20,
    keys: { caller: CALLING },
    args: ["-s", CALLED],
  });
  t.equal(res.stats.successful, calls, `calls routed by number${res.stats.successful === calls ? "" : `: ${res.output.slice(-1500)}`}`);

  // 3. Its call records are written off the hot path; the daily statistics count them at once.
  await edge.app.data.callRecords.flush();
  t.equal(await edge.app.data.store.callRecords.count(), calls);
  const today = new Date().toISOString().slice(0, 10);
  const stats = await api(pki, apiPort, "GET", `/api/v1/statistics/daily?from=${today}&to=${today}`, reader);
  t.equal(stats.status, 200);
  const days = (stats.json as { days: { service: string | null; calls: number; answered: number | null; peer: string | null }[] }).days;
  // 3 calls are below store.statistics.minGroupSize (5): one merged row that says only how many.
  t.match(days, [{ service: null, peer: null, merged: true, calls, answered: null }]);
  t.notMatch(JSON.stringify(stats.json), /4930123456|4989111222/, "aggregates only");

  // 4. Nothing in clear on disk: the SQLite file and its WAL.
  const files = (await readdir(dataDir)).filter((f) => f.startsWith("trunkgate.db"));
  t.ok(files.length >= 1);
  for (const f of files) {
    const raw = await readFile(join(dataDir, f));
    for (const n of [...needles(CALLED), ...needles(CALLING), Buffer.from(CONTEXT)]) t.equal(raw.indexOf(n), -1, `${f} holds no ${JSON.stringify(n.toString("latin1"))}`);
  }
  // …and not in the logs either.
  t.notOk(edge.logs.some((l) => l.includes("4930123456") || l.includes("4989111222") || l.includes(CONTEXT)), "no number or header value logged");

  // 5. 31 days later the purge removes the records; the statistics stay.
  offsetMs = 31 * DAY;
  const purge = await edge.app.data.retention.runNow();
  t.equal(purge.purged, calls);
  t.equal(await edge.app.data.store.callRecords.count(), 0);
  const after = await api(pki, apiPort, "GET", `/api/v1/statistics/daily?from=${today}&to=${today}`, reader);
  t.same(after.json, stats.json, "statistics remain after the purge");
});

t.test("an unknown number takes the default route, or 404 when configured", async (t) => {
  const pki = await testPki();
  const deadPort = await freeTcpPort();
  const edge = await startEdge(pki, {
    config: {
      sip: {
        upstreams: [{ name: "svc-a", targets: [{ host: "127.0.0.1", port: deadPort, transport: "tcp" }], healthCheck: { enabled: false } }],
        numberRouting: { unknownNumber: "reject" },
      },
    },
  });
  t.teardown(() => edge.stop());
  const st = await startStunnel({ mode: "client", acceptPort: await freeTcpPort(), connectPort: edge.port("sip"), certPath: pki.client.certPath, keyPath: pki.client.keyPath, caPath: pki.ca.certPath });
  t.teardown(() => st.stop());
  const res = await runSipp({
    scenario: { name: "uac-number", xml: UAC_NUMBER_CALL },
    target: `127.0.0.1:${edge.port("sip")}`,
    via: `127.0.0.1:${st.port}`,
    calls: 1,
    timeoutSeconds: 10,
    keys: { caller: CALLING },
    args: ["-s", "+15550001111"],
  });
  t.equal(res.stats.failed, 1);
  t.match(await edge.metrics(), /trunkgate_sip_responses_total\{[^}]*class="4xx"[^}]*\} 1/);
  await edge.app.data.callRecords.flush();
  const recs = await edge.app.data.store.callRecords.count();
  t.equal(recs, 1, "the refused call is recorded too (status 404)");
});
