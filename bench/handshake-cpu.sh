#!/usr/bin/env bash
# Server CPU per full mutual-TLS handshake of a bare Node TLS server, for one or more Node binaries
# measured one after the other, ROUNDS times (alternating, so drifts of a busy machine hit all alike):
#   bash bench/handshake-cpu.sh [ROUNDS] [SECONDS] NODE...
#   e.g. bash bench/handshake-cpu.sh 3 10 /usr/bin/node node_modules/.bin/node
# The server (tls.createServer, ECDSA P-256 certificate, client certificate required, default Node
# TLS settings) runs in its own process; `openssl s_time -new` makes full handshakes with the
# harness client certificate for SECONDS; CPU = utime + stime of the server from /proc over the run.
# One line per measurement. PKI: $PKI_DIR (default /tmp/trunkgate-bench/pki, made by lib/pki.sh).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=${1:?rounds}; SECONDS_EACH=${2:?seconds}; shift 2
[ $# -gt 0 ] || { echo "usage: handshake-cpu.sh ROUNDS SECONDS NODE..." >&2; exit 2; }
PKI_DIR=${PKI_DIR:-/tmp/trunkgate-bench/pki}
bash "$BENCH_DIR/lib/pki.sh" "$PKI_DIR" >/dev/null
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
SERVER='const tls=require("node:tls"),fs=require("node:fs"),d=process.env.PKI_DIR+"/";
const s=tls.createServer({cert:fs.readFileSync(d+"server-ec.crt"),key:fs.readFileSync(d+"server-ec.key"),ca:fs.readFileSync(d+"ca.crt"),requestCert:true,rejectUnauthorized:true},
 (c)=>{c.on("error",()=>{});c.resume();c.on("end",()=>c.end())});
s.on("tlsClientError",()=>{});s.listen(+process.env.PORT,"127.0.0.1",()=>console.log("listening"))'
TCK=$(getconf CLK_TCK)
for r in $(seq 1 "$ROUNDS"); do
  for n in "$@"; do
    log=$(mktemp)
    PKI_DIR=$PKI_DIR PORT=$PORT "$n" -e "$SERVER" >"$log" 2>&1 & pid=$!
    for _ in $(seq 1 100); do grep -q listening "$log" && break; sleep 0.1; done
    c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
    out=$(openssl s_time -connect "127.0.0.1:$PORT" -new -time "$SECONDS_EACH" -cert "$PKI_DIR/client.crt" \
      -key "$PKI_DIR/client.key" -CAfile "$PKI_DIR/ca.crt" 2>&1 | grep -m1 'connections in' || true)
    c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
    kill "$pid"; wait "$pid" 2>/dev/null || true; rm -f "$log"
    hs=$(awk '{print $1}' <<<"$out")
    awk -v r="$r" -v v="$("$n" -v) OpenSSL $("$n" -p process.versions.openssl)" -v n="${hs:-0}" -v c=$((c1 - c0)) -v t="$TCK" \
      'BEGIN{ if (n > 0) printf "round %d  %-28s handshakes %5d  server CPU %6.0f ms  %6.0f CPU-us per handshake\n", r, v, n, c*1000/t, c*1e6/t/n;
              else printf "round %d  %-28s no handshakes completed\n", r, v }'
  done
done
