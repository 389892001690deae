import { eachBackend } from "./backends.js";

eachBackend("key rotation re-encrypts every value; old key can then go; lookups unaffected", async (t, env) => {
  const store = await env.open({ statisticsMinGroupSize: 1 }); // per-peer rows: merging is tested in statistics.test.ts
  await store.numbers.upsertMany(Array.from({ length: 23 }, (_, i) => ({ number: `+3120${String(i).padStart(7, "0")}`, service: "nl", customHeader: `hdr-${i}` })));
  const calls = Array.from({ length: 11 }, (_, i) => ({
    callId: `c${i}`,
    startedAt: new Date(Date.UTC(2025, 0, 1 + i)),
    hangupSide: "callee" as const,
    peer: "peer-x",
    callingNumber: "+31200000001",
    calledNumber: "+31200000002",
  }));
  await store.callRecords.insertMany(calls);
  await store.callRecords.purgeStartedBefore(new Date(Date.UTC(2025, 0, 4))); // statistics rows (one per day, encrypted peer) stay
  // Two calls still up, journaled (peer and numbers encrypted like a record's).
  const up = [0, 1].map((i) => ({ journal: true as const, callId: `up${i}`, startedAt: new Date(), answeredAt: new Date(), finalStatus: 200, peer: "peer-x", callingNumber: "+31200000001", calledNumber: "+31200000002" }));
  await store.callRecords.insertMany(up, { journalOwner: "inst" });
  // Three accounts: a name and a default header each (encrypted), one with neither.
  for (const id of ["acc-1", "acc-2"]) await store.accounts.change(id, () => ({ put: { id, name: `Name ${id}`, service: "nl", customHeader: `acc-hdr-${id}` }, result: 0 }));
  await store.accounts.change("acc-3", () => ({ put: { id: "acc-3" }, result: 0 }));
  // Numbers 23 + custom headers 23 + account names and headers 2 * 2 + one sealed value per record (8)
  // + statistics peers 11 + one per journal entry (2) + the audit entries of the import (23) and the
  // accounts (3) (their after fields; before: none, a create).
  t.same(await store.keyUsage(), { k1: 23 + 23 + 2 * 2 + 8 + 11 + 2 + 23 + 3 });

  const next = store.keyring.withNewActiveKey();
  store.useKeyring(next);
  const result = await store.reencrypt({ batchSize: 7 });
  t.same(result.rewritten, { numbers: 23, accounts: 2, call_records: 8, daily_statistics: 11, call_journal: 2, audit_trail: 26 });
  t.same(await store.keyUsage(), { k2: 97 }, "no value uses k1 any more");
  t.same((await store.reencrypt()).rewritten, { numbers: 0, accounts: 0, call_records: 0, daily_statistics: 0, call_journal: 0, audit_trail: 0 }, "idempotent");

  const withoutOld = await env.open({ keyring: next.without(["k1"]), statisticsMinGroupSize: 1 });
  t.same(await withoutOld.numbers.get("+31 20 000 0005"), { number: "+31200000005", service: "nl", customHeader: "hdr-5" }, "blind index unchanged");
  t.same(await withoutOld.accounts.get("acc-2"), { id: "acc-2", name: "Name acc-2", service: "nl", customHeader: "acc-hdr-acc-2" }, "accounts readable under the new key alone");
  t.equal((await withoutOld.callRecords.findByCallId("c9"))[0]?.peer, "peer-x");
  t.equal((await withoutOld.statistics.dailyStatistics({ from: "2025-01-01", to: "2025-01-31" }))[0]?.peer, "peer-x");
  t.match(await withoutOld.recoverOrphanedCalls({ self: "other", full: true }), [{ owner: "inst", calls: 2 }], "journal entries readable under the new key alone");
  t.match((await withoutOld.callRecords.findByCallId("up1"))[0], { peer: "peer-x", callingNumber: "+31200000001", hangupSide: "unknown" });
  const audit = await withoutOld.audit.list({ target: withoutOld.numbers.indexOf("+31200000005") });
  t.same(audit.items.map((e) => [e.op, e.after]), [["create", { service: "nl", customHeader: "hdr-5", account: null }]], "audit entries readable under the new key alone");
  const accountAudit = await withoutOld.audit.list({ target: "acc-1" });
  t.same(accountAudit.items.map((e) => [e.kind, e.after]), [["account", { name: "Name acc-1", service: "nl", customHeader: "acc-hdr-acc-1" }]], "an account's entry too");
});
