# shellcheck shell=bash
# Helpers every part of trunkgate's benchmark sources (bench.sh, lib/sip-bench.sh, lib/setup.sh):
# process control by PID, CPU accounting of a process tree, medians, the results TSV, a wait for a
# quiet machine and the TLS policy probe. Started from the team's anchor harness (../shared/bench,
# team material) and kept here so the benchmark needs nothing outside the project.

BENCH_LIB=${BENCH_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
PKI_DIR=${PKI_DIR:-/tmp/trunkgate-bench/pki}
RUN_DIR=${RUN_DIR:-/tmp/trunkgate-bench/run}
SIPP=${SIPP:-/usr/bin/sipp}          # Debian's sip-tester (SIPp 3.6.1, no TLS: plain TCP only)
STUNNEL=${STUNNEL:-/usr/bin/stunnel4} # Debian's stunnel4: supplies the TLS for SIPp
SHIM=${SHIM:-/tmp/trunkgate-bench/cert_shim.so} # built by lib/setup.sh from lib/cert_shim.c
REPS=${REPS:-3}
mkdir -p "$RUN_DIR"
# No core files from anything the harness starts: soft AND hard limit 0 (a crashing
# Kamailio would otherwise drop its whole shm, ~1 GB, into its cwd, which is / by default).
ulimit -c 0 2>/dev/null || ulimit -S -c 0 2>/dev/null || true

# The TLS policy every SUT gets (same as the future proxy's default policy).
TLS12_CIPHERS='ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256'
TLS13_SUITES='TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256'

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# PIDs this harness started; stopped (by PID) in stop_all / on exit.
STARTED_PIDS=()
start_bg() { # name logfile cmd... ; sets LAST_PID
  local name=$1 logf=$2; shift 2
  echo "=== $(date +%T) start $name: $*" >>"$logf"
  setsid "$@" >>"$logf" 2>&1 &   # own process group: stop_pid can end its whole tree
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
  log "started $name pid=$LAST_PID"
}
stop_pid() { # pid [signal] : stop one process we started (its process group if it leads one), reap it
  local pid=$1 sig=${2:-TERM} i pg target
  [ -n "$pid" ] || return 0
  local keep=() q
  for q in "${STARTED_PIDS[@]}"; do [ "$q" = "$pid" ] || keep+=("$q"); done
  STARTED_PIDS=("${keep[@]}")
  if kill -0 "$pid" 2>/dev/null; then
    pg=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')
    target=$pid; [ "$pg" = "$pid" ] && target=-$pid
    kill -"$sig" -- "$target" 2>/dev/null || true
    # (after SIGKILL reap at once: polling with sleep would let bash print "Killed")
    [ "$sig" = KILL ] || for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL -- "$target" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
}
stop_all() {
  local p
  for p in "${STARTED_PIDS[@]}"; do stop_pid "$p"; done
  STARTED_PIDS=()
}

wait_port() { # port [timeout_s]  (TCP listen on 127.0.0.1)
  local port=$1 t=${2:-15} i
  for i in $(seq 1 $((t * 10))); do
    ss -Hltn "sport = :$port" 2>/dev/null | grep -q LISTEN && return 0
    sleep 0.1
  done
  return 1
}
port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q LISTEN; }
# "port 5061 busy (kamailio pid 123)": for refusals that name the port and, when ss can tell, who holds it.
port_busy_msg() {
  local who
  who=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -n 1 | sed -E 's/users:\(\("([^"]*)",pid=([0-9]*)/\1 pid \2/')
  echo "port $1 busy${who:+ ($who)}${2:+: $2}"
}

# CPU time (clock ticks) used so far by PID and all its live descendants.
cpu_ticks_tree() {
  [ -n "${1:-}" ] || { echo 0; return 0; }
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" '
    { p = index($0, ") "); pid = $1; n = split(substr($0, p + 2), f, " ");
      ppid[pid] = f[2]; t[pid] = f[12] + f[13] }
    END { inset[root] = 1; ch = 1
          while (ch) { ch = 0; for (q in ppid) if (!(q in inset) && (ppid[q] in inset)) { inset[q] = 1; ch = 1 } }
          s = 0; for (q in inset) s += t[q]; print s + 0 }'
}
CLK_TCK=$(getconf CLK_TCK)
# System-wide counters: "busy total steal" in ticks.
sys_ticks() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t-$5-$6, t, $9; exit}' /proc/stat; }

