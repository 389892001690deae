// Pure decisions behind the advertised address and the per-peer cap, without sockets.
import t from "tap";
import { ProxyIdentity } from "../../../src/sip/proxy/identity.js";
import { evictionVictim } from "../../../src/sip/transport/connections.js";
import type { TrunkConnection } from "../../../src/sip/transport/sip-connection.js";

t.test("sentByFor: the connection's local address, formatted for Via; advertisedHost wins", async (t) => {
  const me = new ProxyIdentity("192.0.2.2", 5061, "0.0.0.0");
  t.equal(me.sentByFor("127.0.0.2"), "127.0.0.2:5061");
  t.equal(me.sentByFor("::ffff:198.51.100.7"), "198.51.100.7:5061", "IPv4-mapped IPv6 unmapped");
  t.equal(me.sentByFor("2001:db8::1"), "[2001:db8::1]:5061", "IPv6 bracketed");
  t.equal(me.sentByFor("fe80::1%eth0"), "[fe80::1]:5061", "zone dropped");
  t.equal(me.sentByFor("0.0.0.0"), "192.0.2.2:5061", "never a wildcard");
  t.equal(me.sentByFor(undefined), "192.0.2.2:5061", "unknown yet: the default");
  t.ok(me.isUs("127.0.0.2", 5061) && me.isUs("198.51.100.7", 5061), "addresses advertised are recognised as ours");
  const fixed = new ProxyIdentity("sip.example.net", 5061, "0.0.0.0", { fixedHost: "sip.example.net", listeningPort: 40000 });
  t.equal(fixed.sentByFor("127.0.0.2"), "sip.example.net:5061");
  t.ok(fixed.isUs("sip.example.net", 40000) && fixed.isUs("sip.example.net", 5061) && fixed.isUs("sip.example.net", undefined), "advertised and bound ports are both ours");
});

t.test("evictionVictim: the oldest silent connection, else the idlest; never one still connecting", async (t) => {
  const c = (id: number, o: { carried: boolean; openedAt: number; last: number; connected?: boolean }) =>
    ({ id, open: true, connected: o.connected ?? true, carriedMessage: o.carried, openedAt: o.openedAt, lastMessageAt: o.last }) as unknown as TrunkConnection;
  const busyOld = c(1, { carried: true, openedAt: 1, last: 50 });
  const silentNew = c(2, { carried: false, openedAt: 30, last: 30 });
  const silentOld = c(3, { carried: false, openedAt: 20, last: 20 });
  const connecting = c(4, { carried: false, openedAt: 0, last: 0, connected: false });
  t.equal(evictionVictim([busyOld, silentNew, silentOld, connecting]), silentOld);
  const idle = c(5, { carried: true, openedAt: 10, last: 40 });
  t.equal(evictionVictim([busyOld, idle, connecting]), idle, "all carried messages: the one idle longest");
  t.equal(evictionVictim([connecting]), undefined);
});
