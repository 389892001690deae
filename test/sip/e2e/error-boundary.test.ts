// The per-message error boundary over real mutual TLS: a route function that throws, or a route
// decision that blows up inside the proxy core, costs that one request a 500 and one
// trunkgate_internal_errors_total{component="sip"}; the next call on the same connection, and
// another trunk connection, are served as before, and the log carries no message content.
import t from "tap";
import type { RouteDecision } from "../../../src/sip/route/decision.js";
import { TrunkClient, sipRequest, startGateway } from "./harness.js";
import { startNodeUas } from "./node-uas.js";

async function finalStatus(c: TrunkClient): Promise<number> {
  for (;;) {
    const m = await c.next(10_000);
    if (m === "pong") continue;
    const s = Number(/^SIP\/2\.0 (\d{3})/.exec(m.buf.toString("latin1"))?.[1] ?? -1);
    if (s >= 200 || s < 0) return s;
  }
}

function sipErrors(metrics: string): number {
  return Number(/trunkgate_internal_errors_total\{component="sip"\} (\d+)/.exec(metrics)?.[1] ?? NaN);
}

t.test("an exception while handling one SIP message → 500 + counter; the next call is fine", async (t) => {
  const uas = await startNodeUas();
  t.teardown(() => uas.close());
  let mode: "ok" | "throw" | "reject" | "poisoned" = "ok";
  const route = (): RouteDecision | Promise<RouteDecision> => {
    if (mode === "throw") throw new TypeError("route bug +4930123456");
    if (mode === "reject") return Promise.reject(new Error("lookup bug"));
    if (mode === "poisoned") {
      // a decision whose fields throw when the core reads them: escapes into the message boundary
      return { get service(): string { throw new RangeError("decision bug"); } } as RouteDecision;
    }
    return { service: "svc" };
  };
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: uas.port }] }], route, sip: { media: { srtpPolicy: "off" } } });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  const other = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => other.close());
  const uri = `sip:+4930123456@127.0.0.1:${gw.port}`;

  t.equal(sipErrors(await gw.metrics()), 0, "no internal error yet");
  let expected = 0;
  for (const m of ["throw", "reject", "poisoned"] as const) {
    mode = m;
    c.send(sipRequest({ method: "MESSAGE", uri, body: "hi", contentType: "text/plain" }));
    t.equal(await finalStatus(c), 500, `${m}: 500 Server Internal Error`);
    t.equal(sipErrors(await gw.metrics()), ++expected, `${m}: counted`);
    mode = "ok";
    c.send(sipRequest({ method: "MESSAGE", uri, body: "hi", contentType: "text/plain" }));
    t.equal(await finalStatus(c), 200, `${m}: the next request on the same connection is forwarded and answered`);
  }
  other.send(sipRequest({ method: "INVITE", uri }));
  t.equal(await finalStatus(other), 486, "another connection's call goes on");
  t.notOk(gw.logs.text.includes("4930123456"), "no customer data (the number) in the logs");
  t.ok(gw.logs.lines.some((l) => l.msg === "SIP message handling failed"), "the escaped exception is logged");
});
