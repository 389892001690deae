// lifecycle.workers → how many worker processes: "auto" is one per CPU the process may use.
import { availableParallelism } from "node:os";
import type { LifecycleConfig } from "../config/schema/index.js";

export function workerCount(setting: LifecycleConfig["workers"], cpus: () => number = availableParallelism): number {
  return setting === "auto" ? Math.max(1, cpus()) : setting;
}
