#!/usr/bin/env bash
# Side-by-side benchmark driver: trunkgate against Kamailio (SIP) and nginx (HTTPS), same run,
# same machine, same PKI, same load. Started by bench/run.mjs (`npm run bench [-- --quick]`),
# which sets the variables below; docs/benchmarks.md explains the figures.
#   QUICK=1            fixed rates, short trials, 1 repetition, 1000 idle connections (< 3 min)
#   PARTS="speed sip https mem"   parts to run
#   PROXIES="kamailio trunkgate"  SIP systems;  HTTP_PROXIES="nginx trunkgate"  HTTPS systems
#   TRUNKGATE_CMD      how to run trunkgate (the harness appends `--config FILE`), e.g.
#                      "node dist/src/main.js start"
#   TG_WORKERS         lifecycle.workers in the generated configs: auto (default, one per core) or N
#   TRUNKGATE_CLI      the CLI without a command (for `config check`): "node dist/src/main.js"
#   BENCH_FIXED_PORTS=1  refuse (naming the port) instead of moving off a taken default port
# Root is needed (apt-get, ulimit -n). Everything runs on 127.0.0.1; every process is started in
# its own process group and stopped by its PID; core dumps are off (lib/harness.sh). Everything it
# uses is in bench/ (lib/setup.sh installs Debian packages, lib/pki.sh makes a throwaway PKI).
set -euo pipefail
export BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
QUICK=${QUICK:-0}
STAMP=${STAMP:-$(date +%Y%m%dT%H%M%S)}
export RUN_DIR=${RUN_DIR:-/tmp/trunkgate-bench/run-$STAMP} PKI_DIR=${PKI_DIR:-/tmp/trunkgate-bench/pki}
export RESULTS_TSV=$RUN_DIR/results.tsv
OUT_DIR=${OUT_DIR:-$BENCH_DIR/results}
PARTS=${PARTS:-"speed sip https mem"}
PROXIES=${PROXIES:-"kamailio trunkgate"}
HTTP_PROXIES=${HTTP_PROXIES:-"nginx trunkgate"}
export TRUNKGATE_CLI=${TRUNKGATE_CLI:-"node $ROOT/dist/src/main.js"}
export TRUNKGATE_CMD=${TRUNKGATE_CMD:-"$TRUNKGATE_CLI start"}

if [ "$QUICK" = 1 ]; then
  # one trial per system and shape at a fixed rate, no search; short HTTPS trials; fewer idle conns
  export SIP_DURATION=${SIP_DURATION:-3} HTTPS_DURATION=${HTTPS_DURATION:-3} HTTPS_REPS=${HTTPS_REPS:-1} HTTPS_WARMUP=${HTTPS_WARMUP:-1}
  export SPEED_SECONDS=${SPEED_SECONDS:-1} QUIET_WAIT=${QUIET_WAIT:-2} MEM_CONNS=${MEM_CONNS:-1000} MEM_SETTLE_S=${MEM_SETTLE_S:-2}
else
  export SIP_DURATION=${SIP_DURATION:-30} HTTPS_DURATION=${HTTPS_DURATION:-15} HTTPS_REPS=${HTTPS_REPS:-3}
  export QUIET_WAIT=${QUIET_WAIT:-20} MEM_CONNS=${MEM_CONNS:-10000}
fi
SIP_QUICK_RATE_L1=${SIP_QUICK_RATE_L1:-1000}
SIP_QUICK_RATE_LN=${SIP_QUICK_RATE_LN:-100}
# Ports (127.0.0.1): the usual numbers when free, else the next free ones (bench/ports.mjs says which
# moved); a port set in the environment is used as it is or refused. KAM_PORT is a block of three
# (TLS, TCP toward the uas, TLS with the RSA certificate). SIPp picks its own UDP control port.
ports=$(node "$BENCH_DIR/ports.mjs" ${BENCH_FIXED_PORTS:+--fixed} KAM_PORT=5061:3 UAS_SIPP_PORT=5070 UAS_TLS_PORT=5072 \
  UAC_PORT=5090 UAC_TLS_PORT=5091 UPSTREAM_PORT=8080 NGINX_PORT=8443 TG_SIP_PORT=5081 TG_HTTPS_PORT=9443 \
  TG_ADMIN_PORT=9091 DIRECT_PORT=5085) || exit 2
eval "$ports"
export UAS_PORT=$UAS_SIPP_PORT

mkdir -p "$RUN_DIR"
# shellcheck source=/dev/null
. "$BENCH_DIR/lib/harness.sh"
for f in trunkgate-config nginx-conf speed sip https memory; do
  # shellcheck source=/dev/null
  . "$BENCH_DIR/lib/$f.sh"
done
trap 'stop_all' EXIT
trap 'exit 130' INT TERM
: >"$RESULTS_TSV"
T0=$(date +%s)
log "run dir $RUN_DIR ($([ "$QUICK" = 1 ] && echo quick || echo full)); parts: $PARTS"

