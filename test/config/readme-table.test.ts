// Every configuration key is documented: the README's configuration table names exactly the keys the
// schema has (walked from the zod schema), no fewer and no stale extras. A new key fails here until
// its row is written.
import t from "tap";
import { readFileSync } from "node:fs";
import { configSchema } from "../../src/config/schema/index.js";
import { schemaLeafKeys } from "../helpers/schema-keys.js";

const SECTIONS = Object.keys((configSchema as unknown as { shape: Record<string, unknown> }).shape);

/**
 * Keys named in the first cell of each row of the "## Configuration" table. A span whose first
 * segment is a section (`sip.limits.maxHeaders`) is a full path and the base for what follows;
 * a bare name (`maxLineBytes`) is a sibling of the last full path.
 */
export function documentedKeys(readme: string): string[] {
  const section = readme.slice(readme.indexOf("\n## Configuration\n"));
  const body = section.slice(0, section.indexOf("\n## ", 5));
  const keys: string[] = [];
  for (const line of body.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const firstCell = line.split("|")[1] ?? "";
    let parent = "";
    for (const [, span] of firstCell.matchAll(/`([^`]+)`/g)) {
      const head = span!.split(/[.[]/)[0]!;
      if (SECTIONS.includes(head)) {
        keys.push(span!);
        parent = span!.includes(".") ? span!.slice(0, span!.lastIndexOf(".")) : "";
      } else {
        keys.push(parent ? `${parent}.${span}` : span!);
      }
    }
  }
  return keys;
}

t.test("the README's configuration table documents every schema key, and only those", async (t) => {
  const schemaKeys = schemaLeafKeys(configSchema);
  const documented = documentedKeys(readFileSync("README.md", "utf8"));
  t.ok(schemaKeys.length > 100, "the schema walk found the keys");
  const missing = schemaKeys.filter((k) => !documented.includes(k));
  t.same(missing, [], "schema keys without a README row (add them to the table in README.md, ## Configuration)");
  const stale = documented.filter((k) => !schemaKeys.includes(k));
  t.same(stale, [], "README rows naming keys the schema does not have");
});

t.test("the table parser reads full paths and siblings", async (t) => {
  const md = "\n## Configuration\n\n| key | d | m |\n| --- | --- | --- |\n| `sip.enabled`, `sip.listen.host` / `port` | x | y |\n| `peers[].match.uris` / `spkiSha256` | | |\n\n## Next\n| `tls.watch` | | |\n";
  t.same(documentedKeys(md), ["sip.enabled", "sip.listen.host", "sip.listen.port", "peers[].match.uris", "peers[].match.spkiSha256"]);
});
