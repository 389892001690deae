// Turns one run's results.tsv (section, system, metric, value, unit, note) into the table the issue
// asks for: each figure for trunkgate and its peer, the ratio trunkgate/peer and the target, met or
// not. Writes <base>.md and <base>.tsv and prints the markdown.
//   node bench/report.mjs /tmp/trunkgate-bench/run-X/results.tsv bench/results/X-quick
import { readFileSync, writeFileSync } from "node:fs";

const [src, base] = process.argv.slice(2);
if (!src || !base) {
  console.error("usage: node bench/report.mjs RESULTS_TSV OUT_BASE");
  process.exit(2);
}
const rows = readFileSync(src, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => {
    const [section, sut, metric, value, unit, note] = l.split("\t");
    return { section, sut, metric, value, unit, note: note ?? "" };
  });
const get = (section, sut, metric) => rows.find((r) => r.section === section && r.sut === sut && r.metric === metric);
const num = (r) => (r && r.value !== "" && r.value !== "NA" && !Number.isNaN(Number(r.value)) ? Number(r.value) : undefined);
const env = (metric) => rows.find((r) => r.section === "env" && r.metric === metric);

/** A table row: figure, trunkgate value, peer value, ratio, target test (ratio or tg value => bool). */
const table = [];
const tsv = [["section", "figure", "unit", "trunkgate", "peer", "peer_value", "ratio_tg_over_peer", "target", "met"]];
function row(section, figure, unit, peer, tgRec, peerRec, target) {
  const t = num(tgRec);
  const p = num(peerRec);
  const ratio = t !== undefined && p !== undefined && p !== 0 ? t / p : undefined;
  let met = "";
  if (target) {
    const ok = target.test({ t, p, ratio });
    met = ok === undefined ? "not measured" : ok ? "**met**" : "**not met**";
  }
  const show = (r) => (r ? (num(r) !== undefined ? fmt(num(r)) : r.value || "–") : "–");
  table.push({ section, cells: [figure + (unit ? ` (${unit})` : ""), show(tgRec), show(peerRec), ratio === undefined ? "–" : ratio.toFixed(2), target?.text ?? "", met] });
  tsv.push([section, figure, unit, tgRec?.value ?? "", peer, peerRec?.value ?? "", ratio === undefined ? "" : ratio.toFixed(3), target?.text ?? "", met.replaceAll("*", "")]);
}
const fmt = (x) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString("en-US").replaceAll(",", " ") : String(Math.round(x * 100) / 100));
const defined = (...xs) => xs.every((x) => x !== undefined);
const ratioAtMost = (k) => ({ text: `ratio ≤ ${k}`, test: ({ t, p, ratio }) => (defined(t, p) ? ratio <= k : undefined) });
const ratioAtLeast = (k) => ({ text: `ratio ≥ ${k}`, test: ({ t, p, ratio }) => (defined(t, p) ? ratio >= k : undefined) });
const tgAtMost = (k, u) => ({ text: `trunkgate ≤ ${k} ${u}`, test: ({ t }) => (t === undefined ? undefined : t <= k) });

