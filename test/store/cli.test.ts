import t from "tap";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eachBackend, tempDir } from "./backends.js";
import { keysCommand } from "../../src/cli/keys.js";
import { numbersCommand } from "../../src/cli/numbers.js";
import { retentionCommand } from "../../src/cli/retention.js";
import { userInfo } from "node:os";
import { openStore } from "../../src/store/store.js";

/** The services `numbers import` accepts: the configured SIP upstreams. */
const UPSTREAMS = "sip:\n  upstreams:\n    - name: teams\n      targets: [{ host: 127.0.0.1 }]\n    - name: webex\n      targets: [{ host: 127.0.0.1 }]\n";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

t.test("numbers import applies the API's rules: unknown services, header charset and length refused by line", async (t) => {
  const dir = tempDir(t);
  const keyFile = join(dir, "store.key");
  const config = join(dir, "trunkgate.yaml");
  writeFileSync(config, `${UPSTREAMS}store:\n  url: "sqlite:${join(dir, "store.db")}"\n  encryptionKeyFile: "${keyFile}"\n`);
  const csv = join(dir, "hostile.csv");
  const rows = [
    "number,service,customHeader",
    "+41446681801,no-such-service; DROP TABLE numbers;--,", // line 2
    "+41446681802,teams,caf\u00e9", // line 3: non-ASCII
    "+41446681803,teams,a\u0085b", // line 4: C1 control (NEL)
    `+41446681804,teams,${"x".repeat(500)}`, // line 5: too long
    "+41446681805,nope,", // line 6: unknown service
    "+41446681806,teams,tenant=ok", // line 7: fine
  ];
  writeFileSync(csv, rows.join("\n") + "\n", "utf8");
  const r = io();
  t.equal(await numbersCommand(["import", csv, "--config", config], r.io), 1);
  const report = r.err.join("\n");
  t.match(report, /nothing imported: 5 problem/);
  t.match(report, /line 2: service: unknown service/);
  t.match(report, /line 3: customHeader: character at position 4 is not printable ASCII/);
  t.match(report, /line 4: customHeader: character at position 2 is not printable ASCII/);
  t.match(report, /line 5: customHeader: longer than 256 characters/);
  t.match(report, /line 6: service: unknown service/);
  t.notMatch(report, /line 7/);
  t.notMatch(report, /DROP|caf|xxxx|4466818/, "the report never repeats values");
  t.notOk(existsSync(keyFile), "refused before touching the store");

  const ok = join(dir, "ok.csv");
  writeFileSync(ok, "number,service,customHeader\n+41446681806, teams ,tenant=ok\n");
  const r2 = io();
  t.equal(await numbersCommand(["import", ok, "--config", config], r2.io), 0, r2.err.join("\n"));
  const r3 = io();
  t.equal(await numbersCommand(["export", "--config", config], r3.io), 0);
  t.same(r3.out, ["number,service,customHeader,account", "+41446681806,teams,tenant=ok,"]);
});

t.test("keys init creates a 0600 file and refuses to overwrite", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "k.json");
  const a = io();
  t.equal(await keysCommand(["init", "--out", file], a.io), 0);
  t.equal(statSync(file).mode & 0o777, 0o600);
  const before = readFileSync(file, "utf8");
  const b = io();
  t.equal(await keysCommand(["init", "--out", file], b.io), 1);
  t.match(b.err.join("\n"), /already exists/);
  t.equal(readFileSync(file, "utf8"), before);
  t.equal(await keysCommand(["init", "--out", file, "--force"], io().io), 0);
  t.not(readFileSync(file, "utf8"), before);
  const c = io();
  t.equal(await keysCommand(["init"], c.io), 2, "usage error");
  t.match(c.err.join("\n"), /--out FILE is required[\s\S]*usage:/);
  t.equal(await keysCommand(["frobnicate"], io().io), 2);
});

