// The CLI tells the truth about itself: --version, a --help for every command, and a top-level
// --help that lists every subcommand each command's own help describes.
import t from "tap";
import { readFileSync } from "node:fs";
import { main } from "../../src/cli/dispatch.js";
import { runCli } from "../helpers/cli.js";
import { runIn } from "../helpers/capture-io.js";

const cli = (args: string[]) => runIn((io) => main(args, io));

const COMMANDS = ["start", "config", "health", "certs", "keys", "numbers", "retention", "tokens", "audit"];

t.test("--version prints the package version (the built executable)", async (t) => {
  const r = await runCli(["--version"], { timeoutMs: 120_000 });
  t.equal(r.code, 0);
  t.equal(r.stdout.trim(), `trunkgate ${(JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version}`);
});

t.test("every command answers --help on stdout with exit 0, and the top-level help lists each of its subcommands", async (t) => {
  const top = await cli(["--help"]);
  t.equal(top.code, 0);
  const listed = new Set(top.stdout.split("\n").map((l) => l.trim().split(/\s+/).slice(0, 2).join(" ")));
  for (const c of COMMANDS) {
    t.ok([...listed].some((l) => l === c || l.startsWith(`${c} `)), `top-level --help lists ${c}`);
    const r = await cli([c, "--help"]);
    t.equal(r.code, 0, `${c} --help exits 0`);
    t.match(r.stdout, new RegExp(`trunkgate ${c}\\b`), `${c} --help describes ${c}`);
    // Every "trunkgate <command> <sub>" the command documents appears as "<command> <sub>" at the top.
    for (const m of r.stdout.matchAll(new RegExp(`trunkgate ${c} ([a-z]+)\\b`, "g"))) {
      t.ok(listed.has(`${c} ${m[1]}`), `top-level --help lists "${c} ${m[1]}"`);
    }
  }
  for (const sub of ["keys status", "keys prune", "retention stats", "tokens dev", "config check"]) t.ok(listed.has(sub), `lists ${sub}`);
});

t.test("--help after a subcommand prints that command's help", async (t) => {
  for (const args of [["keys", "rotate", "--help"], ["retention", "stats", "--help"], ["config", "check", "--help"], ["certs", "init", "--help"], ["tokens", "dev", "--help"]]) {
    const r = await cli(args);
    t.equal(r.code, 0, args.join(" "));
    t.match(r.stdout, new RegExp(`trunkgate ${args[0]} ${args[1]}`));
  }
});

t.test("an unknown command or none is a usage error listing the commands", async (t) => {
  for (const args of [[], ["bogus"]]) {
    const r = await cli(args);
    t.equal(r.code, 2);
    t.match(r.stderr, /usage: trunkgate <command>/);
    t.match(r.stderr, /tokens dev/);
  }
});
