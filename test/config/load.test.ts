import t from "tap";
import { ConfigError, parseConfig, resolveConfigPath } from "../../src/config/load.js";
import { loadConfigFile } from "../../src/config/load.js";

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, "test.yaml", env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

t.test("config/default.yaml is valid and runs with the dev PKI", async (t) => {
  const cfg = loadConfigFile("config/default.yaml", {});
  t.equal(cfg.sip.listen.port, 5061);
  t.equal(cfg.http.listen.port, 8443);
  t.equal(cfg.admin.listen.host, "127.0.0.1");
  t.equal(cfg.tls.devPki.autoGenerate, true);
  t.same(cfg.peers.map((p) => p.name), ["dev-trunk"]);
});

t.test("config/container.yaml is valid", async (t) => {
  const cfg = loadConfigFile("config/container.yaml", {});
  t.equal(cfg.store.url, "sqlite:/var/lib/trunkgate/trunkgate.db");
});

t.test("an empty file takes every default", async (t) => {
  const cfg = parseConfig("", "empty");
  t.equal(cfg.tls.minVersion, "TLSv1.2");
  t.equal(cfg.tls.tls12Ciphers.length, 8);
  t.equal(cfg.tls.tls13Suites.length, 2);
  t.same(cfg.peers, []);
});

t.test("unknown keys are errors naming the key", async (t) => {
  t.same(problems("tls:\n  certificatez: []\n"), ["tls.certificatez: unknown key"]);
  t.same(problems("sipp: {}\n"), ["sipp: unknown key"]);
  t.same(problems("sip:\n  listen: {host: 0.0.0.0, prot: 1}\n"), ["sip.listen.prot: unknown key"]);
});

t.test("wrong types and ranges name the key", async (t) => {
  const p = problems("sip:\n  listen: {port: 70000}\nadmin:\n  listen: {port: abc}\n");
  t.equal(p.length, 2);
  t.match(p[0], /^sip\.listen\.port: /);
  t.match(p[1], /^admin\.listen\.port: /);
});

t.test("cipher lists may narrow the policy but never widen it", async (t) => {
  t.same(problems("tls:\n  tls12Ciphers: [ECDHE-ECDSA-AES256-GCM-SHA384]\n"), []);
  t.match(problems("tls:\n  tls12Ciphers: [ECDHE-ECDSA-CHACHA20-POLY1305]\n")[0], /^tls\.tls12Ciphers: may only narrow/);
  t.match(problems("tls:\n  tls13Suites: [TLS_CHACHA20_POLY1305_SHA256]\n")[0], /^tls\.tls13Suites: may only narrow/);
  t.match(problems("tls:\n  minVersion: TLSv1.1\n")[0], /^tls\.minVersion: /);
});

t.test("call-record writer mode: worker (default) or inline, anything else names the key", async (t) => {
  t.same(problems("store:\n  callRecordWriter: {mode: inline}\n"), []);
  t.match(problems("store:\n  callRecordWriter: {mode: thread}\n")[0], /^store\.callRecordWriter\.mode: /);
});

t.test("retention above 30 days is refused", async (t) => {
  t.match(problems("store:\n  callRecordRetentionDays: 31\n")[0], /^store\.callRecordRetentionDays: .*30/);
});

t.test("audit retention: 1 to 3650 days, default 365; anything else names the key", async (t) => {
  t.equal(parseConfig("store: {}\n").store.auditRetentionDays, 365);
  t.same(problems("store:\n  auditRetentionDays: 3650\n"), []);
  t.match(problems("store:\n  auditRetentionDays: 3651\n")[0], /^store\.auditRetentionDays: .*3650/);
  t.match(problems("store:\n  auditRetentionDays: 0\n")[0], /^store\.auditRetentionDays: /);
  t.match(problems("store:\n  auditRetentionDays: 1.5\n")[0], /^store\.auditRetentionDays: /);
});

t.test("peers: unique names, something to match on, well-formed pins", async (t) => {
  const p = problems(
    "peers:\n  - {name: a, match: {dnsNames: [a.example]}}\n  - {name: a, match: {}}\n  - {name: b, match: {spkiSha256: [nope]}}\n",
  );
  t.ok(p.some((x) => x.startsWith("peers.1.match: at least one of")), p.join("\n"));
  t.ok(p.some((x) => x.startsWith("peers.2.match.spkiSha256.0: ")), p.join("\n"));
  t.ok(p.some((x) => x.startsWith("peers: peer names must be unique")), p.join("\n"));
});

