// The request-smuggling and protection set (smuggling-cases.ts) against every HTTP/1.1 engine:
// each engine answers exactly as recorded, or stricter (a close where the record keeps the
// connection), and nothing but the controls reaches the upstream.
import t from "tap";
import { startProxy, type ProxyHarness, upstreamBed } from "../helpers/http-harness.js";
import { rawProbe } from "./raw-probe.js";
import { SMUGGLING_CASES } from "./smuggling-cases.js";

const { pki, upstream } = await upstreamBed(t);

const ENGINES: readonly string[] = ["node", "lean"];
/** TRUNKGATE_RECORD_SMUGGLING=1 prints what the engine answers instead of asserting it. */
const recording = process.env.TRUNKGATE_RECORD_SMUGGLING === "1";

for (const engine of ENGINES) {
  t.test(`engine ${engine}`, async (t) => {
    const proxy: ProxyHarness = await startProxy({ pki, upstreamUrl: upstream.url, http: { engine } });
    t.teardown(() => proxy.close());
    for (const c of SMUGGLING_CASES) {
      const before = upstream.seen.filter((r) => r.url !== "/probe").length;
      const got = await rawProbe(pki, proxy.port, c.request);
      const forwarded = upstream.seen.filter((r) => r.url !== "/probe").length - before;
      if (recording) {
        t.comment(`${c.name}: ${got.status} ${got.closed ? "closes" : "keeps"} probe=${got.probeStatus} forwarded=${forwarded}`);
        continue;
      }
      if (c.stricter !== undefined && got.status === c.stricter) {
        t.ok(got.closed, `${c.name}: stricter ${c.stricter}, connection closed`);
        t.equal(forwarded, 0, `${c.name}: stricter, not forwarded`);
        continue;
      }
      t.equal(got.status, c.status, `${c.name}: status`);
      if (c.closes) t.ok(got.closed, `${c.name}: connection closed`);
      // Stricter is fine: a close where the record kept the connection.
      else if (!got.closed) t.equal(got.probeStatus, 200, `${c.name}: probe answered on the same connection`);
      if (c.mayForward) t.ok(forwarded <= 1, `${c.name}: forwarded at most once`);
      else t.equal(forwarded, c.forwards ? 1 : 0, `${c.name}: ${c.forwards ? "forwarded once" : "not forwarded"}`);
    }
  });
}
