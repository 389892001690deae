// `trunkgate numbers import|export`: bulk provisioning from/to CSV (number,service,customHeader,account;
// files without the account column, written before accounts existed, still import).
import { readFileSync } from "node:fs";
import { CsvError, csvField, parseCsv, type CsvRecord } from "../store/csv.js";
import { NumberInputError, validateNumberInput, type NumberEntry } from "../store/numbers.js";
import { cliActor, loadCliConfig, openCliStore, parseFlags, runSubcommand, UsageError, type CliIo } from "./store-command.js";

const HELP = `usage:
  trunkgate numbers import FILE.csv [--config FILE]
      CSV with a header row: number,service,customHeader,account (customHeader and account may be empty
      or their columns left out; account must name an existing account, and service may then be empty:
      the number inherits the account's default service).
      Numbers in E.164 (+, country code, up to 15 digits; spaces, dashes, dots, parentheses and tel:/sip:
      forms are accepted and normalised). The rules are the provisioning API's: service must name an upstream
      of the configuration's sip.upstreams, customHeader is printable ASCII of at most 256 characters.
      Every row is checked first: if any row is invalid nothing is imported and each bad row is reported
      by line number. Existing numbers are updated. Each number is recorded in the audit trail
      (subject cli:<local user>) in the import's transaction.
  trunkgate numbers export [--config FILE]
      Writes all provisioned numbers as CSV to stdout (own fields: an empty service with an account means
      the account's default). NOTE: this prints numbers and custom header values
      in clear, by design (it is the operator's export): protect the output accordingly. The export is
      recorded in the audit trail (who, how many rows; no numbers).`;

export async function numbersCommand(argv: string[], io: CliIo): Promise<number> {
  return runSubcommand(argv, io, HELP, { import: importNumbers, export: exportNumbers });
}

const COLUMNS = ["number", "service", "customheader", "account"];

/**
 * Validates a whole CSV against the same rules as the API (`services`: the configured upstream
 * names); returns entries, or the problems (line: reason — never the values).
 */
export function validateNumbersCsv(text: string, services: ReadonlySet<string>): { entries: NumberEntry[]; lines: number[]; problems: string[] } {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvError) return { entries: [], lines: [], problems: [err.message] };
    throw err;
  }
  const problems: string[] = [];
  const header = records.shift();
  if (!header) return { entries: [], lines: [], problems: ["file is empty (expected a header row: number,service,customHeader,account)"] };
  const names = header.fields.map((f) => f.trim().toLowerCase());
  if (names.length < 2 || names.length > COLUMNS.length || names.some((n, i) => n !== COLUMNS[i])) {
    return { entries: [], lines: [], problems: [`line ${header.line}: header must be number,service,customHeader,account (the last two optional)`] };
  }
  const entries: NumberEntry[] = [];
  const lines: number[] = [];
  const firstLine = new Map<string, number>();
  for (const r of records) {
    if (r.fields.length !== names.length) {
      problems.push(`line ${r.line}: expected ${names.length} fields, found ${r.fields.length}`);
      continue;
    }
    const account = r.fields[3]?.trim() || null;
    const service = account !== null && r.fields[1]!.trim() === "" ? null : r.fields[1]!;
    const v = validateNumberInput({ number: r.fields[0]!, service, customHeader: r.fields[2] ?? null, account }, services);
    if (!v.ok) {
      problems.push(`line ${r.line}: ${v.field}: ${v.reason}`);
      continue;
    }
    const dup = firstLine.get(v.entry.number);
    if (dup !== undefined) {
      problems.push(`line ${r.line}: number: duplicate of line ${dup}`);
      continue;
    }
    firstLine.set(v.entry.number, r.line);
    entries.push(v.entry);
    lines.push(r.line);
  }
  if (records.length === 0) problems.push("no data rows after the header");
  return { entries, lines, problems };
}

async function importNumbers(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { config: { type: "string" } }, true);
  if (positionals.length !== 1) throw new UsageError("expected exactly one CSV file");
  let text: string;
  try {
    text = readFileSync(positionals[0]!, "utf8");
  } catch (err) {
    io.err(`error: cannot read ${positionals[0]}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return 1;
  }
  const config = loadCliConfig(values.config as string | undefined);
  const { entries, lines, problems } = validateNumbersCsv(text, new Set(config.sip.upstreams.map((u) => u.name)));
  if (problems.length > 0) {
    io.err(`nothing imported: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
    return 1;
  }
  const store = await openCliStore(config);
  try {
    try {
      await store.numbers.upsertMany(entries, cliActor("numbers import"));
    } catch (err) {
      // The accounts are checked against the store: an unknown one refuses the whole file.
      if (!(err instanceof NumberInputError)) throw err;
      const line = lines[err.index ?? 0];
      io.err(`nothing imported: line ${line}: ${err.field}: ${err.reason}`);
      return 1;
    }
    io.out(`imported ${entries.length} number(s)`);
    return 0;
  } finally {
    await store.close();
  }
}

async function exportNumbers(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: "string" } });
  const store = await openCliStore(loadCliConfig(values.config as string | undefined));
  // Rows that cannot be decrypted are listed on stderr (by blind index) and the rest exported; exit 1.
  const unreadable: string[] = [];
  store.onUnreadable((u) => unreadable.push(`${u.table} row ${u.rowKey}: ${u.reason}`));
  try {
    io.out("number,service,customHeader,account");
    let cursor: string | null = null;
    let exported = 0;
    do {
      const page = await store.numbers.list({ cursor, limit: 1000 });
      for (const e of page.items) io.out(`${csvField(e.number)},${csvField(e.service)},${csvField(e.customHeader)},${csvField(e.account ?? null)}`);
      exported += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
    if (unreadable.length > 0) io.err(`could not read ${unreadable.length} row(s); exported the others:\n  ${unreadable.join("\n  ")}`);
    // Recorded once the numbers are out: an export is a read of all customer data, worth knowing about.
    await store.audit.recordAlone({ kind: "export", op: "export", actor: cliActor("numbers export"), after: { rows: exported, unreadable: unreadable.length } });
    return unreadable.length > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}