t.test("cross-section references are checked", async (t) => {
  t.same(
    problems("sip:\n  defaultUpstream: nowhere\n  upstreams:\n    - {name: s, targets: [{host: h}]}\n"),
    ['sip.defaultUpstream: no upstream named "nowhere" in sip.upstreams'],
  );
});

t.test("YAML syntax errors and duplicate keys are reported", async (t) => {
  t.match(problems("sip: [\n")[0], /^\(yaml\): /);
  t.match(problems("sip: {}\nsip: {}\n")[0], /^\(yaml\): /);
  t.match(problems("- 1\n- 2\n")[0], /^\(root\): expected a mapping/);
});

t.test("environment overrides, for containers", async (t) => {
  const cfg = parseConfig("sip:\n  listen: {port: 5061}\n", "x", {
    TRUNKGATE__SIP__LISTEN__PORT: "5071",
    TRUNKGATE__ADMIN__LISTEN__HOST: "0.0.0.0",
    TRUNKGATE__LOGGING__LEVEL: "debug",
    TRUNKGATE__TLS__TRUST__BUNDLED_ROOTS: "false",
    UNRELATED: "x",
  });
  t.equal(cfg.sip.listen.port, 5071);
  t.equal(cfg.admin.listen.host, "0.0.0.0");
  t.equal(cfg.logging.level, "debug");
  t.equal(cfg.tls.trust.bundledRoots, false);
});

t.test("a problem an environment override caused names the variable, not the file", async (t) => {
  t.match(problems("", { TRUNKGATE__SIP__LISTEN__PORT: "x" })[0], /^sip\.listen\.port \(from TRUNKGATE__SIP__LISTEN__PORT\): /);
  t.match(problems("", { TRUNKGATE__NOPE: "1" })[0], /^nope \(from TRUNKGATE__NOPE\): unknown key/);
  // A JSON value setting a whole mapping: the problem inside it still names the variable.
  t.match(problems("", { TRUNKGATE__ADMIN__LISTEN: '{"port": -1}' })[0], /^admin\.listen\.port \(from TRUNKGATE__ADMIN__LISTEN\): /);
  t.match(problems("sip: {defaultUpstream: a}\n", { TRUNKGATE__SIP__DEFAULT_UPSTREAM: "b" })[0], /^sip\.defaultUpstream \(from TRUNKGATE__SIP__DEFAULT_UPSTREAM\): no upstream named "b"/);
  t.match(problems("sip: {listen: 5}\n", { TRUNKGATE__SIP__LISTEN__PORT: "1" })[0], /^sip\.listen\.port \(from TRUNKGATE__SIP__LISTEN__PORT\): crosses/);
  // Problems in the file itself stay unattributed.
  t.match(problems("sip: {listen: {port: x}}\n", { TRUNKGATE__ADMIN__LISTEN__PORT: "1" })[0], /^sip\.listen\.port: /);
});

t.test("peer match patterns that could never match are errors", async (t) => {
  const ps = problems(
    "peers:\n  - {name: a, match: {dnsNames: [sbc.*.example, '*.*.x', 'sbc*.example', '*.ok.example', ok.example], uris: [carrier-a.example, 'sip:carrier-a.example']}}\n",
  );
  t.match(ps, [
    /^peers\.0\.match\.dnsNames\.0: "sbc\.\*\.example": a wildcard may only be the whole left-most label/,
    /^peers\.0\.match\.dnsNames\.1: "\*\.\*\.x": a wildcard/,
    /^peers\.0\.match\.dnsNames\.2: "sbc\*\.example": a wildcard/,
    /^peers\.0\.match\.uris\.0: not a URI/,
  ]);
  t.equal(ps.length, 4, "every bad pattern, and only those");
});

t.test("the config path: flag, then TRUNKGATE_CONFIG, then the default", async (t) => {
  t.equal(resolveConfigPath("a.yaml", { TRUNKGATE_CONFIG: "b.yaml" }), "a.yaml");
  t.equal(resolveConfigPath(undefined, { TRUNKGATE_CONFIG: "b.yaml" }), "b.yaml");
  t.equal(resolveConfigPath(undefined, {}), "config/default.yaml");
});

t.test("an unreadable file is a config error naming the file", async (t) => {
  t.throws(() => loadConfigFile("/nonexistent/x.yaml", {}), /cannot read \/nonexistent\/x\.yaml: ENOENT/);
});
