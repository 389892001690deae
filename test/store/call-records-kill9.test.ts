// Issue 9 item 10 end to end, on both backends: a real `trunkgate start` process carries calls over
// mutual TLS — some answered and left up, others completed at ~100 calls/s — and is killed with
// SIGKILL mid-run, then started again on the same store. Every call that was up when it died gets
// a record (hangup side "unknown") on the restart, and the statistics count it; of the completed
// calls only the last ones (those whose batch had not committed) may be missing, never one in the
// middle, and no call is recorded twice. Before: the calls up had no record at all, and the flush
// interval was 1 s (100 records at 100 calls/s). The figures are printed (t.comment).
import { readFile, writeFile } from "node:fs/promises";
import { parse, stringify } from "yaml";
import { eachBackend } from "./backends.js";
import { liveSetup, startLive, writeLiveConfig } from "./live-instance.js";
import { startNodeUas } from "../sip/e2e/node-uas.js";
import { type Received, SRTP_SDP, TrunkClient, sipRequest, testPki } from "../sip/e2e/harness.js";
import type { SipResponse } from "../../src/sip/parse/index.js";
import { openDriver } from "../../src/store/db/open.js";
import { openStore } from "../../src/store/store.js";
import { until, within } from "../helpers/time.js";

const CALLS_UP = 100;
const COMPLETED_BEFORE_KILL = 300;
const RATE_PER_S = 100;

/** One trunk connection carrying many calls: final responses are handed to whoever waits for them. */
class Trunk {
  readonly #waiters = new Map<string, { resolve: (r: SipResponse) => void; reject: (e: Error) => void }>();
  #closed: Error | null = null;

  constructor(readonly client: TrunkClient) {
    void this.#pump();
  }

  async #pump(): Promise<void> {
    for (;;) {
      let m: Received;
      try {
        m = await this.client.next(3_600_000);
      } catch (err) {
        this.#closed = err as Error;
        for (const w of this.#waiters.values()) w.reject(this.#closed);
        this.#waiters.clear();
        return;
      }
      if (m === "pong" || !("kind" in m) || m.kind !== "response" || m.status < 200) continue;
      const key = `${m.callId} ${m.cseq.method}`;
      this.#waiters.get(key)?.resolve(m);
      this.#waiters.delete(key);
    }
  }

