#!/usr/bin/env node
// The `trunkgate` executable: runs the command line (src/cli/dispatch.ts) and exits with its code.
import { main } from "./cli/dispatch.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let pino flush; anything still holding the loop (e.g. an idle keep-alive socket) must not
    // keep a stopped proxy alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`trunkgate: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
