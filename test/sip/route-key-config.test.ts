// sip.routeKeyFile: a file that cannot be read or holds fewer than 16 bytes is a config error
// naming the key, never a silently weak key.
import t from "tap";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { sipComponent } from "../../src/sip/component.js";
import { createPeerIdentity } from "../../src/tls/peer-identity.js";
import { LogLines } from "./e2e/harness.js";

function build(routeKeyFile: string) {
  const config = parseConfig(stringify({
    tls: { certificates: [{ cert: "x", key: "y" }], watch: false },
    peers: [],
    sip: { listen: { host: "127.0.0.1", port: 0 }, routeKeyFile, upstreams: [{ name: "svc", targets: [{ host: "127.0.0.1", port: 9, transport: "tcp" }] }] },
  }), "route-key-test");
  const tls = { clientContext: undefined as never };
  return sipComponent({ config, logger: createLogger({ level: "warn", destination: new LogLines() }), metrics: createMetrics("test"), tls: tls as never, identity: createPeerIdentity([]) });
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

t.test("sip.routeKeyFile: missing or short → ConfigError naming the key", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tg-routekey-"));
  const short = join(dir, "short");
  writeFileSync(short, "too-short\n");
  t.match(errorOf(() => build(join(dir, "missing"))), { name: "ConfigError", message: /sip\.routeKeyFile: cannot read/ });
  t.match(errorOf(() => build(short)), { name: "ConfigError", message: /sip\.routeKeyFile: .* 9 bytes, at least 16/ });
});
