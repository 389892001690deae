// FIFO timer queues on a manual clock: order, cancellation, re-arming, no closure per timer.
import t from "tap";
import { FifoTimers, ManualPlatform, type TimerTarget } from "../../../src/sip/timer/timers.js";

class Rec implements TimerTarget {
  fired: [number, number][] = [];
  constructor(private p: ManualPlatform) {}
  onTimer(kind: number): void {
    this.fired.push([kind, this.p.now()]);
  }
}

t.test("timers of several durations fire in due order, at their due time", async (t) => {
  const p = new ManualPlatform();
  const timers = new FifoTimers(p);
  const r = new Rec(p);
  timers.start(r, 1, 500);
  timers.start(r, 2, 100);
  p.advance(50);
  timers.start(r, 3, 100); // due 150
  timers.start(r, 4, 500); // due 550
  t.equal(timers.pending, 4);
  p.advance(1000);
  t.same(r.fired, [[2, 100], [3, 150], [1, 500], [4, 550]]);
  t.equal(timers.pending, 0);
});

t.test("cancelled timers never fire; a queue keeps working after its head was cancelled", async (t) => {
  const p = new ManualPlatform();
  const timers = new FifoTimers(p);
  const r = new Rec(p);
  const a = timers.start(r, 1, 100);
  timers.start(r, 2, 100);
  timers.cancel(a);
  timers.cancel(a); // idempotent
  t.equal(timers.pending, 1);
  p.advance(100);
  t.same(r.fired, [[2, 100]]);
  timers.start(r, 3, 100);
  p.advance(100);
  t.same(r.fired, [[2, 100], [3, 200]]);
});

t.test("a timer started from a callback lands in the same queue correctly", async (t) => {
  const p = new ManualPlatform();
  const timers = new FifoTimers(p);
  const fired: number[] = [];
  const target: TimerTarget = {
    onTimer(kind) {
      fired.push(p.now());
      if (kind < 3) timers.start(target, kind + 1, 100);
    },
  };
  timers.start(target, 1, 100);
  p.advance(1000);
  t.same(fired, [100, 200, 300]);
});

t.test("close() drops everything", async (t) => {
  const p = new ManualPlatform();
  const timers = new FifoTimers(p);
  const r = new Rec(p);
  timers.start(r, 1, 100);
  timers.close();
  p.advance(1000);
  t.same(r.fired, []);
  t.equal(timers.start(r, 1, 1).active, false, "no timers after close");
});

t.test("many timers: compaction keeps order", async (t) => {
  const p = new ManualPlatform();
  const timers = new FifoTimers(p);
  let n = 0;
  let last = -1;
  let ordered = true;
  const target: TimerTarget = { onTimer(k) { if (k < last) ordered = false; last = k; n++; } };
  for (let i = 0; i < 5000; i++) {
    timers.start(target, i, 1000);
    if (i % 1000 === 999) p.advance(1);
  }
  p.advance(2000);
  t.equal(n, 5000);
  t.ok(ordered);
});

t.test("cancelled long timers are compacted away and release their targets", async (t) => {
  const p = new ManualPlatform();
  const timers = new FifoTimers(p);
  const r = new Rec(p);
  const entries = [];
  for (let i = 0; i < 1000; i++) entries.push(timers.start(r, i, 180_000));
  for (let i = 0; i < 999; i++) timers.cancel(entries[i]);
  t.equal(timers.pending, 1);
  p.advance(180_000);
  t.same(r.fired, [[999, 180_000]], "only the live one fires, after compaction");
  // cancelling from inside a callback while the queue runs
  const many: ReturnType<typeof timers.start>[] = [];
  const canceller = { onTimer: () => { for (const e of many) timers.cancel(e); } };
  timers.start(canceller, 0, 10);
  for (let i = 0; i < 200; i++) many.push(timers.start(r, 5000 + i, 10));
  p.advance(10);
  t.equal(r.fired.length, 1, "timers cancelled by an earlier callback in the same run do not fire");
});

t.test("a throwing callback is reported; later timers still fire", async (t) => {
  const p = new ManualPlatform();
  const errors: unknown[] = [];
  const timers = new FifoTimers(p, (e) => errors.push(e));
  const r = new Rec(p);
  timers.start({ onTimer: () => { throw new Error("boom"); } }, 1, 10);
  timers.start(r, 2, 10);
  p.advance(10);
  t.equal(errors.length, 1);
  t.same(r.fired, [[2, 10]]);
});

t.test("expireLater: keys expire at their due time, in order, across durations; ring growth keeps order; close stops them", async (t) => {
  const p = new ManualPlatform();
  const timers = new FifoTimers(p);
  const got: [string, number][] = [];
  const target = { onKeyExpired: (k: string) => got.push([k, p.now()]) };
  timers.expireLater(target, "a", 1000);
  p.advance(10);
  timers.expireLater(target, "b", 1000); // due 1010
  timers.expireLater(target, "c", 200); // due 210: another duration, its own ring
  p.advance(989);
  t.same(got, [["c", 210]], "nothing before its due time");
  p.advance(1);
  t.same(got.map((g) => g[0]), ["c", "a"]);
  p.advance(10);
  t.same(got, [["c", 210], ["a", 1000], ["b", 1010]]);
  // More keys than the initial ring (64) while the head has moved: order and times survive growth.
  got.length = 0;
  for (let i = 0; i < 50; i++) timers.expireLater(target, `x${i}`, 100);
  p.advance(100);
  for (let i = 0; i < 300; i++) {
    timers.expireLater(target, `y${i}`, 100);
    if (i % 100 === 99) p.advance(1);
  }
  p.advance(100);
  t.equal(got.length, 350);
  t.same(got.slice(50).map((g) => g[0]), Array.from({ length: 300 }, (_, i) => `y${i}`), "FIFO order kept");
  t.ok(got.slice(50).every(([k, at]) => at === 1210 + Math.floor(Number(k.slice(1)) / 100)), "each at its own due time");
  timers.expireLater(target, "late", 100);
  timers.close();
  p.advance(1000);
  t.equal(got.length, 350, "closed: nothing fires");
});
