#!/usr/bin/env bash
# The SIP load driver of trunkgate's bench (bench/lib/sip.sh runs it; helpers from lib/harness.sh).
# Started from the team's anchor harness (../shared/bench/sip-bench.sh) with two changes:
#  1. sip_sanity: a client without a certificate must be refused, but a refusal without a TLS
#     alert (the server closes the connection after the handshake) is recorded, not fatal; it is
#     fatal only if such a client gets a SIP answer or keeps its connection.
#  2. SIP_NO_DOWN=1: a failing first trial is not retried at halved rates (quick mode).
# Everything else (Kamailio config, stunnel, smoke, search, CPU accounting) is unchanged.
#
# SIP-over-TLS (mTLS) proxy anchor:
#   SIPp uac --TCP--> stunnel client --TLS + client cert--> SUT --TCP|TLS--> SIPp uas
# Debian's SIPp (sip-tester 3.6.1) has no TLS, so a stunnel4 client in front of it makes
# the TLS connection(s) to the SUT; the SUT relays to a SIPp uas over TCP (or over TLS to
# a stunnel server in front of that uas: UAS_TRANSPORT=tls).
# Finds the highest call rate (calls/s) sustained for SIP_DURATION s with < 0.1 %
# failed calls, SIP_REPS times per SUT and mode, and the SUT's CPU at that rate. The
# stunnel(s), SIPp uac and uas are load generator: their CPU is reported separately.
# Modes: l1 = one TLS connection for all calls (SIPp -t t1: one TCP connection to stunnel
#        = one TLS connection to the SUT);
#        ln = a new TLS connection, full mTLS handshake, per call (SIPp -t tn: one TCP
#        connection per call; stunnel makes one TLS connection per TCP connection, with
#        session resumption off, checked in the smoke trial of every repetition).
#
# Usage: sip-bench.sh [SUT ...]        (default: $SIP_SUTS, default "kamailio")
# Built-in SUT: kamailio (tls:127.0.0.1:5061, forwards to the UAS).
# Any other SUT NAME is described by environment variables:
#   SIP_SUT_<NAME>_PORT  TLS port it listens on (127.0.0.1)              (required)
#   SIP_SUT_<NAME>_CMD   shell command that runs it in the foreground; the harness
#                        starts/stops it (by PID / its process group) and measures the
#                        CPU of its whole process tree.  If empty, the SUT must already
#                        be running, and SIP_SUT_<NAME>_PID (optional) names its PID for
#                        CPU accounting.
# The command sees: SUT_PORT, UAS_HOST, UAS_PORT, UAS_TRANSPORT (tcp|tls), PKI_DIR,
#   TLS12_CIPHERS, TLS13_SUITES. It must require+verify client certs against
#   $PKI_DIR/ca.crt, present $PKI_DIR/server-ec.crt/.key, and forward every request
#   statefully to $UAS_HOST:$UAS_PORT over $UAS_TRANSPORT (record-routing INVITEs).
#   Responses must go back over the TLS connection the request came in on: SIPp's
#   Via says "SIP/2.0/TCP 127.0.0.1:<SIPp's own port>", not the stunnel hop.
#   Note the built-in SIPp uac scenario sends ACK/BYE with NO Route header and the
#   Request-URI of the proxy itself: the SUT must forward those to the UAS too.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

SIP_DURATION=${SIP_DURATION:-20}      # seconds of load per trial
SIP_START_RATE=${SIP_START_RATE:-1000} # first trial of the first repetition (mode l1)
SIP_START_RATE_LN=${SIP_START_RATE_LN:-200} # same for mode ln (a TLS handshake per call)
SIP_STEP=${SIP_STEP:-1.5}             # geometric step until the first failure
SIP_BISECT=${SIP_BISECT:-3}           # bisection steps after the first failure
SIP_MAX_RATE=${SIP_MAX_RATE:-20000}
SIP_REPS=${SIP_REPS:-$REPS}
SIP_MODES=${SIP_MODES:-"l1 ln"}       # l1: one TLS connection; ln: a new TLS connection (full mTLS handshake) per call
SIP_SLACK=${SIP_SLACK:-2}             # a trial may overrun its nominal duration (calls/rate) by this many seconds (queue growth)
SIP_MAX_RTT_MS=${SIP_MAX_RTT_MS:-500} # and its mean INVITE->200 time must stay below this (0 = no limit)
UAS_HOST=127.0.0.1
UAS_SIPP_PORT=${UAS_SIPP_PORT:-5070}  # SIPp uas, plain TCP
UAS_TLS_PORT=${UAS_TLS_PORT:-5072}    # stunnel server in front of the uas (UAS_TRANSPORT=tls)
UAS_TRANSPORT=${UAS_TRANSPORT:-tcp}   # how the SUT reaches the uas: tcp (SIPp directly) | tls (via stunnel)
UAS_TLS_VERIFY=${UAS_TLS_VERIFY:-yes} # tls: the uas-side stunnel requires+verifies the SUT's client cert
case $UAS_TRANSPORT in
  tcp) UAS_PORT=$UAS_SIPP_PORT ;;
  tls) UAS_PORT=$UAS_TLS_PORT ;;
  *) die "UAS_TRANSPORT must be tcp or tls" ;;
