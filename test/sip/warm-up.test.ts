// sip.warmUpCalls: a synthetic call runs through the framer, parser and forwarding edits before the
// SIP listener opens (issue 12 item 5: a fresh process queued calls for seconds under load).
import t, { type Test } from "tap";
import { stringify } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { sipComponent } from "../../src/sip/component.js";
import { parseMessage } from "../../src/sip/parse/index.js";
import { WARM_UP_CALL, warmUpSipPath } from "../../src/sip/warm-up.js";
import { TlsContextProvider } from "../../src/tls/context-provider.js";
import { createPeerIdentity } from "../../src/tls/peer-identity.js";
import { LogLines, testPki } from "./e2e/harness.js";
import { testTlsSection } from "../helpers/pki.js";

t.test("the synthetic call is valid SIP and every message goes the whole way", async (t) => {
  for (const m of WARM_UP_CALL) t.ok(parseMessage(m).ok, m.toString("latin1").split("\r\n")[0] ?? "");
  // Each round frames the call from a stream cut differently (whole, 1400, 512, 97 bytes).
  t.same(warmUpSipPath(8), { messages: 8 * WARM_UP_CALL.length, failures: 0 });
  t.same(warmUpSipPath(0), { messages: 0, failures: 0 });
});

async function startSip(t: Test, warmUpCalls: number | undefined) {
  const pki = await testPki();
  const config = parseConfig(stringify({
    tls: testTlsSection(pki),
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] } }],
    sip: { listen: { host: "127.0.0.1", port: 0 }, ...(warmUpCalls === undefined ? {} : { warmUpCalls }) },
  }), "warm-up-test");
  const logs = new LogLines();
  const built = sipComponent({
    config,
    logger: createLogger({ level: "info", destination: logs }),
    metrics: createMetrics("test"),
    tls: new TlsContextProvider(config.tls),
    identity: createPeerIdentity(config.peers),
  });
  // What the log held when the listener was asked to open its port.
  let warmedBeforeListen: Record<string, unknown> | undefined;
  const listen = built.listener.listen.bind(built.listener);
  built.listener.listen = () => {
    warmedBeforeListen = logs.lines.find((l) => l.msg === "SIP path warmed up");
    return listen();
  };
  await built.component.start();
  t.teardown(() => built.component.close());
  return { logs, warmedBeforeListen: () => warmedBeforeListen };
}

t.test("by default the component warms up before its listener opens", async (t) => {
  const { warmedBeforeListen } = await startSip(t, undefined);
  t.match(warmedBeforeListen(), { calls: 500, messages: 500 * WARM_UP_CALL.length, failures: 0 });
});

t.test("sip.warmUpCalls: 0 turns it off", async (t) => {
  const { logs } = await startSip(t, 0);
  t.notOk(logs.lines.some((l) => String(l.msg).includes("warm")));
});
