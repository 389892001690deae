// `trunkgate retention run|stats`: purge call records past store.callRecordRetentionDays and audit
// entries past store.auditRetentionDays now (the server also does this on a timer), and read the
// anonymised daily statistics.
import { loadCliConfig, openCliStore, parseFlags, runCommand, UsageError, wantsHelp, type CliIo } from "./store-command.js";
import { purgeExpiredCallRecords } from "../store/retention.js";

const HELP = `usage:
  trunkgate retention run [--config FILE]
      roll call records older than store.callRecordRetentionDays into daily statistics and delete them;
      delete audit trail entries older than store.auditRetentionDays
  trunkgate retention stats --from YYYY-MM-DD --to YYYY-MM-DD [--config FILE]
      print the daily statistics (aggregates only) as JSON lines`;

export async function retentionCommand(argv: string[], io: CliIo): Promise<number> {
  return runCommand(io, HELP, async () => {
    const [sub, ...rest] = argv;
    if (wantsHelp(sub, rest)) {
      io.out(HELP);
      return 0;
    }
    if (sub === "run") {
      const { values } = parseFlags(rest, { config: { type: "string" } });
      const config = loadCliConfig(values.config as string | undefined);
      const store = await openCliStore(config);
      try {
        const r = await purgeExpiredCallRecords(store, { retentionDays: config.store.callRecordRetentionDays, auditRetentionDays: config.store.auditRetentionDays });
        io.out(`purged ${r.purged} call record(s) started before ${r.cutoff.toISOString()}`);
        io.out(`purged ${r.auditPurged} audit trail entr${r.auditPurged === 1 ? "y" : "ies"} older than ${config.store.auditRetentionDays} day(s)`);
        return 0;
      } finally {
        await store.close();
      }
    }
    if (sub === "stats") {
      const { values } = parseFlags(rest, { config: { type: "string" }, from: { type: "string" }, to: { type: "string" } });
      if (!values.from || !values.to) throw new UsageError("--from and --to are required");
      const store = await openCliStore(loadCliConfig(values.config as string | undefined));
      try {
        const rows = await store.statistics.dailyStatistics({ from: values.from as string, to: values.to as string });
        for (const r of rows) io.out(JSON.stringify(r));
        return 0;
      } finally {
        await store.close();
      }
    }
    throw new UsageError(sub === undefined ? "missing subcommand" : `unknown subcommand "${sub}"`);
  });
}