esac
UAC_PORT=${UAC_PORT:-5090}            # SIPp uac's own (plain TCP) port: its Via/Contact in mode l1
UAC_TLS_PORT=${UAC_TLS_PORT:-5091}    # stunnel client: SIPp's TCP in, TLS with the client cert out to the SUT
TW_MAX=${TW_MAX:-2000}                # before each trial wait (<= 75 s) until fewer TIME_WAIT sockets hold ephemeral ports
STUNNEL_TIMEOUTCLOSE=${STUNNEL_TIMEOUTCLOSE:-1} # s stunnel waits for the SUT's close_notify (0: close at once, but
                                      # then stunnel logs an error line for every connection)
KAM_PORT=${KAM_PORT:-5061}
KAM_TCP_CHILDREN=${KAM_TCP_CHILDREN:-4}        # tcp/tls worker processes for mode l1
KAM_TCP_CHILDREN_LN=${KAM_TCP_CHILDREN_LN:-1}  # for mode ln: Kamailio 5.6.3 + OpenSSL 3 SEGFAULTs in a tcp
                                               # worker under ~300 new TLS conns/s with >= 2 workers
KAM_SHM_MB=${KAM_SHM_MB:-2048}        # shm use grows ~130-150 MB per 1000 calls/s (tm keeps transactions ~5 s):
                                      # 256 MB ran out at ~2000 calls/s, 1024 MB at ~7000 (l1 connection dropped)
KAM_CONN_WQ_MAX=${KAM_CONN_WQ_MAX:-}  # per-connection write queue (bytes); empty = Kamailio's 32 KiB, whose
                                      # overflow drops the connection (all its calls) on a short stall
KAM_MEM=${KAM_MEM:-tlsf}              # shm/pkg memory manager (-x): qm is Kamailio's default and costs
                                      # 5-8x more CPU per TLS call here (OpenSSL allocates from shm); tlsf