  /** Sends a request and resolves with its final response. */
  request(text: string, callId: string, method: string): Promise<SipResponse> {
    if (this.#closed) return Promise.reject(this.#closed);
    const p = new Promise<SipResponse>((resolve, reject) => this.#waiters.set(`${callId} ${method}`, { resolve, reject }));
    this.client.send(text);
    return p;
  }
}

interface CallState {
  callId: string;
  answered: boolean;
  completedAt?: number;
}

async function placeCall(trunk: Trunk, uri: string, i: number, bye: boolean, state: CallState): Promise<void> {
  const { callId } = state;
  const fromTag = `f${i}`;
  const ok = await trunk.request(sipRequest({ method: "INVITE", uri, callId, fromTag, body: SRTP_SDP }), callId, "INVITE");
  if (ok.status !== 200) throw new Error(`INVITE ${i}: ${ok.status}`);
  state.answered = true;
  const toTag = ok.to.tag;
  trunk.client.send(sipRequest({ method: "ACK", uri, callId, fromTag, ...(toTag ? { toTag } : {}), cseq: 1 }));
  if (!bye) return;
  const done = await trunk.request(sipRequest({ method: "BYE", uri, callId, fromTag, ...(toTag ? { toTag } : {}), cseq: 2 }), callId, "BYE");
  if (done.status !== 200) throw new Error(`BYE ${i}: ${done.status}`);
  state.completedAt = Date.now();
}

eachBackend("kill -9 mid-run: calls up get a record on restart, completed calls lose at most the last batch", async (t, env) => {
  const pki = await testPki();
  const uas = await startNodeUas({ inviteStatus: 200 });
  t.teardown(() => uas.close());
  const setup = await liveSetup(pki, env.dir, env.url);
  const configPath = await writeLiveConfig(setup, "kill9.yaml");
  // The shared live config, with an upstream that answers, and the writer's default flush interval.
  const cfg = parse(await readFile(configPath, "utf8")) as { sip: Record<string, unknown>; store: { callRecordWriter: Record<string, unknown> } };
  cfg.sip.upstreams = [{ name: "svc-a", targets: [{ host: "127.0.0.1", port: uas.port, transport: "tcp" }], healthCheck: { enabled: false } }];
  delete cfg.store.callRecordWriter.flushIntervalMs;
  await writeFile(configPath, stringify(cfg));

  const first = await startLive(setup, configPath);
  t.teardown(() => first.cli.child.kill("SIGKILL"));
  const uri = `sip:+4930123456@127.0.0.1:${first.sipPort}`;
  const trunk = new Trunk(await TrunkClient.connect(first.sipPort, pki.client, pki));
  t.teardown(() => trunk.client.close());

  // 1. Calls that stay up: answered, ACKed, never hung up.
  const up: CallState[] = Array.from({ length: CALLS_UP }, (_, i) => ({ callId: `up-${i}@kill9`, answered: false }));
  await within(Promise.all(up.map((s, i) => placeCall(trunk, uri, i, false, s))), 60_000, "calls answered");
  // They are journaled within a flush interval: the store (read from here) shows them.
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  await until(async () => Number((await db.all<{ n: number }>("SELECT COUNT(*) AS n FROM call_journal"))[0]!.n) >= CALLS_UP, "the calls up journaled", 60_000);

  // 2. Completed calls at ~100/s; SIGKILL once 300 completed, with more in flight.
  const completed: CallState[] = [];
  const started: CallState[] = [];
  let reached!: () => void;
  const enough = new Promise<void>((r) => (reached = r));
  let i = 0;
  const pacer = setInterval(() => {
    const s: CallState = { callId: `done-${i}@kill9`, answered: false };
    started.push(s);
    placeCall(trunk, uri, CALLS_UP + i++, true, s).then(
      () => {
        completed.push(s);
        if (completed.length === COMPLETED_BEFORE_KILL) reached();
      },
      () => undefined, // cut by the kill
    );
  }, 1000 / RATE_PER_S);
  t.teardown(() => clearInterval(pacer));
  await within(enough, 120_000, `${COMPLETED_BEFORE_KILL} calls completed`);
  const killedAt = Date.now();
  await first.kill9();
  clearInterval(pacer);
  const inFlightAnswered = started.filter((s) => s.answered && s.completedAt === undefined);

  // 3. Restart on the same store: the start-up recovery records the calls of the dead process.
  const second = await startLive(setup, configPath);
  t.teardown(() => second.stop());
  const store = await openStore({ url: env.url, keyFile: setup.keyFile, baseDir: env.dir });
  t.teardown(() => store.close());

  let upRecorded = 0;
  for (const s of up) {
    const recs = await store.callRecords.findByCallId(s.callId);
    if (recs.length === 1) upRecorded++;
    t.equal(recs.length, 1, `call up ${s.callId}: one record`);
    const r = recs[0];
    if (!r) continue;
    t.equal(r.hangupSide, "unknown", "its end was not seen");
    t.equal(r.finalStatus, 200);
    t.ok(r.endedAt !== null && r.answeredAt !== null && r.endedAt.getTime() >= r.answeredAt.getTime(), "ended no earlier than answered");
    t.equal(r.calledNumber, "+4930123456", "its numbers, from the encrypted journal");
  }

  // Completed calls: recorded with their end in completion order, up to the last committed batch.
  const ends: string[] = [];
  let recordedWithEnd = 0;
  let recoveredUnknown = 0;
  let lost = 0;
  for (const s of completed) {
    const recs = await store.callRecords.findByCallId(s.callId);
    t.ok(recs.length <= 1, `${s.callId}: never recorded twice`);
    const side = recs[0]?.hangupSide;
    ends.push(side === "caller" ? "R" : side === "unknown" ? "U" : "-");
    if (side === "caller") recordedWithEnd++;
    else if (side === "unknown") recoveredUnknown++;
    else lost++;
  }
  const pattern = ends.join("");
  t.match(pattern, /^R*[U-]*$/, "records with an end form a prefix of the completion order (no hole)");
  let inFlightRecovered = 0;
  for (const s of inFlightAnswered) if ((await store.callRecords.findByCallId(s.callId)).length > 0) inFlightRecovered++;

  const total = await store.callRecords.count();
  const today = new Date().toISOString().slice(0, 10);
  const stats = await store.statistics.dailyStatistics({ from: today, to: today });
  t.equal(stats.reduce((n, r) => n + r.calls, 0), total, "the statistics count every record, the recovered ones included");
  t.equal(Number((await db.all<{ n: number }>("SELECT COUNT(*) AS n FROM call_journal"))[0]!.n), 0, "nothing of the dead process left in the journal");
  const lostMs = completed.filter((_s, k) => ends[k] !== "R").map((s) => killedAt - s.completedAt!);
  t.comment(
    `${env.dialect}: ${completed.length} completed at ~${RATE_PER_S}/s before kill -9: ${recordedWithEnd} recorded with their end, ` +
      `${recoveredUnknown} recovered from the journal (end unknown), ${lost} without record` +
      `${lostMs.length ? ` (completed ${Math.min(...lostMs)}-${Math.max(...lostMs)} ms before the kill)` : ""}; ` +
      `${CALLS_UP} calls up: ${upRecorded} recorded; ${inFlightAnswered.length} answered and not yet ended at the kill: ${inFlightRecovered} recorded`,
  );
});