// The targets of the current performance round (issue 12): SIP CPU per call on one connection
// <= 1.5x Kamailio (1.0x is the goal), with a new connection per call <= 1.0x; max calls/s on one
// connection >= 0.8x; HTTPS CPU per keep-alive request <= 1.5x nginx, keep-alive req/s >= 0.8x;
// new connections/s >= 1.0x; p99 added <= 2 ms at half the max rate from second 5 on and <= 50 ms
// over the whole trial; <= 35 KiB per idle connection.
const quick = env("mode")?.value === "quick";
for (const mode of ["l1", "ln"]) {
  const s = `SIP ${mode === "l1" ? "l1: all calls on one TLS connection" : "ln: a new TLS connection per call"}`;
  const g = (sut, m) => get("sip", sut, `${m}_${mode}`);
  row(s, quick ? "calls/s held (fixed-rate trial)" : "max calls/s held, < 0.1% failed", "calls/s", "kamailio", g("trunkgate", "max_cps"), g("kamailio", "max_cps"), ratioAtLeast(mode === "l1" ? 0.8 : 1));
  row(s, "proxy CPU per call at that rate", "CPU-µs", "kamailio", g("trunkgate", "us_per_call"), g("kamailio", "us_per_call"), ratioAtMost(mode === "l1" ? 1.5 : 1));
  row(s, "latency trial rate" + (quick ? " (quick: the fixed rate)" : " (half the max)"), "calls/s", "kamailio", g("trunkgate", "lat_rate"), g("kamailio", "lat_rate"));
  if (!quick) row(s, "proxy CPU per call at the latency rate", "CPU-µs", "kamailio", g("trunkgate", "us_per_call_lat"), g("kamailio", "us_per_call_lat"));
  row(s, "INVITE→200 p50 through the proxy", "ms", "kamailio", g("trunkgate", "lat_p50"), g("kamailio", "lat_p50"));
  row(s, "INVITE→200 p99 through the proxy", "ms", "kamailio", g("trunkgate", "lat_p99"), g("kamailio", "lat_p99"));
  row(s, "INVITE→200 p50 / p99 direct (no proxy), same rate", "ms", "kamailio",
    pair(g("trunkgate", "direct_p50"), g("trunkgate", "direct_p99")), pair(g("kamailio", "direct_p50"), g("kamailio", "direct_p99")));
  row(s, "p99 added by the proxy", "ms", "kamailio", g("trunkgate", "added_p99"), g("kamailio", "added_p99"), tgAtMost(2, "ms"));
  row(s, "p99 added by the proxy over the whole trial (a fresh process's first seconds included)", "ms", "kamailio",
    g("trunkgate", "added_p99_whole"), g("kamailio", "added_p99_whole"), tgAtMost(50, "ms"));
}
function pair(a, b) {
  if (!a && !b) return undefined;
  return { value: `${a?.value ?? "–"} / ${b?.value ?? "–"}` };
}
{
  const s = "HTTPS (mutual TLS, HTTP/1.1 to the same upstream)";
  const g = (sut, m) => get("https", sut, m);
  row(s, "keep-alive requests/s (50 connections)", "req/s", "nginx", g("trunkgate", "ka_rps"), g("nginx", "ka_rps"), ratioAtLeast(0.8));
  row(s, "proxy CPU per keep-alive request", "CPU-µs", "nginx", g("trunkgate", "ka_us"), g("nginx", "ka_us"), ratioAtMost(1.5));
  row(s, "keep-alive latency p50", "ms", "nginx", g("trunkgate", "ka_p50"), g("nginx", "ka_p50"));
  row(s, "keep-alive latency p99", "ms", "nginx", g("trunkgate", "ka_p99"), g("nginx", "ka_p99"));
  row(s, "new connections/s, full mTLS handshake + 1 request", "conns/s", "nginx", g("trunkgate", "new_cps"), g("nginx", "new_cps"), ratioAtLeast(1));
  row(s, "proxy CPU per new connection", "CPU-µs", "nginx", g("trunkgate", "new_us"), g("nginx", "new_us"));
  row(s, "new-connection latency p99", "ms", "nginx", g("trunkgate", "new_p99"), g("nginx", "new_p99"));
  row(s, "errors (keep-alive / new)", "", "nginx", pair(g("trunkgate", "ka_err"), g("trunkgate", "new_err")), pair(g("nginx", "ka_err"), g("nginx", "new_err")));
  row(s, "whole machine busy during the trials (keep-alive / new)", "%", "nginx", pair(g("trunkgate", "ka_busy"), g("trunkgate", "new_busy")), pair(g("nginx", "ka_busy"), g("nginx", "new_busy")));
}
{
  const s = "Memory with idle mutual-TLS connections (HTTPS listener)";
  const g = (sut, m) => get("mem", sut, m);
  row(s, "idle connections open (server side)", "", "nginx", g("trunkgate", "idle_conns_open"), g("nginx", "idle_conns_open"));
  row(s, "resident memory of the process tree (PSS)", "MiB", "nginx", g("trunkgate", "pss_mib_with_idle_conns"), g("nginx", "pss_mib_with_idle_conns"));
  row(s, "same as summed RSS", "MiB", "nginx", g("trunkgate", "rss_mib_with_idle_conns"), g("nginx", "rss_mib_with_idle_conns"));
  row(s, "memory per idle connection", "KiB", "nginx", g("trunkgate", "kib_per_idle_conn"), g("nginx", "kib_per_idle_conn"), tgAtMost(35, "KiB"));
}