eachBackend("numbers import/export, key rotation and retention through the CLI", async (t, env) => {
  const keyFile = join(env.dir, "keys", "store.key");
  const config = join(env.dir, "trunkgate.yaml");
  writeFileSync(config, `${UPSTREAMS}store:\n  url: "${env.url}"\n  encryptionKeyFile: "${keyFile}"\n`);

  const bad = join(env.dir, "bad.csv");
  writeFileSync(bad, 'number,service,customHeader\n+41 44 668 18 00,teams,"a,b"\n0446681800,teams,\n+15551234567,,\n+41446681800,webex,\n+1555"x,teams,\n');
  const r1 = io();
  t.equal(await numbersCommand(["import", bad, "--config", config], r1.io), 1);
  const report = r1.err.join("\n");
  t.match(report, /nothing imported: 4 problem/);
  t.match(report, /line 6: number: not an E.164 number: character at position 6 is not a digit/);
  t.match(report, /line 3: number: not an E.164 number: must start with '\+'/);
  t.match(report, /line 4: service: empty/);
  t.match(report, /line 5: number: duplicate of line 2/);
  t.match(report, /line 6: /);
  t.notMatch(report, /4466/, "the report does not repeat numbers");
  t.notOk(existsSync(keyFile), "refused before touching the store");

  const good = join(env.dir, "good.csv");
  writeFileSync(good, 'number,service,customHeader\r\n+41 44 668 18 00,teams,"tenant=a,b"\r\ntel:+1-555-123-4567,webex,\r\n');
  const r2 = io();
  t.equal(await numbersCommand(["import", good, "--config", config], r2.io), 0, r2.err.join("\n"));
  t.match(r2.out.join("\n"), /imported 2 number/);
  t.equal(statSync(keyFile).mode & 0o777, 0o600, "key file created on first run");

  const r3 = io();
  t.equal(await numbersCommand(["export", "--config", config], r3.io), 0);
  t.equal(r3.out[0], "number,service,customHeader,account");
  t.same(r3.out.slice(1).sort(), ["+15551234567,webex,,", '+41446681800,teams,"tenant=a,b",']);

  const r4 = io();
  t.equal(await keysCommand(["rotate", "--config", config, "--prune"], r4.io), 0, r4.err.join("\n"));
  t.match(r4.out.join("\n"), /added key k2[\s\S]*re-encrypted 2 row\(s\) in numbers[\s\S]*removed unused key\(s\): k1/);
  const keyring = JSON.parse(readFileSync(keyFile, "utf8")) as { active: string; keys: Record<string, string> };
  t.equal(keyring.active, "k2");
  t.same(Object.keys(keyring.keys), ["k2"]);
  const r5 = io();
  t.equal(await keysCommand(["status", "--config", config], r5.io), 0);
  // 3 in numbers; audit entries: import 2 (after), export 1, rotate 2 and prune 2 (before, after).
  t.match(r5.out.join("\n"), /^k2\t10 value\(s\)\t\(active\)$/m);
  const r6 = io();
  t.equal(await numbersCommand(["export", "--config", config], r6.io), 0);
  t.same(r6.out.slice(1).sort(), r3.out.slice(1).sort(), "still readable after rotation");

  // The account column: numbers of an account, one inheriting its default service (empty service).
  const accountStore = await env.open({ keyring: undefined, keyFile });
  await accountStore.accounts.change("acme", () => ({ put: { id: "acme", service: "webex" }, result: 0 }));
  await accountStore.close();
  const withAccounts = join(env.dir, "accounts.csv");
  writeFileSync(withAccounts, "number,service,customHeader,account\n+4930700,,,acme\n+4930701,teams,h=1,acme\n");
  const ra = io();
  t.equal(await numbersCommand(["import", withAccounts, "--config", config], ra.io), 0, ra.err.join("\n"));
  const rb = io();
  t.equal(await numbersCommand(["export", "--config", config], rb.io), 0);
  t.ok(rb.out.includes("+4930700,,,acme") && rb.out.includes("+4930701,teams,h=1,acme"), "exported with their account, the inherited service empty");
  const unknown = join(env.dir, "unknown-account.csv");
  writeFileSync(unknown, "number,service,customHeader,account\n+4930702,teams,,acme\n+4930703,,,nobody\n");
  const rc = io();
  t.equal(await numbersCommand(["import", unknown, "--config", config], rc.io), 1);
  t.match(rc.err.join("\n"), /nothing imported: line 3: account: unknown account/);
  const noService = join(env.dir, "no-service.csv");
  writeFileSync(noService, "number,service,customHeader,account\n+4930704,,,\n");
  const rd = io();
  t.equal(await numbersCommand(["import", noService, "--config", config], rd.io), 1);
  t.match(rd.err.join("\n"), /line 2: service: empty/, "no account: the service is required");

  const r7 = io();
  t.equal(await retentionCommand(["run", "--config", config], r7.io), 0, r7.err.join("\n"));
  t.match(r7.out.join("\n"), /purged 0 call record\(s\) started before [\s\S]*purged 0 audit trail entries older than 365 day/);

  // Every CLI change, the export and the key operations are in the audit trail, as the local user.
  const store = await openStore({ url: env.url, keyFile, baseDir: env.dir });
  t.teardown(() => store.close());
  const all = (await store.audit.list()).items;
  const user = `cli:${userInfo().username}`;
  // Newest first: the accounts part (the account created through the store names no actor; the
  // refused imports left nothing), then the CLI operations before it.
  t.same(
    all.slice(0, 4).map((e) => [e.kind, e.op, e.subject, e.via]),
    [
      ["export", "export", user, "cli numbers export"],
      ["number", "create", user, "cli numbers import"],
      ["number", "create", user, "cli numbers import"],
      ["account", "create", null, "store"],
    ],
  );
  // The two numbers of one import are in blind-index order: looked up by target.
  const imported = new Map(all.slice(1, 3).map((e) => [e.target, e.after]));
  t.same(imported.get(store.numbers.indexOf("+4930700")), { service: null, customHeader: null, account: "acme" }, "own fields with the account");
  t.same(imported.get(store.numbers.indexOf("+4930701")), { service: "teams", customHeader: "h=1", account: "acme" });
  t.same([all[3]!.target, all[3]!.after], ["acme", { name: null, service: "webex", customHeader: null }], "the account by its id, its fields");
  const entries = all.slice(4);
  t.same(
    entries.map((e) => [e.kind, e.op, e.subject, e.peer, e.via]),
    [
      ["export", "export", user, null, "cli numbers export"],
      ["keys", "prune", user, null, "cli keys rotate --prune"],
      ["keys", "rotate", user, null, "cli keys rotate --prune"],
      ["export", "export", user, null, "cli numbers export"],
      ["number", "create", user, null, "cli numbers import"],
      ["number", "create", user, null, "cli numbers import"],
    ],
  );
  t.same(entries.slice(0, 4).map((e) => [e.before, e.after]), [
    [null, { rows: 2, unreadable: 0 }],
    [{ keys: "k1,k2" }, { keys: "k2", kept: "" }],
    [{ active: "k1" }, { active: "k2", rowsReencrypted: 5 }], // 2 numbers, 3 audit entries
    [null, { rows: 2, unreadable: 0 }],
  ]);
  t.same(
    entries.slice(4).map((e) => e.after).sort((a, b) => String(a!.service).localeCompare(String(b!.service))),
    [
      { service: "teams", customHeader: "tenant=a,b", account: null },
      { service: "webex", customHeader: null, account: null },
    ],
  );
  t.equal(entries[4]!.target, store.numbers.indexOf(entries[4]!.after!.service === "teams" ? "+41446681800" : "+15551234567"), "the number as its blind index");
  const r8 = io();
  t.equal(await retentionCommand(["stats", "--config", config, "--from", "2025-01-01", "--to", "nope"], r8.io), 1);
  t.match(r8.err.join("\n"), /to: expected YYYY-MM-DD/);
  t.equal(await numbersCommand(["import", "--config", config], io().io), 2, "missing file is a usage error");
  const r9 = io();
  t.equal(await numbersCommand(["export", "--config", join(env.dir, "missing.yaml")], r9.io), 1);
  t.match(r9.err.join("\n"), /cannot read/);
});
