// Issue 14 part 2: what a SIGHUP applies (the admission keys) and what it reports as needing a
// restart (everything else that changed), and what a replaced cluster worker starts with.
import t from "tap";
import { parseConfig } from "../../src/config/load.js";
import { isLiveKey, restartOnlyChanges, withLiveKeys } from "../../src/config/live-reload.js";

const base = (admission: string, peerAdmission: string, idleMs = 600000, dns = "a.example"): string =>
  `peers:\n  - name: a\n    match: {dnsNames: [${dns}]}\n${peerAdmission ? `    admission: ${peerAdmission}\n` : ""}  - name: b\n    match: {dnsNames: [b.example]}\n` +
  `sip:\n  timeouts: {idleMs: ${idleMs}}\n  admission: ${admission}\n`;

t.test("live keys", async (t) => {
  for (const k of ["sip.admission", "sip.admission.maxConcurrentCalls", "peers.3.admission", "peers.0.admission.requestsBurst"]) t.ok(isLiveKey(k), k);
  for (const k of ["sip.admissionX", "sip.limits.maxDialogs", "peers.0.maxConnections", "peers.admission"]) t.notOk(isLiveKey(k), k);
});

t.test("a reload that changes only admission keys needs no restart", async (t) => {
  const a = parseConfig(base("{maxConcurrentCalls: 1}", ""));
  const b = parseConfig(base("{maxConcurrentCalls: 5, eventLoopLagMs: 200}", "{newCallsPerSecond: 3}"));
  t.same(restartOnlyChanges(a, b), []);
  t.same(restartOnlyChanges(a, a), []);
});

t.test("other changed keys are named", async (t) => {
  const a = parseConfig(base("{}", ""));
  const b = parseConfig(base("{maxConcurrentCalls: 5}", "", 300000, "z.example"));
  t.same(restartOnlyChanges(a, b), ["peers.0.match.dnsNames.0", "sip.timeouts.idleMs"]);
  const c = parseConfig(base("{}", "").replace("sip:\n", "  - name: c\n    match: {dnsNames: [c.example]}\nsip:\n"));
  t.same(restartOnlyChanges(a, c).filter((k) => k.startsWith("peers")), ["peers.2"], "a new peer needs a restart");
});

t.test("a replaced worker keeps the reloaded limits and nothing else", async (t) => {
  const running = parseConfig(base("{maxConcurrentCalls: 1}", "{requestsPerSecond: 9}"));
  const next = parseConfig(base("{maxConcurrentCalls: 7}", "", 300000));
  const merged = withLiveKeys(running, next);
  t.equal(merged.sip.admission.maxConcurrentCalls, 7, "the new admission defaults");
  t.equal(merged.peers[0]!.admission, undefined, "the peer's override removed as in the file");
  t.equal(merged.sip.timeouts.idleMs, 600000, "a key that needs a restart keeps its running value");
  t.same(restartOnlyChanges(running, merged), [], "only live keys differ");
});
