// SIP message-layer benchmark: trunkgate parse + forward edit vs sip.js Core.Parser.parseMessage.
//
//   node bench/sip-parse.mjs            # transpiles src/sip/{parse,message,transport/framing} on the fly
//   node bench/sip-parse.mjs --dist     # uses dist/src/sip/parse/index.js (after `npm run build`)
//   SECONDS_PER_CASE=2 node bench/sip-parse.mjs
//
// The on-the-fly build uses TypeScript's transpileModule (no type check) into
// node_modules/.cache/trunkgate-bench so that "sip.js" still resolves from the project.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { Core } from "sip.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const seconds = Number(process.env.SECONDS_PER_CASE ?? 1.5);

async function loadApi() {
  // The parser and the forwarding edits (message/edit.js: not re-exported by parse/index.js).
  const both = async (dir) => ({
    ...(await import(pathToFileURL(join(dir, "src/sip/parse/index.js")).href)),
    ...(await import(pathToFileURL(join(dir, "src/sip/message/edit.js")).href)),
  });
  if (process.argv.includes("--dist")) return both(join(root, "dist"));
  const out = join(root, "node_modules/.cache/trunkgate-bench");
  const files = [];
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".ts")) files.push(p);
    }
  };
  walk(join(root, "src/sip/parse"));
  walk(join(root, "src/sip/message"));
  files.push(join(root, "src/sip/transport/framing.ts"));
  for (const f of files) {
    const js = ts.transpileModule(readFileSync(f, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const dest = join(out, relative(root, f)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  return both(out);
}

const api = await loadApi();

const SDP = [
  "v=0", "o=alice 2890844526 2890844526 IN IP4 198.51.100.7", "s=-", "c=IN IP4 198.51.100.7", "t=0 0",
  "m=audio 49170 RTP/SAVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32", "",
].join("\r\n");
const msg = (lines) => lines.join("\r\n").replace("{CL}", String(Buffer.byteLength(SDP))) + "\r\n\r\n" + SDP;
const INVITE = msg([
  "INVITE sip:+15551230000@trunk.example.net;user=phone SIP/2.0",
  "Via: SIP/2.0/TLS pbx.customer.example:5061;branch=z9hG4bK776asdhds;rport",
  "Max-Forwards: 70",
  'To: "Bob" <sip:+15551230000@trunk.example.net;user=phone>',
  'From: "Alice" <sip:alice@customer.example>;tag=1928301774',
  "Call-ID: a84b4c76e66710@pbx.customer.example",
  "CSeq: 314159 INVITE",
  "Contact: <sip:alice@198.51.100.7:5061;transport=tls>",
  "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS",
  "Supported: timer, 100rel",
  "User-Agent: ExamplePBX/1.0",
  "Content-Type: application/sdp",
  "Content-Length: {CL}",
]);
const OK = msg([
  "SIP/2.0 200 OK",
  "Via: SIP/2.0/TLS proxy.trunkgate.example:5061;branch=z9hG4bKproxy1",
  "Via: SIP/2.0/TLS pbx.customer.example:5061;branch=z9hG4bK776asdhds;rport=5061;received=198.51.100.7",
  "Record-Route: <sip:proxy.trunkgate.example:5061;transport=tls;lr>",
  'To: "Bob" <sip:+15551230000@trunk.example.net;user=phone>;tag=a6c85cf',
  'From: "Alice" <sip:alice@customer.example>;tag=1928301774',
  "Call-ID: a84b4c76e66710@pbx.customer.example",
  "CSeq: 314159 INVITE",
  "Contact: <sip:bob@203.0.113.9:5061;transport=tls>",
  "Content-Type: application/sdp",
  "Content-Length: {CL}",
]);
const inviteBuf = Buffer.from(INVITE);
const okBuf = Buffer.from(OK);
const quiet = { log() {}, debug() {}, warn() {}, error() {}, info() {} };

function run(name, fn) {
  for (let i = 0; i < 2000; i++) fn(); // warm-up
  let n = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(seconds * 1e9));
  let now = t0;
  while (now < deadline) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
    now = process.hrtime.bigint();
  }
  const rate = n / (Number(now - t0) / 1e9);
  console.log(`${name.padEnd(44)} ${Math.round(rate).toLocaleString("en-US").padStart(12)} msg/s`);
  return rate;
}

const edits = {
  prependVia: "SIP/2.0/TLS proxy.trunkgate.example:5061;branch=z9hG4bKbench1",
  prependRecordRoute: "<sip:proxy.trunkgate.example:5061;transport=tls;lr>",
  requestUri: "sip:+15551230000@10.0.0.5:5061;transport=tls",
};
let sink = 0;
console.log(`node ${process.version}, ${seconds}s per case`);
const ourInvite = run("trunkgate parse+forward INVITE (SDP)", () => {
  const r = api.parseMessage(inviteBuf);
  if (!r.ok) throw new Error(r.reason);
  sink += api.forwardRequest(r.message, edits).length;
});
const ourOk = run("trunkgate parse+forward 200 OK (SDP)", () => {
  const r = api.parseMessage(okBuf);
  if (!r.ok) throw new Error(r.reason);
  sink += api.forwardResponse(r.message).length;
});
run("trunkgate parse only INVITE", () => {
  sink += api.parseMessage(inviteBuf).ok ? 1 : 0;
});
const theirInvite = run("sip.js parseMessage INVITE (SDP)", () => {
  sink += Core.Parser.parseMessage(INVITE, quiet) ? 1 : 0;
});
const theirOk = run("sip.js parseMessage 200 OK (SDP)", () => {
  sink += Core.Parser.parseMessage(OK, quiet) ? 1 : 0;
});
console.log(`speed-up INVITE: ${(ourInvite / theirInvite).toFixed(1)}x, 200 OK: ${(ourOk / theirOk).toFixed(1)}x (target >= 50x)`);
if (sink === 0) console.log("");