bash "$BENCH_DIR/lib/setup.sh"
bash "$BENCH_DIR/lib/pki.sh" "$PKI_DIR" >/dev/null

v() { "$@" 2>&1 | head -1 | tr -s ' \t' ' ' | sed 's/^ //' || true; }
record env host cpu "$(awk -F: '/model name/{gsub(/^ /,"",$2); print $2; exit}' /proc/cpuinfo) x$(nproc)" "" "$(uname -r), $(free -g | awk '/Mem:/{print $2}') GiB RAM"
record env host os "Debian $(cat /etc/debian_version 2>/dev/null || echo '?')" "" ""
record env tool openssl "$(v openssl version)" "" ""
record env tool kamailio "$(v kamailio -v)" "" "kamailio-tls-modules $(dpkg-query -W -f='${Version}' kamailio-tls-modules 2>/dev/null)"
record env tool nginx "$(v nginx -v)" "" "$(nginx -V 2>&1 | grep -o 'built with OpenSSL [^ ]*' || true)"
record env tool sipp "$(/usr/bin/sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' || true)" "" "plain TCP; TLS by stunnel"
record env tool stunnel "$(/usr/bin/stunnel4 -version 2>&1 | grep -o 'stunnel [0-9.]*' | head -1)" "" ""
record env tool wrk "$(v wrk -v)" "" "client cert via LD_PRELOAD shim"
record env tool node "$(node -v)" "" "OpenSSL $(node -p process.versions.openssl)"
record env tool trunkgate "$(node -p "require('$ROOT/package.json').version" 2>/dev/null) $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || true)$(git -C "$ROOT" diff --quiet -- src 2>/dev/null || echo '+uncommitted src')" "" "$TRUNKGATE_CMD; lifecycle.workers ${TG_WORKERS:-auto}"
record env run mode "$([ "$QUICK" = 1 ] && echo quick || echo full)" "" "SIP ${SIP_DURATION}s trials; HTTPS ${HTTPS_DURATION}s x ${HTTPS_REPS}; ${MEM_CONNS} idle conns"

# trunkgate must at least load its generated config; whether it proxies is each part's smoke check
case " $PROXIES $HTTP_PROXIES " in *" trunkgate "*)
  tg_write_config "$RUN_DIR/trunkgate-check.yaml" sip
  if ! out=$(bash -c "$TRUNKGATE_CLI config check --config $RUN_DIR/trunkgate-check.yaml" 2>&1); then
    log "trunkgate cannot load its config: $out"
    record env trunkgate status "NOT MEASURED: config check failed: $(tr '\n' ' ' <<<"$out" | cut -c1-300)" "" ""
    PROXIES=${PROXIES//trunkgate/}; HTTP_PROXIES=${HTTP_PROXIES//trunkgate/}
  fi ;;
esac

# Each part in a subshell with its own cleanup: a part that stops on an error (a busy port, a
# peer that does not start) is recorded and the others still run.
# shellcheck disable=SC2086
for part in $PARTS; do
  rc=0
  case $part in
    speed) (trap 'stop_all' EXIT; speed_part) || rc=$? ;;
    sip) (trap 'stop_all' EXIT; sip_part $PROXIES) || rc=$? ;;
    https) (trap 'stop_all' EXIT; https_part $HTTP_PROXIES) || rc=$? ;;
    mem) (trap 'stop_all' EXIT; memory_part $HTTP_PROXIES) || rc=$? ;;
    *) die "unknown part $part (speed sip https mem)" ;;
  esac
  [ $rc = 0 ] || record env "$part" status "PART ABORTED (exit status $rc): see the FATAL line in the log above" "" ""
done
record env run duration_s "$(($(date +%s) - T0))" s ""
stop_all

# the table (markdown + tsv) and the raw material worth keeping
mkdir -p "$OUT_DIR"
base=$OUT_DIR/$STAMP-$([ "$QUICK" = 1 ] && echo quick || echo full)
node "$BENCH_DIR/report.mjs" "$RESULTS_TSV" "$base"
raw=$base.raw; mkdir -p "$raw"
cp "$RESULTS_TSV" "$raw/results-all.tsv"
cp "$RUN_DIR"/*.yaml "$raw/" 2>/dev/null || true
[ -d "$RUN_DIR/sip" ] && { cp "$RUN_DIR/sip/trials.tsv" "$raw/sip-trials.tsv" 2>/dev/null || true; cp "$RUN_DIR"/sip/run-*.log "$raw/" 2>/dev/null || true; }
[ -d "$RUN_DIR/https" ] && cp "$RUN_DIR"/https/wrk-*.txt "$raw/" 2>/dev/null || true
[ -d "$RUN_DIR/mem" ] && cp "$RUN_DIR"/mem/*.log "$raw/" 2>/dev/null || true
log "table: $base.md ($base.tsv); raw: $raw; everything: $RUN_DIR"
