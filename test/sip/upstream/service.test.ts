// Target selection by priority and weight, failover statuses, health thresholds.
import t from "tap";
import { stringify } from "yaml";
import { parseConfig } from "../../../src/config/load.js";
import { UpstreamService, isFailoverStatus, isIpLiteral } from "../../../src/sip/upstream/service.js";
import { TargetHealth, probeSucceeded } from "../../../src/sip/upstream/health-state.js";

function service(targets: object[], random: () => number) {
  const cfg = parseConfig(stringify({ tls: { certificates: [{ cert: "a", key: "b" }] }, sip: { upstreams: [{ name: "s", targets }] } }));
  return new UpstreamService(cfg.sip.upstreams[0]!, random);
}

t.test("lower priority value first; next priority only when the first is exhausted", async (t) => {
  const c = service([{ host: "b", priority: 1 }, { host: "a", priority: 0 }], () => 0.5);
  const first = c.pick(0)!;
  t.equal(first.config.host, "a");
  t.equal(c.pick(1 << first.index)!.config.host, "b");
  t.equal(c.pick(3), undefined, "all tried");
});

t.test("weights within a priority", async (t) => {
  let r = 0;
  const c = service([{ host: "a", weight: 1 }, { host: "b", weight: 3 }], () => r);
  const count: Record<string, number> = { a: 0, b: 0 };
  for (let i = 0; i < 100; i++) {
    r = i / 100;
    count[c.pick(0)!.config.host]!++;
  }
  t.same(count, { a: 25, b: 75 });
  const z = service([{ host: "a", weight: 0 }, { host: "b", weight: 2 }], () => 0.99);
  t.equal(z.pick(0)!.config.host, "b", "weight 0 only as last resort");
  t.equal(z.pick(2)!.config.host, "a");
});

t.test("down targets are skipped; anyUp", async (t) => {
  const c = service([{ host: "a" }, { host: "b" }], () => 0);
  c.targets[0]!.health.up = false;
  t.equal(c.pick(0)!.config.host, "b");
  c.targets[1]!.health.up = false;
  t.equal(c.pick(0), undefined);
  t.notOk(c.anyUp());
});

t.test("failover only on 408, 503, 504", async (t) => {
  t.same([408, 503, 504].map(isFailoverStatus), [true, true, true]);
  t.same([400, 404, 480, 486, 500, 502, 600, 603].map(isFailoverStatus), Array(8).fill(false));
});

t.test("health thresholds", async (t) => {
  const h = new TargetHealth(2, 3);
  t.ok(h.up, "starts up");
  h.record(false);
  h.record(false);
  t.ok(h.up);
  h.record(true); // resets the failure count
  h.record(false);
  h.record(false);
  t.ok(h.up);
  t.ok(h.record(false), "state change reported");
  t.notOk(h.up);
  h.record(true);
  t.notOk(h.up);
  t.ok(h.record(true));
  t.ok(h.up);
  t.same([200, 404, 486, 503, 408, 504, 100].map(probeSucceeded), [true, true, true, false, false, false, false]);
});

t.test("SNI: a host name, never an IP", async (t) => {
  t.ok(isIpLiteral("127.0.0.1"));
  t.ok(isIpLiteral("::1"));
  t.notOk(isIpLiteral("sbc.example.net"));
  const c = service([{ host: "127.0.0.1" }, { host: "sbc.example.net" }, { host: "10.0.0.1", serverName: "sbc2.example.net" }], () => 0);
  t.same(c.targets.map((x) => x.serverName), [undefined, "sbc.example.net", "sbc2.example.net"]);
});
