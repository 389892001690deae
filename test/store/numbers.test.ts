import { eachBackend } from "./backends.js";
import { NumberInputError } from "../../src/store/numbers.js";
import { CursorError } from "../../src/store/numbers.js";

eachBackend("numbers: upsert, get in any notation, update, delete, version bumps", async (t, env) => {
  const store = await env.open();
  const v0 = await store.numbers.version();
  const e = await store.numbers.upsert({ number: "+41 (44) 668-18.00", service: "teams-a", customHeader: "tenant=abc" });
  t.same(e, { number: "+41446681800", service: "teams-a", customHeader: "tenant=abc" });
  const v1 = await store.numbers.version();
  t.ok(v1 > v0, "version bumped by upsert");
  t.same(await store.numbers.get("tel:+41446681800;phone-context=x"), e);
  t.same(await store.numbers.get("sip:+41446681800@gw.example;user=phone"), e);
  t.equal(await store.numbers.get("+41446681801"), null);
  t.equal(await store.numbers.get("not a number"), null);

  await store.numbers.upsert({ number: "+41446681800", service: "teams-b" });
  t.same(await store.numbers.get("+41446681800"), { number: "+41446681800", service: "teams-b", customHeader: null });
  t.ok((await store.numbers.version()) > v1);
  t.equal(await store.numbers.count(), 1);

  const v2 = await store.numbers.version();
  t.equal(await store.numbers.delete("+41446681800"), true);
  t.equal(await store.numbers.delete("+41446681800"), false);
  t.equal(await store.numbers.get("+41446681800"), null);
  t.equal(await store.numbers.version(), v2 + 1, "one bump per delete, none for a no-op delete");
  t.equal(await store.numbers.count(), 0);
});

eachBackend("numbers: invalid input is refused with the field and reason", async (t, env) => {
  const store = await env.open();
  const fieldOf = (p: Promise<unknown>) => p.then(() => "accepted", (e: unknown) => (e instanceof NumberInputError ? e.field : String(e)));
  t.equal(await fieldOf(store.numbers.upsert({ number: "0446681800", service: "s" })), "number");
  t.equal(await fieldOf(store.numbers.upsert({ number: "+41446681800", service: " " })), "service");
  t.equal(await fieldOf(store.numbers.upsert({ number: "+41446681800", service: "s", customHeader: "a\r\nVia: evil" })), "customHeader");
  t.equal(await store.numbers.count(), 0);
});

eachBackend("numbers: batch upsert is one transaction — an invalid row writes nothing", async (t, env) => {
  const store = await env.open();
  const v0 = await store.numbers.version();
  const bad = [
    { number: "+15550000001", service: "s1" },
    { number: "+15550000002", service: "s1" },
    { number: "+0123", service: "s1" },
  ];
  const err = await store.numbers.upsertMany(bad).catch((e: unknown) => e);
  t.ok(err instanceof NumberInputError);
  t.equal((err as NumberInputError).index, 2);
  t.equal(await store.numbers.count(), 0);
  t.equal(await store.numbers.version(), v0);
  const good = Array.from({ length: 250 }, (_, i) => ({ number: `+1555${String(i).padStart(7, "0")}`, service: `s${i % 3}`, customHeader: i % 2 ? `h${i}` : null }));
  await store.numbers.upsertMany(good);
  t.equal(await store.numbers.count(), 250);
  t.equal(await store.numbers.version(), v0 + 1, "one version bump per batch");
});

eachBackend("numbers: cursor pagination visits every number once, in a stable order", async (t, env) => {
  const store = await env.open();
  const all = Array.from({ length: 57 }, (_, i) => ({ number: `+4930${String(i).padStart(6, "0")}`, service: "svc" }));
  await store.numbers.upsertMany(all);
  const seen: string[] = [];
  const cursors: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.numbers.list({ cursor, limit: 10 });
    t.ok(page.items.length <= 10);
    seen.push(...page.items.map((e) => e.number));
    cursor = page.nextCursor;
    if (cursor) cursors.push(cursor);
  } while (cursor);
  t.equal(seen.length, 57);
  t.same([...seen].sort(), all.map((e) => e.number).sort());
  t.equal(cursors.length, 5);
  for (const c of cursors) t.notMatch(Buffer.from(c, "base64url").toString("latin1"), /4930/, "cursor does not reveal a number");
  const again = await store.numbers.list({ limit: 10 });
  t.same(again.items.map((e) => e.number), seen.slice(0, 10), "same order on a second walk");
  await t.rejects(store.numbers.list({ cursor: "garbage!" }), CursorError);
});

eachBackend("numbers: a second store (replica) sees changes through the version counter", async (t, env) => {
  const a = await env.open();
  const b = await env.open();
  const before = await b.numbers.version();
  await a.numbers.upsert({ number: "+442071234567", service: "uk" });
  t.ok((await b.numbers.version()) > before);
  t.same(await b.numbers.get("+44 20 7123 4567"), { number: "+442071234567", service: "uk", customHeader: null });
});
