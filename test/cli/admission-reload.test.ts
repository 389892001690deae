// Issue 14 part 2: admission limits are live. A running `trunkgate start` re-reads its config file
// on SIGHUP: a changed sip.admission limit applies to the next call; an invalid file is refused with
// an error naming the key and the running limits stay; other changed keys are logged as needing a
// restart.
import t from "tap";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import type { SipResponse } from "../../src/sip/parse/index.js";
import { clusterConfig } from "../cluster/harness.js";
import { appEnv, collect, MAIN, waitForLine } from "../helpers/cli.js";
import { RTP_SDP, sipRequest, testPki, TrunkClient } from "../sip/e2e/harness.js";
import { startNodeUas } from "../sip/e2e/node-uas.js";

const URI = "sip:+4930123456@127.0.0.1";

async function invite(c: TrunkClient, callId: string): Promise<SipResponse> {
  c.send(sipRequest({ method: "INVITE", uri: URI, callId, fromTag: `f-${callId}`, body: RTP_SDP }));
  for (;;) {
    const m = await c.next(10_000);
    if (typeof m === "object" && m.kind === "response" && m.cseq.method === "INVITE" && m.status >= 200) {
      if (m.status === 200) c.send(sipRequest({ method: "ACK", uri: URI, callId, fromTag: `f-${callId}`, toTag: m.to.tag! }));
      return m;
    }
  }
}

t.test("SIGHUP applies a new maxConcurrentCalls; an invalid file keeps the old one", async (t) => {
  const pki = await testPki();
  const uas = await startNodeUas({ inviteStatus: 200 });
  t.teardown(() => uas.close());
  // One process (the reload path of `start` itself; cluster workers share App.reloadConfig).
  const config = (admission: Record<string, unknown>, idleMs = 600_000): Record<string, unknown> =>
    clusterConfig(pki, {
      sip: {
        listen: { host: "127.0.0.1", port: 0 },
        upstreams: [{ name: "svc", targets: [{ host: "127.0.0.1", port: uas.port, transport: "tcp" }], healthCheck: { enabled: false } }],
        media: { srtpPolicy: "off" },
        numberRouting: { enabled: false },
        timeouts: { idleMs },
        admission,
      },
      lifecycle: { workers: 1, drainGraceSeconds: 2 },
    });
  const file = join(pki.dir, "admission-reload.yaml");
  await writeFile(file, stringify(config({ maxConcurrentCalls: 1 })));
  const child = spawn(process.execPath, [MAIN, "start", "--config", file], { stdio: "pipe", env: appEnv() });
  const done = collect(child, 60_000);
  t.teardown(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const started = JSON.parse(await waitForLine(child, (l) => l.includes('"trunkgate started"'))) as { listeners: { sip: number } };
  const c = await TrunkClient.connect(started.listeners.sip, pki.client, pki);
  t.teardown(() => c.close());

  t.equal((await invite(c, "r1")).status, 200, "first call up");
  t.equal((await invite(c, "r2")).status, 503, "limit 1: the second call is refused");

  await writeFile(file, stringify(config({ maxConcurrentCalls: 2 })));
  let applied = waitForLine(child, (l) => l.includes("admission limits applied"));
  child.kill("SIGHUP");
  await applied;
  t.equal((await invite(c, "r3")).status, 200, "after SIGHUP, limit 2: the second call goes through");
  t.equal((await invite(c, "r4")).status, 503, "and the third is refused");

  await writeFile(file, stringify(config({ maxConcurrentCalls: -3 })));
  const refused = waitForLine(child, (l) => l.includes("config reload refused"));
  child.kill("SIGHUP");
  const line = await refused;
  t.match(line, /sip\.admission\.maxConcurrentCalls/, "the error names the key");
  t.match(line, /"level":"error"/, "logged as an error");
  t.equal((await invite(c, "r5")).status, 503, "the running limit (2) stays");

  await writeFile(file, stringify(config({ maxConcurrentCalls: 3 }, 300_000)));
  const restart = waitForLine(child, (l) => l.includes("need a restart"));
  applied = waitForLine(child, (l) => l.includes("admission limits applied"));
  child.kill("SIGHUP");
  t.match(await restart, /sip\.timeouts\.idleMs/, "a changed key that is not live is named as needing a restart");
  await applied;
  t.equal((await invite(c, "r6")).status, 200, "the admission part of that file applied: limit 3");

  child.kill("SIGTERM");
  const r = await done;
  t.equal(r.code, 0, r.stderr);
});