export SUT_PORT UAS_HOST UAS_PORT UAS_TRANSPORT PKI_DIR TLS12_CIPHERS TLS13_SUITES
SD=$RUN_DIR/sip; mkdir -p "$SD"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
MAX_SOCK=$(( $(ulimit -n) - 200 )); [ "$MAX_SOCK" -gt 50000 ] && MAX_SOCK=50000
RUNS_TSV=$SD/trials.tsv
[ -s "$RUNS_TSV" ] || printf 'sut\tmode\tcert\trate\tcalls\tout\tok\tfail\twall_s\tpass\tsut_cpu_pct\tsut_us_per_call\trtt_ms\tstunnel_uac_pct\tstunnel_uac_us_per_call\tnotes\n' >"$RUNS_TSV"
trap 'stop_all' EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- kamailio
kamailio_write_config() {
  local d=$SD/kamailio; mkdir -p "$d"
  local uas_uri="sip:$UAS_HOST:$UAS_PORT;transport=$UAS_TRANSPORT"
  # Kamailio 5.6's tls module has no TLS 1.3 ciphersuites parameter (cipher_list only
  # calls SSL_CTX_set_cipher_list). libssl's system_default section does it instead.
  cat >"$d/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Ciphersuites = $TLS13_SUITES
EOF
  cat >"$d/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
verify_depth = 3
private_key = $PKI_DIR/server-ec.key
certificate = $PKI_DIR/server-ec.crt
ca_list = $PKI_DIR/ca.crt
cipher_list = $TLS12_CIPHERS

[server:127.0.0.1:$((KAM_PORT + 2))]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
verify_depth = 3
private_key = $PKI_DIR/server-rsa.key
certificate = $PKI_DIR/server-rsa.crt
ca_list = $PKI_DIR/ca.crt
cipher_list = $TLS12_CIPHERS

[client:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
private_key = $PKI_DIR/server-ec.key
certificate = $PKI_DIR/server-ec.crt
ca_list = $PKI_DIR/ca.crt
cipher_list = $TLS12_CIPHERS
EOF
  cat >"$d/kamailio.cfg" <<EOF
#!KAMAILIO
# Anchor config: mTLS SIP proxy, stateful forward of everything to the SIPp UAS.
debug=-1
log_stderror=yes
# a crash would otherwise leave a core file of the whole shm (1 GB) in /
disable_core_dump=yes
memdbg=5
memlog=5
auto_aliases=no
children=1
tcp_children=$KAM_CHILDREN_NOW
disable_tcp=no
enable_tls=yes
listen=tls:127.0.0.1:$KAM_PORT
listen=tls:127.0.0.1:$((KAM_PORT + 2))
# a tcp socket is needed to send to a tcp UAS
listen=tcp:127.0.0.1:$((KAM_PORT + 1))
tcp_connection_lifetime=3605
tcp_max_connections=16384
tls_max_connections=16384
tcp_accept_no_cl=yes
${KAM_CONN_WQ_MAX:+tcp_conn_wq_max=$KAM_CONN_WQ_MAX}

# tm must be loaded before modules that bind to it (else "load_tm(): Module not initialized yet")
loadmodule "tm.so"
loadmodule "tls.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "ctl.so"
loadmodule "kex.so"
loadmodule "corex.so"

modparam("tls", "config", "$d/tls.cfg")
${KAM_CONN_WQ_MAX:+modparam(\"tls\", \"con_ct_wq_max\", $KAM_CONN_WQ_MAX)}
modparam("ctl", "binrpc", "unix:$d/kamailio_ctl")
modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 10000)
modparam("rr", "enable_double_rr", 1)

request_route {
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
    if (has_totag()) {
        # in-dialog; SIPp's built-in uac sends ACK/BYE without Route: forward anyway
        loose_route();
        if (is_method("ACK") && t_check_trans()) { t_relay(); exit; }
    } else if (is_method("INVITE")) {
        record_route();
    }
    if (!is_method("ACK")) { t_check_trans(); }
    \$du = "$uas_uri";
    if (!t_relay()) { sl_reply_error(); }
    exit;
}
EOF
  kamailio -c -f "$d/kamailio.cfg" >"$d/check.log" 2>&1 || { cat "$d/check.log"; die "kamailio config check failed"; }
}

# ---------------------------------------------------------------- processes
# stunnel (Debian's stunnel4, one thread per connection): caller side = client mode.
write_stunnel_uac() { # debug-level target-port
  cat >"$SD/stunnel-uac.conf" <<EOC
; caller side: SIPp uac --TCP--> 127.0.0.1:$UAC_TLS_PORT --TLS, client cert--> SUT 127.0.0.1:$2
foreground = yes
pid =
syslog = no
; info logs every handshake as "new session negotiated" / "previous session reused"
debug = $1
[uac]
client = yes
accept = 127.0.0.1:$UAC_TLS_PORT
connect = 127.0.0.1:$2
cert = $PKI_DIR/client.crt
key = $PKI_DIR/client.key
CAfile = $PKI_DIR/ca.crt
verifyChain = yes
checkIP = 127.0.0.1
; no SNI (the target is an IP address)
sni =
sslVersionMin = TLSv1.2
; every TCP connection from SIPp gets a FULL handshake: no resumption of earlier sessions
sessionResume = no
TIMEOUTclose = $STUNNEL_TIMEOUTCLOSE
${STUNNEL_UAC_EXTRA:-}
EOC
}
# callee side (UAS_TRANSPORT=tls): server mode in front of the plain-TCP SIPp uas.
write_stunnel_uas() {
  cat >"$SD/stunnel-uas.conf" <<EOC
; callee side: SUT --TLS (client cert required: $UAS_TLS_VERIFY)--> 127.0.0.1:$UAS_TLS_PORT --TCP--> SIPp uas 127.0.0.1:$UAS_SIPP_PORT
foreground = yes
pid =
syslog = no
debug = warning
[uas]
accept = 127.0.0.1:$UAS_TLS_PORT
connect = 127.0.0.1:$UAS_SIPP_PORT
cert = $PKI_DIR/server-ec.crt
key = $PKI_DIR/server-ec.key
CAfile = $PKI_DIR/ca.crt
verifyChain = $UAS_TLS_VERIFY
sslVersionMin = TLSv1.2
options = NO_TICKET
TIMEOUTclose = $STUNNEL_TIMEOUTCLOSE
EOC
}

UAS_PID=; STS_PID=; SUT_PID=; STC_PID=; SUT_MANAGED=0
start_uas() {
  port_free "$UAS_SIPP_PORT" || die "UAS $(port_busy_msg "$UAS_SIPP_PORT")"
  start_bg uas "$SD/uas.log" "$SIPP" -sn uas -t t1 -i 127.0.0.1 -p "$UAS_SIPP_PORT" -nostdin \
    -recv_timeout 30000 -timeout 3600s -max_socket "$MAX_SOCK"
  UAS_PID=$LAST_PID
  wait_port "$UAS_SIPP_PORT" 10 || die "UAS did not listen"
  if [ "$UAS_TRANSPORT" = tls ]; then
    port_free "$UAS_TLS_PORT" || die "UAS TLS $(port_busy_msg "$UAS_TLS_PORT")"
    write_stunnel_uas
    start_bg stunnel-uas "$SD/stunnel-uas.log" "$STUNNEL" "$SD/stunnel-uas.conf"
    STS_PID=$LAST_PID
    wait_port "$UAS_TLS_PORT" 10 || { tail -5 "$SD/stunnel-uas.log"; die "stunnel (uas side) did not listen"; }
  fi
}
# stunnel 5.68 may segfault on SIGTERM while many connection threads are alive (seen once
# after an overload trial): it is only a load generator, so it gets SIGKILL.
stop_uas() { stop_pid "$STS_PID" KILL; STS_PID=; stop_pid "$UAS_PID"; UAS_PID=; }
start_stunnel_uac() { # debug-level logfile
  local p=$SUT_PORT
  [ "${SIP_CERT:-ec}" = rsa ] && p=$((SUT_PORT + 2))
  port_free "$UAC_TLS_PORT" || die "stunnel $(port_busy_msg "$UAC_TLS_PORT")"
  write_stunnel_uac "$1" "$p"
  start_bg stunnel-uac "$2" "$STUNNEL" "$SD/stunnel-uac.conf"
  STC_PID=$LAST_PID
  wait_port "$UAC_TLS_PORT" 10 || { tail -5 "$2"; die "stunnel (uac side) did not listen"; }
}
stop_stunnel_uac() { stop_pid "$STC_PID" KILL; STC_PID=; }
start_sut() { # name
  local name=$1 cmd
  SUT_MANAGED=1
  if [ "$name" = kamailio ]; then
    SUT_PORT=$KAM_PORT
    port_free "$SUT_PORT" || die "$(port_busy_msg "$SUT_PORT")"
    # -w: working dir (default /), where a core file would land were core dumps allowed
    start_bg kamailio "$SD/kamailio.log" env OPENSSL_CONF="$SD/kamailio/openssl.cnf" \
      kamailio -f "$SD/kamailio/kamailio.cfg" -DD -E -m "$KAM_SHM_MB" -M 16 -Y "$SD/kamailio" \
      -w "$SD/kamailio" ${KAM_MEM:+-x "$KAM_MEM"}
    SUT_PID=$LAST_PID
  else
    local v_port="SIP_SUT_${name}_PORT" v_cmd="SIP_SUT_${name}_CMD" v_pid="SIP_SUT_${name}_PID"
    SUT_PORT=${!v_port:?set $v_port}
    cmd=${!v_cmd:-}
    if [ -n "$cmd" ]; then
      port_free "$SUT_PORT" || die "$(port_busy_msg "$SUT_PORT")"
      start_bg "$name" "$SD/$name.log" bash -c "exec $cmd"
      SUT_PID=$LAST_PID
    else
      SUT_MANAGED=0; SUT_PID=${!v_pid:-}
    fi
  fi
  export SUT_PORT
  wait_port "$SUT_PORT" 20 || { tail -20 "$SD/$name.log" 2>/dev/null; die "$name did not listen on $SUT_PORT"; }
}
stop_sut() { if [ "$SUT_MANAGED" = 1 ]; then stop_pid "$SUT_PID"; fi; SUT_PID=; }
start_chain() { # name : uas (+ its stunnel), SUT, caller-side stunnel (quiet, for measuring)
  start_uas; start_sut "$1"; start_stunnel_uac warning "$SD/stunnel-uac.log"
}
stop_chain() { stop_stunnel_uac; stop_sut; stop_uas; }
restart_chain() { stop_chain; sleep 1; start_chain "$1"; }

# ---------------------------------------------------------------- one trial
# In mode ln SIPp closes each call's TCP connection first, so every call leaves a
# TIME_WAIT socket (60 s) on an ephemeral port. Past ~12k of them (Linux uses ~14k even
# ports of 32768-60999 for connect) connect() turns expensive: SIPp's system time rose
# from ~7 % to 50-65 % of a core and calls queued. A trial must not inherit the previous
# trial's sockets: wait until fewer than TW_MAX are left.
wait_time_wait() {
  local lo n i
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for i in $(seq 0 75); do
    n=$(ss -Htn state time-wait 2>/dev/null | awk -v lo="$lo" '{ p = $3; sub(/.*:/, "", p); if (p + 0 >= lo) n++ } END { print n + 0 }')
    if [ "$n" -lt "$TW_MAX" ]; then
      [ "$i" -gt 0 ] && log "  waited ${i}s for TIME_WAIT sockets on ephemeral ports to expire ($n left)"
      return 0
    fi
    sleep 1
  done
  log "  WARNING: still $n TIME_WAIT sockets on ephemeral ports (TW_MAX=$TW_MAX)"
}

# Sets T_PASS (0/1) T_RATE T_CPU_PCT T_US_PER_CALL T_RTT_MS T_STEAL_PCT T_SYS_PCT and the
# load generator's CPU: T_STC_PCT T_STC_US (caller-side stunnel), T_STS_PCT (uas-side
# stunnel), T_UAC_PCT, T_UAS_PCT (SIPp), T_ALL_PCT (SUT + all of those, % of one core).
stat_field() { # file column-name -> value in last line
  awk -F';' -v c="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i} END{print (k? $k : "NA")}' "$1"; }
ms_of() { awk -F: '{ if (NF==4) printf "%.1f", ($1*3600+$2*60+$3)*1000 + $4/1000; else print "NA" }' <<<"$1"; }
pct_of() { awk -v c="$1" -v h="$CLK_TCK" -v t="$2" 'BEGIN{ if (c == "NA") print "NA"; else printf "%.0f", 100*c/h/t}'; }
# CPU ticks used between two readings of cpu_ticks_tree; NA when the process exited in
# between (its CPU time left with it; bash reaps it, so the 2nd reading is lower).
dticks() { if [ "$2" -lt "$1" ]; then echo NA; else echo $(( $2 - $1 )); fi; }
trial() { # name mode rate [calls]
  local name=$1 mode=$2 rate=$3 m=${4:-$(( $3 * SIP_DURATION ))}
  local l=$(( rate * 3 > 300 ? rate * 3 : 300 ))
  local tag="$name-$mode-$rate-$(date +%s%N)"
  local stf=$SD/stat-$tag.csv
  local p=$SUT_PORT t
  [ "${SIP_CERT:-ec}" = rsa ] && p=$((SUT_PORT + 2))
  case $mode in l1) t=t1 ;; ln) t=tn ;; *) die "mode $mode: l1 or ln" ;; esac
  wait_time_wait
  local c0 c1 u0 u1 k0 k1 q0 q1 t0 t1 rc sb0 st0 ss0 sb1 st1 ss1
  c0=$(cpu_ticks_tree "$SUT_PID"); u0=$(cpu_ticks_tree "$UAS_PID"); k0=$(cpu_ticks_tree "$STC_PID"); q0=$(cpu_ticks_tree "$STS_PID")
  read -r sb0 st0 ss0 < <(sys_ticks)
  t0=$(date +%s.%N)
  # The Request-URI/To name the SUT (127.0.0.1:$p); -rsa sends the bytes to stunnel instead.
  ( set +e
    timeout $((SIP_DURATION + 60)) "$SIPP" -sn uac -t "$t" -i 127.0.0.1 -p "$UAC_PORT" "127.0.0.1:$p" \
      -rsa "127.0.0.1:$UAC_TLS_PORT" \
      -r "$rate" -rp 1000 -m "$m" -l "$l" -timeout $((SIP_DURATION + 40))s -recv_timeout 5000 \
      -max_socket "$MAX_SOCK" -nostdin -trace_stat -stf "$stf" -fd 1 >"$SD/uac-last.log" 2>&1
    echo $? >"$SD/uac-last.rc"; times >"$SD/uac-last.times" )
  rc=$(cat "$SD/uac-last.rc")
  t1=$(date +%s.%N)
  c1=$(cpu_ticks_tree "$SUT_PID"); u1=$(cpu_ticks_tree "$UAS_PID"); k1=$(cpu_ticks_tree "$STC_PID"); q1=$(cpu_ticks_tree "$STS_PID")
  read -r sb1 st1 ss1 < <(sys_ticks)
  # UAC CPU seconds = children's user+sys from `times` (2nd line, "XmY.YYYs XmY.YYYs")
  local uac_s; uac_s=$(awk 'NR==2{ s=0; for(i=1;i<=2;i++){ split($i,a,"m"); sub("s","",a[2]); s+=a[1]*60+a[2] } print s }' "$SD/uac-last.times")
  local wall out ok fail rtt wd
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
  if [ -s "$stf" ]; then
    out=$(stat_field "$stf" 'OutgoingCall(C)'); ok=$(stat_field "$stf" 'SuccessfulCall(C)')
    fail=$(stat_field "$stf" 'FailedCall(C)'); rtt=$(ms_of "$(stat_field "$stf" 'ResponseTime1(C)')")
    wd=$(stat_field "$stf" 'WatchdogMajor(C)')
  else out=0; ok=0; fail=$m; rtt=NA; wd=NA; fi
  T_PASS=0
  if [ "$out" = "$m" ] && [ $(( fail * 1000 )) -lt "$m" ] && [ $(( ok + fail )) -ge "$m" ] &&
     awk -v w="$wall" -v s="$SIP_SLACK" -v m="$m" -v r="$rate" 'BEGIN{exit !(w <= m/r + s)}' &&
     awk -v t="$rtt" -v x="$SIP_MAX_RTT_MS" 'BEGIN{exit !(x == 0 || (t != "NA" && t + 0 < x))}'; then
    T_PASS=1
  fi
  local dt; dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
  T_RATE=$rate; T_OK=$ok
  local dc du dk dq
  dc=$(dticks "$c0" "$c1"); du=$(dticks "$u0" "$u1"); dk=$(dticks "$k0" "$k1"); dq=$(dticks "$q0" "$q1")
  [ "$dc" = NA ] && log "  WARNING: the SUT ($name, pid $SUT_PID) exited during this trial"
  [ "$du" = NA ] && log "  note: the SIPp uas exited during this trial (its connection from the SUT broke)"
  T_CPU_PCT=$(awk -v c="$dc" -v h="$CLK_TCK" -v t="$dt" 'BEGIN{ if (c == "NA") print "NA"; else printf "%.1f", 100*c/h/t}')
  T_US_PER_CALL=$(awk -v c="$dc" -v h="$CLK_TCK" -v n="$ok" 'BEGIN{ if(n>0 && c != "NA") printf "%.0f", 1e6*c/h/n; else print "NA"}')
  T_STEAL_PCT=$(awk -v a=$((ss1 - ss0)) -v t=$((st1 - st0)) 'BEGIN{ if(t>0) printf "%.1f", 100*a/t; else print 0}')
  T_SYS_PCT=$(awk -v a=$((sb1 - sb0)) -v t=$((st1 - st0)) 'BEGIN{ if(t>0) printf "%.0f", 100*a/t; else print 0}')
  T_RTT_MS=$rtt
  T_UAC_PCT=$(awk -v c="$uac_s" -v t="$dt" 'BEGIN{printf "%.0f", 100*c/t}')
  T_UAS_PCT=$(pct_of "$du" "$dt")
  T_STC_PCT=$(pct_of "$dk" "$dt")
  T_STC_US=$(awk -v c="$dk" -v h="$CLK_TCK" -v n="$ok" 'BEGIN{ if(n>0 && c != "NA") printf "%.0f", 1e6*c/h/n; else print "NA"}')
  T_STS_PCT=NA; [ -n "$STS_PID" ] && T_STS_PCT=$(pct_of "$dq" "$dt")
  # all = SUT + SIPp uac + uas + stunnel(s); NA if one of them exited during the trial
  T_ALL_PCT=$(awk -v a="$T_CPU_PCT" -v b="$T_UAC_PCT" -v c="$T_UAS_PCT" -v d="$T_STC_PCT" -v e="$T_STS_PCT" -v s="$STS_PID" \
    'BEGIN{ if (a=="NA" || c=="NA" || d=="NA" || (s!="" && e=="NA")) print "NA"; else printf "%.0f", a+b+c+d+(e=="NA"?0:e)}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$mode" "${SIP_CERT:-ec}" "$rate" "$m" "$out" "$ok" "$fail" \
    "$wall" "$T_PASS" "$T_CPU_PCT" "$T_US_PER_CALL" "$rtt" "$T_STC_PCT" "$T_STC_US" \
    "uas_transport=$UAS_TRANSPORT uac=$T_UAC_PCT uas=$T_UAS_PCT stunnel_uas=$T_STS_PCT all=$T_ALL_PCT busy=$T_SYS_PCT steal=$T_STEAL_PCT wd=$wd rc=$rc" >>"$RUNS_TSV"
  log "  trial $name $mode rate=$rate: out=$out ok=$ok fail=$fail wall=${wall}s pass=$T_PASS SUT ${T_CPU_PCT}% ${T_US_PER_CALL}us/call rtt=${rtt}ms | load gen (% of 1 core): stunnel ${T_STC_PCT}% (${T_STC_US}us/call)$([ -n "$STS_PID" ] && echo " stunnel-uas ${T_STS_PCT}%") SIPp uac ${T_UAC_PCT}% uas ${T_UAS_PCT}%; all ${T_ALL_PCT}% of 200%, steal ${T_STEAL_PCT}%, sipp watchdog $wd"
  if [ "$T_PASS" != 1 ]; then   # keep the evidence of a failed trial (SIPp's errors, last screen)
    { grep -v '^$' "$SD/uac-last.log" | grep -vE '^ *[-|]|Call-rate|Sequential|Calls?|Statistics|Counter' | sort | uniq -c | sort -rn | head -15
      tail -25 "$SD/uac-last.log"; } >"$SD/uac-fail-$tag.log" 2>/dev/null || true
  fi
  if [ -n "$STC_PID" ] && ! kill -0 "$STC_PID" 2>/dev/null; then
    local st=0; wait "$STC_PID" 2>/dev/null || st=$?
    log "  WARNING: the caller-side stunnel (pid $STC_PID) died during this trial (exit status $st; >128 = signal $((st - 128)))"
    printf '%s\t%s\t%s\t%s\tstunnel-uac died, exit status %s\n' "$name" "$mode" "${SIP_CERT:-ec}" "$rate" "$st" >>"$SD/stunnel-deaths.tsv"
  fi
  rm -f "$stf"
}

# Smoke: a few calls at a low rate must all pass, and the caller-side stunnel must have
# made full handshakes only (ln: one per call; l1: one in all).
smoke() { # name mode
  local name=$1 mode=$2 chk=$SD/stunnel-uac-check.log n_new n_reused want
  stop_stunnel_uac
  : >"$chk"; start_stunnel_uac info "$chk"
  trial "$name" "$mode" 20 40
  [ "$T_PASS" = 1 ] || { tail -30 "$SD/uac-last.log"; tail -20 "$chk"; die "$name: smoke calls failed (see $SD)"; }
  stop_stunnel_uac
  n_new=$(grep -c 'TLS connected: new session negotiated' "$chk" || true)
  n_reused=$(grep -c 'TLS connected: previous session reused' "$chk" || true)
  want=1; [ "$mode" = ln ] && want=$T_OK
  [ "$n_reused" = 0 ] && [ "$n_new" = "$want" ] ||
    die "$name $mode: stunnel made $n_new full and $n_reused resumed TLS handshakes for $T_OK calls (want $want full, 0 resumed)"
  log "  smoke ok: $T_OK calls, $n_new full TLS handshake(s) by stunnel, 0 resumed"
  start_stunnel_uac warning "$SD/stunnel-uac.log"
}

sip_sanity() { # name : mTLS enforced + TLS policy, on $SUT_PORT
  local name=$1 o pol
  # keep stdin open: the TLS 1.3 alert comes after the handshake; the OPTIONS shows whether a
  # client without a certificate could talk SIP at all
  o=$( { sleep 1; printf 'OPTIONS sip:127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-nocert\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=nocert\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: nocert-probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' "$SUT_PORT"; sleep 1; } |
    timeout 5 openssl s_client -connect "127.0.0.1:$SUT_PORT" -CAfile "$PKI_DIR/ca.crt" 2>&1 || true)
  local refusal
  if grep -q '^SIP/2.0 ' <<<"$o"; then die "$name: a TLS client WITHOUT a certificate got a SIP answer"
  elif grep -qiE 'alert certificate required|alert handshake failure|alert bad certificate' <<<"$o"; then refusal="refused with a TLS alert"
  elif grep -qiE 'unexpected eof|errno=104|Connection reset' <<<"$o"; then refusal="refused WITHOUT a TLS alert (connection closed after the handshake)"
  else die "$name: a TLS client WITHOUT a certificate was not rejected (its connection stayed open)"; fi
  pol=$(tls_policy_check "$SUT_PORT")
  log "sanity $name:$SUT_PORT: no-cert client $refusal; TLS policy: $pol"
  record sip "$name" "tls_policy_port_$SUT_PORT" "$pol" "" "no-cert client $refusal; TLS1.3 AES-GCM only, TLS1.2 ECDHE+AEAD/SHA2 only, no TLS1.1"
  record sip "$name" nocert_refusal "$refusal" "" ""
}

# ---------------------------------------------------------------- search
# Geometric ramp from $start until the first failure, then bisection. Sets BEST_* from
# the highest passing trial and FAIL_* from the lowest failing one.
search() { # name mode start step
  local name=$1 mode=$2 rate=$3 step=$4 lo=0 hi=0 i
  BEST_RATE=0; BEST_CPU=NA; BEST_US=NA; BEST_RTT=NA; BEST_STC=NA; BEST_STC_US=NA; BEST_UAC=NA; BEST_UAS=NA; BEST_ALL=NA
  FAIL_RATE=NA; FAIL_CPU=NA; FAIL_STC=NA; FAIL_ALL=NA
  note_pass() { lo=$T_RATE; BEST_RATE=$T_RATE; BEST_CPU=$T_CPU_PCT; BEST_US=$T_US_PER_CALL; BEST_RTT=$T_RTT_MS
                BEST_STC=$T_STC_PCT; BEST_STC_US=$T_STC_US; BEST_UAC=$T_UAC_PCT; BEST_UAS=$T_UAS_PCT; BEST_ALL=$T_ALL_PCT; }
  note_fail() { hi=$T_RATE; FAIL_RATE=$T_RATE; FAIL_CPU=$T_CPU_PCT; FAIL_STC=$T_STC_PCT; FAIL_ALL=$T_ALL_PCT; }
  after_fail() { note_fail; if [ "$SUT_MANAGED" = 1 ]; then restart_chain "$name"; else sleep 15; fi; }
  while :; do
    trial "$name" "$mode" "$rate"
    if [ "$T_PASS" = 1 ]; then note_pass; sleep 2; else after_fail; break; fi
    rate=$(awk -v r="$rate" -v s="$step" 'BEGIN{printf "%d", r*s}')
    [ "$rate" -gt "$SIP_MAX_RATE" ] && { log "  reached SIP_MAX_RATE"; return; }
  done
  [ "$lo" = 0 ] && [ "${SIP_NO_DOWN:-0}" = 1 ] && return
  if [ "$lo" = 0 ]; then # failed at the start rate: go down
    for i in 1 2 3 4; do
      rate=$(( rate / 2 )); [ "$rate" -lt 5 ] && return
      trial "$name" "$mode" "$rate"
      if [ "$T_PASS" = 1 ]; then note_pass; break; else after_fail; fi
    done
    [ "$lo" = 0 ] && return
  fi
  for i in $(seq 1 "$SIP_BISECT"); do
    rate=$(( (lo + hi) / 2 ))
    [ $(( hi - lo )) -le $(( lo / 50 + 1 )) ] && break
    trial "$name" "$mode" "$rate"
    if [ "$T_PASS" = 1 ]; then note_pass; sleep 2; else after_fail; fi
  done
}

# ---------------------------------------------------------------- main
cd "$SD"   # SIPp drops stray files (uac_PID_.csv) in its cwd
SUTS=${*:-${SIP_SUTS:-kamailio}}
[ -x "$SIPP" ] || die "no SIPp ($SIPP); run bench/lib/setup.sh (package sip-tester)"
[ -x "$STUNNEL" ] || die "no stunnel ($STUNNEL); run bench/lib/setup.sh (package stunnel4)"
bash "$BENCH_LIB/pki.sh" "$PKI_DIR" >/dev/null
for name in $SUTS; do
  for mode in $SIP_MODES; do
    KAM_CHILDREN_NOW=$KAM_TCP_CHILDREN; [ "$mode" = ln ] && KAM_CHILDREN_NOW=$KAM_TCP_CHILDREN_LN
    [ "$name" = kamailio ] && kamailio_write_config
    declare -A R=()
    start=$SIP_START_RATE; [ "$mode" = ln ] && start=$SIP_START_RATE_LN; step=$SIP_STEP
    for rep in $(seq 1 "$SIP_REPS"); do
      wait_quiet
      log "SIP $name mode=$mode cert=${SIP_CERT:-ec} uas=$UAS_TRANSPORT repetition $rep/$SIP_REPS (start $start, step $step)"
      start_chain "$name"
      [ "$rep" = 1 ] && [ "$mode" = "${SIP_MODES%% *}" ] && sip_sanity "$name"
      smoke "$name" "$mode"
      search "$name" "$mode" "$start" "$step"
      stop_chain
      for k in RATE CPU US RTT STC STC_US UAC UAS ALL; do v="BEST_$k"; R[$k]+="${!v} "; done
      R[FAIL]+="$FAIL_RATE:sut=$FAIL_CPU%,stunnel=$FAIL_STC%,all=$FAIL_ALL% "
      log "SIP $name $mode rep $rep: max sustained $BEST_RATE calls/s (SUT CPU ${BEST_CPU}% of one core, ${BEST_US} us/call, mean INVITE->200 ${BEST_RTT} ms; stunnel ${BEST_STC}% = ${BEST_STC_US} us/call, SIPp uac ${BEST_UAC}% uas ${BEST_UAS}%, all ${BEST_ALL}% of 200%); first failing rate $FAIL_RATE (SUT ${FAIL_CPU}%, stunnel ${FAIL_STC}%, all ${FAIL_ALL}%)"
      # later repetitions bracket the first result instead of ramping from scratch
      first=${R[RATE]%% *}
      start=$(awk -v r="$first" 'BEGIN{x=int(r*0.8); print (x<10?10:x)}'); step=1.12
    done
    tag="$mode-${SIP_CERT:-ec}"; [ "$UAS_TRANSPORT" = tls ] && tag="$tag-uastls"
    med() { tr ' ' '\n' <<<"${R[$1]}" | grep -v '^$' | grep -v NA | median; }
    cfgnote=""; [ "$name" = kamailio ] && cfgnote="; tcp_children=$KAM_CHILDREN_NOW -x $KAM_MEM${KAM_CONN_WQ_MAX:+ conn_wq_max=$KAM_CONN_WQ_MAX}"
    record sip "$name" "max_cps_$tag" "$(med RATE)" calls/s "reps: ${R[RATE]}; spread $(tr ' ' '\n' <<<"${R[RATE]}" | grep -v '^$' | spread_pct)%$cfgnote"
    record sip "$name" "sut_cpu_pct_at_max_$tag" "$(med CPU)" "% of 1 core" "reps: ${R[CPU]}"
    record sip "$name" "sut_us_per_call_at_max_$tag" "$(med US)" "CPU-us/call" "reps: ${R[US]}; spread $(tr ' ' '\n' <<<"${R[US]}" | grep -v '^$' | grep -v NA | spread_pct)%"
    record sip "$name" "rtt_ms_at_max_$tag" "$(med RTT)" ms "mean INVITE->200, reps: ${R[RTT]}"
    # load generator (not the SUT): caller-side stunnel, SIPp uac + uas, everything together
    record sip "$name" "lg_stunnel_cpu_pct_at_max_$tag" "$(med STC)" "% of 1 core" "reps: ${R[STC]}"
    record sip "$name" "lg_stunnel_us_per_call_at_max_$tag" "$(med STC_US)" "CPU-us/call" "reps: ${R[STC_US]}"
    record sip "$name" "lg_sipp_uac_uas_cpu_pct_at_max_$tag" "$(med UAC)/$(med UAS)" "% of 1 core" "uac reps: ${R[UAC]}; uas reps: ${R[UAS]}"
    record sip "$name" "all_cpu_pct_at_max_$tag" "$(med ALL)" "% of 2 cores=200" "SUT+stunnel+SIPp; reps: ${R[ALL]}; first failing rate: ${R[FAIL]}"
    unset R
  done
done
