// NumberRepository.change(): read-decide-write of one number in one transaction. Concurrent
// create-only writers (the API's If-None-Match: *) on both backends: exactly one creates, the others
// see the row it created, so none overwrites it.
import { eachBackend } from "./backends.js";

eachBackend("numbers.change: concurrent create-only writers, exactly one wins", async (t, env) => {
  const store = await env.open();
  t.teardown(() => store.close());
  for (let round = 0; round < 5; round++) {
    const number = `+4940300${round}`;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.numbers.change(number, (cur) => (cur ? { keep: true, result: "exists" } : { put: { number, service: "svc", customHeader: `w=${i}` }, result: `created by ${i}` })),
      ),
    );
    const winners = outcomes.filter((o) => o.result.startsWith("created"));
    t.equal(winners.length, 1, `round ${round}: one writer created it`);
    const stored = await store.numbers.getStored(number);
    t.same(stored?.entry.customHeader, `w=${winners[0]!.result.slice("created by ".length)}`, "its entry is what is stored");
    t.equal(stored?.etag, winners[0]!.after?.etag, "the tag it was given is the stored entry's");
  }
});

eachBackend("numbers.change: keep, remove and the version counter", async (t, env) => {
  const store = await env.open();
  t.teardown(() => store.close());
  const v0 = await store.numbers.version();
  const kept = await store.numbers.change("+4940301", () => ({ keep: true, result: 1 }));
  t.same(kept, { result: 1, before: null, after: null });
  t.equal(await store.numbers.version(), v0, "keep writes nothing");
  const made = await store.numbers.change("+49 40 301", () => ({ put: { number: "+4940301", service: "svc" }, result: 2 }));
  t.same(made.after?.entry, { number: "+4940301", service: "svc", customHeader: null });
  t.equal(await store.numbers.version(), v0 + 1);
  const gone = await store.numbers.change("+4940301", (cur) => ({ remove: true, result: cur?.etag }));
  t.equal(gone.result, made.after?.etag, "decide saw the current tag");
  t.equal(gone.after, null);
  t.equal(await store.numbers.get("+4940301"), null);
  t.equal(await store.numbers.version(), v0 + 2);
  await t.rejects(store.numbers.change("+4940301", () => ({ put: { number: "+4940302", service: "svc" }, result: 0 })), { name: "NumberInputError" }, "a put for another number is refused");
});

eachBackend("numbers.upsertManyReport and deleteMany: per-entry outcome, one version bump", async (t, env) => {
  const store = await env.open();
  t.teardown(() => store.close());
  await store.numbers.upsert({ number: "+4940311", service: "svc" });
  const v0 = await store.numbers.version();
  const report = await store.numbers.upsertManyReport([
    { number: "+4940310", service: "svc" },
    { number: "+49 40 311", service: "svc", customHeader: "h" },
  ]);
  t.same(report.map((r) => r.created), [true, false]);
  t.equal(await store.numbers.version(), v0 + 1);
  const gone = await store.numbers.deleteMany(["+4940310", "+4940312", "+4940311", "+4940310"]);
  t.same(gone, [true, false, true, false], "deleted, absent, deleted, already deleted by its first mention");
  t.equal(await store.numbers.version(), v0 + 2, "one bump for the batch");
  t.same(await store.numbers.deleteMany(["+4940310"]), [false]);
  t.equal(await store.numbers.version(), v0 + 2, "no bump when nothing was deleted");
  t.equal(await store.numbers.count(), 0);
});

eachBackend("numbers.list by service: only that service, in index order, cursor across pages", async (t, env) => {
  const store = await env.open();
  t.teardown(() => store.close());
  await store.numbers.upsertMany(Array.from({ length: 9 }, (_, i) => ({ number: `+494032${i}`, service: i % 2 ? "odd" : "even" })));
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof store.numbers.list>> = await store.numbers.list({ service: "even", limit: 2, cursor });
    for (const e of page.items) {
      t.equal(e.service, "even");
      seen.push(e.number);
    }
    cursor = page.nextCursor;
  } while (cursor);
  t.same(seen.sort(), ["+4940320", "+4940322", "+4940324", "+4940326", "+4940328"]);
});
