// lifecycle.workers parsing (file, env override, "auto") and the restart backoff.
import t from "tap";
import { parseConfig } from "../../src/config/load.js";
import { workerCount } from "../../src/cluster/worker-count.js";
import { FIRST_MS, MAX_MS, restartDelayMs } from "../../src/cluster/restart-backoff.js";

t.test("lifecycle.workers: default 1, integers, auto, env override; bad values name the key", async (t) => {
  t.equal(parseConfig("{}").lifecycle.workers, 1);
  t.equal(parseConfig("lifecycle: { workers: 4 }").lifecycle.workers, 4);
  t.equal(parseConfig("lifecycle: { workers: auto }").lifecycle.workers, "auto");
  t.equal(parseConfig("{}", "(inline)", { TRUNKGATE__LIFECYCLE__WORKERS: "2" }).lifecycle.workers, 2);
  t.equal(parseConfig("{}", "(inline)", { TRUNKGATE__LIFECYCLE__WORKERS: "auto" }).lifecycle.workers, "auto");
  for (const bad of ["0", "1.5", "-1", "many", "257"]) {
    t.throws(() => parseConfig(`lifecycle: { workers: ${bad} }`), { name: "ConfigError", problems: [/^lifecycle\.workers: an integer from 1 to 256, or "auto"$/] }, bad);
  }
});

t.test("workerCount: auto is one per available CPU", async (t) => {
  t.equal(workerCount(3), 3);
  t.equal(workerCount("auto", () => 6), 6);
  t.equal(workerCount("auto", () => 0), 1);
});

t.test("restart backoff doubles per consecutive failure up to a cap", async (t) => {
  t.equal(restartDelayMs(1), FIRST_MS);
  t.equal(restartDelayMs(2), FIRST_MS * 2);
  t.equal(restartDelayMs(3), FIRST_MS * 4);
  t.equal(restartDelayMs(100), MAX_MS);
});
