// Opens N mutual-TLS connections to one listener and keeps them open, idle (no request), so the
// server's resident memory can be read with N connections open. Used by bench/lib/memory.sh.
//
//   node bench/idle-conns.mjs --port 9443 --count 10000 --cert c.crt --key c.key --ca ca.crt
//        [--host 127.0.0.1] [--concurrency 32] [--sources 4] [--hold-s 60] [--open-timeout-s 150]
//
// Each connection is a FULL handshake (no session reuse), from source addresses 127.0.0.2..
// 127.0.0.(1+sources) in turn: one source address has only ~28k ephemeral ports, which TIME_WAIT
// sockets of earlier parts may hold. stdout gets one JSON line per second while opening, then
// {"ready":true,...} once all are open (the reader measures then), then a line whenever a
// connection closes. It exits by itself after --hold-s (bounded), or on SIGTERM.
import { readFileSync } from "node:fs";
import { connect } from "node:tls";
import { parseArgs } from "node:util";

const { values: a } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    count: { type: "string", default: "10000" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
    concurrency: { type: "string", default: "32" },
    sources: { type: "string", default: "4" },
    "hold-s": { type: "string", default: "60" },
    "open-timeout-s": { type: "string", default: "150" },
  },
});
for (const k of ["port", "cert", "key", "ca"]) {
  if (!a[k]) {
    console.error(`idle-conns: --${k} is required`);
    process.exit(2);
  }
}
const total = Number(a.count);
const conc = Number(a.concurrency);
const sources = Number(a.sources);
const tlsOpts = {
  host: a.host,
  port: Number(a.port),
  cert: readFileSync(a.cert),
  key: readFileSync(a.key),
  ca: readFileSync(a.ca),
  // the server certificate names IP:127.0.0.1 and localhost
  checkServerIdentity: () => undefined,
};
const sockets = [];
let started = 0;
let open = 0;
let failed = 0;
let closedAfterOpen = 0;
let lastError = "";
const t0 = Date.now();
const out = (o) => process.stdout.write(JSON.stringify({ ms: Date.now() - t0, open, failed, closedAfterOpen, ...o }) + "\n");

function openOne() {
  if (started >= total) return;
  const i = started++;
  const s = connect({ ...tlsOpts, localAddress: `127.0.0.${2 + (i % sources)}` });
  let up = false;
  s.setNoDelay(true);
  s.once("secureConnect", () => {
    up = true;
    open++;
    sockets.push(s);
    next();
  });
  s.on("error", (err) => {
    lastError = err.code ?? err.message;
  });
  s.once("close", () => {
    if (up) {
      open--;
      closedAfterOpen++;
      if (ready) out({ event: "closed", lastError });
    } else {
      failed++;
      next();
    }
  });
  s.on("data", () => {}); // keep the stream flowing (session tickets), never write
}

let ready = false;
function next() {
  if (open + failed >= total && !ready) {
    ready = true;
    clearInterval(progress);
    clearTimeout(openTimer);
    // TLS 1.3: a server refusing the client certificate says so after the client's Finished;
    // give those alerts a moment before declaring the set open.
    setTimeout(() => {
      out({ ready: true, lastError });
      setTimeout(() => finish(0), Number(a["hold-s"]) * 1000).unref();
    }, 1000);
    return;
  }
  openOne();
}

function finish(code) {
  for (const s of sockets) s.destroy();
  process.exit(code);
}
process.on("SIGTERM", () => finish(0));
process.on("SIGINT", () => finish(0));

const progress = setInterval(() => out({ started }), 1000);
const openTimer = setTimeout(() => {
  out({ error: `only ${open} of ${total} open after ${a["open-timeout-s"]} s`, lastError });
  finish(1);
}, Number(a["open-timeout-s"]) * 1000);
for (let i = 0; i < Math.min(conc, total); i++) openOne();
