// The SIP Component as the composition root uses it: listen on an ephemeral port, ready, drain
// (new calls refused, in-flight work finishes), close.
import t from "tap";
import { stringify } from "yaml";
import { parseConfig } from "../../../src/config/load.js";
import { createLogger } from "../../../src/observability/logger.js";
import { createMetrics } from "../../../src/observability/metrics.js";
import { sipComponent } from "../../../src/sip/component.js";
import type { SipResponse } from "../../../src/sip/parse/index.js";
import { TlsContextProvider } from "../../../src/tls/context-provider.js";
import { createPeerIdentity } from "../../../src/tls/peer-identity.js";
import { LogLines, TrunkClient, sipRequest, testPki } from "./harness.js";
import { testTlsSection } from "../../helpers/pki.js";

t.test("sipComponent: start, ready, answers, drain, close", async (t) => {
  const pki = await testPki();
  const config = parseConfig(stringify({
    tls: testTlsSection(pki),
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] }, maxConnections: 1 }],
    sip: { listen: { host: "127.0.0.1", port: 0 }, upstreams: [{ name: "svc", targets: [{ host: "127.0.0.1", port: 9, transport: "tcp" }], healthCheck: { enabled: false } }] },
  }), "component-test");
  const logger = createLogger({ level: "warn", destination: new LogLines() });
  const metrics = createMetrics("test");
  const tls = new TlsContextProvider(config.tls);
  const { component, proxy } = sipComponent({ config, logger, metrics, tls, identity: createPeerIdentity(config.peers) });
  t.notOk(component.ready(), "not ready before start");
  await component.start();
  t.ok(component.ready(), "ready once listening");
  const port = component.address()!.port;
  const c = await TrunkClient.connect(port, pki.client, pki);
  c.send(sipRequest({ method: "OPTIONS", uri: `sip:127.0.0.1:${port}` }));
  t.equal(((await c.next()) as SipResponse).status, 200, "OPTIONS to trunkgate answered");
  // At the peer's cap its older connection makes room (docs/operations.md: the cap is the peer's own budget).
  const second = await TrunkClient.connect(port, pki.client, pki);
  await c.waitClosed(3000);
  t.ok(c.closed, "at a cap of 1, the peer's older connection is closed for its new one");
  second.send(sipRequest({ method: "OPTIONS", uri: `sip:127.0.0.1:${port}` }));
  t.equal(((await second.next()) as SipResponse).status, 200, "the new connection is served");
  await component.drain(Date.now() + 2000);
  t.notOk(component.ready(), "not ready while draining");
  second.send(sipRequest({ method: "INVITE", uri: `sip:x@127.0.0.1:${port}` }));
  const r = (await second.next()) as SipResponse;
  t.equal(r.status, 503, "new calls refused while draining");
  t.equal(proxy.stats().draining, true);
  await component.close();
  await second.waitClosed(3000);
  t.ok(second.closed, "connections closed");
});
