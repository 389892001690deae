// What `trunkgate audit` reports: one finding per check, pass / warn / fail / info, with the fix
// where there is one. A report is ready when nothing failed (warnings do not block onboarding).
export type Level = "pass" | "warn" | "fail" | "info";

export interface Finding {
  /** Stable id for scripts (`tls.version.tls1_1`, `cert.days_left`, `sip.options`). */
  id: string;
  /** Which part of the audit: tls, certificate, mtls, sip. */
  area: "tls" | "certificate" | "mtls" | "sip";
  level: Level;
  /** One line: what was found. */
  message: string;
  /** What the carrier (or the operator) should change, for warn and fail. */
  fix?: string;
  /** Extra lines printed indented (e.g. a YAML peer entry to add). */
  detail?: string[];
}

export interface AuditReport {
  target: string;
  serverName: string | undefined;
  startedAt: string;
  findings: Finding[];
  ready: boolean;
}

export function finding(area: Finding["area"], id: string, level: Level, message: string, fix?: string, detail?: string[]): Finding {
  return { id, area, level, message, ...(fix !== undefined ? { fix } : {}), ...(detail !== undefined ? { detail } : {}) };
}

export function isReady(findings: readonly Finding[]): boolean {
  return !findings.some((f) => f.level === "fail");
}

const MARK: Record<Level, string> = { pass: "PASS", warn: "WARN", fail: "FAIL", info: "INFO" };
const AREA_TITLE: Record<Finding["area"], string> = {
  tls: "TLS",
  certificate: "Server certificate",
  mtls: "Mutual TLS",
  sip: "SIP",
};

/** The human-readable report: grouped by area, one line per finding, fixes and details indented. */
export function renderText(r: AuditReport): string {
  const lines = [`trunkgate audit ${r.target}${r.serverName ? ` (server name ${r.serverName})` : ""}`];
  for (const area of Object.keys(AREA_TITLE) as Finding["area"][]) {
    const fs = r.findings.filter((f) => f.area === area);
    if (fs.length === 0) continue;
    lines.push("", AREA_TITLE[area]);
    for (const f of fs) {
      lines.push(`  ${MARK[f.level]}  ${f.message}`);
      if (f.fix && (f.level === "fail" || f.level === "warn")) lines.push(`        fix: ${f.fix}`);
      for (const d of f.detail ?? []) lines.push(`        ${d}`);
    }
  }
  const count = (l: Level) => r.findings.filter((f) => f.level === l).length;
  lines.push(
    "",
    `${r.ready ? "READY" : "NOT READY"}: ${count("pass")} passed, ${count("warn")} warnings, ${count("fail")} failed`,
  );
  return lines.join("\n");
}