median() { sort -g | awk '{a[NR]=$1} END{ if(NR==0){print "NA"; exit} if(NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
minmax() { sort -g | awk 'NR==1{mn=$1} {mx=$1} END{ if(NR==0) print "NA NA"; else print mn, mx }'; }
spread_pct() { # values on stdin -> (max-min)/median in %
  sort -g | awk '{a[NR]=$1} END{ if(NR<2){print "NA"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; if(m==0){print "NA"; exit} printf "%.1f\n", 100*(a[NR]-a[1])/m }'; }

# Results are appended as TSV lines: section  sut  metric  value  unit  note
RESULTS_TSV=${RESULTS_TSV:-$RUN_DIR/results.tsv}
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" >>"$RESULTS_TSV"; log "RESULT $1 $2 $3 = $4 $5 ${6:-}"; }

# Wait (up to QUIET_WAIT s) until the machine is quiet: busy < QUIET_PCT % of all
# cores over 2 s. Other work may share this machine (e.g. an `npm ci` compiling).
QUIET_WAIT=${QUIET_WAIT:-90}; QUIET_PCT=${QUIET_PCT:-12}
wait_quiet() {
  local waited=0 b0 t0 s0 b1 t1 s1 pct
  while :; do
    read -r b0 t0 s0 < <(sys_ticks); sleep 2; read -r b1 t1 s1 < <(sys_ticks)
    pct=$(( 100 * (b1 - b0) / (t1 - t0 + 1) ))
    [ "$pct" -lt "$QUIET_PCT" ] && { [ $waited -gt 0 ] && log "machine quiet after ${waited}s (busy ${pct}%)"; return 0; }
    [ $waited -ge "$QUIET_WAIT" ] && { log "WARNING: machine still busy (${pct}% of all cores) after ${waited}s; measuring anyway"; return 0; }
    [ $waited = 0 ] && log "machine busy (${pct}% of all cores, not us?); waiting up to ${QUIET_WAIT}s"
    waited=$((waited + 2))
  done
}

# TLS policy probe of a listener: prints "ok" or what was wrong. Uses the client cert.
tls_policy_check() { # port
  local port=$1 bad="" o
  local c=(-connect "127.0.0.1:$port" -cert "$PKI_DIR/client.crt" -key "$PKI_DIR/client.key" -CAfile "$PKI_DIR/ca.crt")
  o=$(echo | timeout 5 openssl s_client "${c[@]}" -tls1_3 2>&1 || true)
  grep -q 'TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384' <<<"$o" || bad+=" tls1.3-aes256-not-accepted"
  o=$(echo | timeout 5 openssl s_client "${c[@]}" -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256 2>&1 || true)
  grep -q 'Cipher is TLS_CHACHA20' <<<"$o" && bad+=" tls1.3-chacha-accepted"
  o=$(echo | timeout 5 openssl s_client "${c[@]}" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256 2>&1 || true)
  grep -qE 'Cipher is ECDHE-(ECDSA|RSA)-AES128-GCM-SHA256' <<<"$o" || bad+=" tls1.2-gcm-not-accepted"
  o=$(echo | timeout 5 openssl s_client "${c[@]}" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA 2>&1 || true)
  grep -qE 'Cipher is ECDHE-(ECDSA|RSA)-AES128-SHA$' <<<"$o" && bad+=" tls1.2-cbc-sha1-accepted"
  o=$(echo | timeout 5 openssl s_client "${c[@]}" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' 2>&1 || true)
  grep -q 'Cipher is ECDHE' <<<"$o" && bad+=" tls1.1-accepted"
  echo "${bad:-ok}"
}