const md = [];
md.push(`# trunkgate side-by-side benchmark: ${quick ? "quick run" : "full run"}`, "");
md.push(`Generated by \`npm run bench${quick ? " -- --quick" : ""}\` (bench/run.mjs) from \`${src}\`. See docs/benchmarks.md for what each figure means.`, "");
md.push("| machine / tool | version | note |", "| --- | --- | --- |");
for (const r of rows.filter((r) => r.section === "env" && r.metric !== "status")) md.push(`| ${r.metric} | ${r.value} | ${r.note} |`);
const problems = rows.filter((r) => /status/.test(r.metric));
if (problems.length) {
  md.push("", "**Not measured / failed:**", "");
  for (const r of problems) md.push(`- ${r.section} ${r.sut} ${r.metric}: ${r.value}`);
}
const checks = rows.filter((r) => r.metric === "nocert_refusal" || r.metric.startsWith("tls_policy"));
if (checks.length) {
  md.push("", "**TLS checks** (client without a certificate; policy probe: TLS 1.3 AES-GCM only, TLS 1.2 ECDHE+AEAD/SHA-2 only, no TLS 1.1):", "");
  for (const r of checks) md.push(`- ${r.section} ${r.sut} ${r.metric}: ${r.value}`);
}
let last = "";
for (const t of table) {
  if (t.section !== last) {
    const peer = t.section.startsWith("SIP") ? "Kamailio" : "nginx";
    md.push("", `## ${t.section}`, "", `| figure | trunkgate | ${peer} | trunkgate / ${peer} | target | met? |`, "| --- | --- | --- | --- | --- | --- |");
    last = t.section;
  }
  md.push(`| ${t.cells.join(" | ")} |`);
}
const sp = (m) => get("speed", "openssl", m) ?? get("speed", "bound", m);
if (rows.some((r) => r.section === "speed")) {
  md.push("", "## Physical bound (openssl speed, one core)", "", "| figure | value |", "| --- | --- |");
  for (const r of rows.filter((r) => r.section === "speed")) md.push(`| ${r.metric} | ${r.value} ${r.unit} (${r.note}) |`);
  const hs = num(sp("us_per_full_handshake"));
  const tgNew = num(get("https", "trunkgate", "new_us"));
  const ngNew = num(get("https", "nginx", "new_us"));
  if (hs) md.push(`| CPU per new connection / crypto bound | trunkgate ${tgNew ? (tgNew / hs).toFixed(1) + "×" : "–"}, nginx ${ngNew ? (ngNew / hs).toFixed(1) + "×" : "–"} |`);
}
const notes = rows.filter((r) => r.section !== "env" && r.note && /reps:|at |quick|open=/.test(r.note));
md.push("", "<details><summary>notes per figure (repetitions, rates, counts)</summary>", "");
for (const r of notes) md.push(`- ${r.section} ${r.sut} ${r.metric} = ${r.value} ${r.unit}: ${r.note}`);
md.push("", "</details>", "");
writeFileSync(`${base}.md`, md.join("\n"));
writeFileSync(`${base}.tsv`, tsv.map((r) => r.join("\t")).join("\n") + "\n");
process.stdout.write(md.join("\n"));
