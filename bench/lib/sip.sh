# shellcheck shell=bash
# SIP part, driven by lib/sip-bench.sh (see its header): SIPp uac -> stunnel
# (mutual TLS, client certificate) -> proxy -> SIPp uas, for Kamailio (built in there) and trunkgate
# (an extra SUT: SIP_SUT_trunkgate_*), shapes l1 (one TLS connection) and ln (one per call).
# Added here:
#  * every uac runs through lib/sipp-trace-rtt.sh (-trace_rtt): each call's INVITE->200 time, so
#    p50/p99 at a given rate, through each proxy and through "direct" (lib/direct-stunnel.sh: the
#    same TLS hop ending in a stunnel server in front of the uas, no proxy);
#  * one sip-bench.sh invocation per (system, shape, purpose), each with its own raw TSV, so a
#    system that fails its smoke calls is reported as such and the others still get measured.
# Sourced by bench.sh.

SIP_LAT_DURATION=${SIP_LAT_DURATION:-20}
# Latency percentiles leave out each trial's first SIP_LAT_WARMUP_S seconds, for every system alike
# (proxies and direct): a freshly started Node process runs unoptimised code for its first seconds
# and at a few thousand calls/s queues calls meanwhile, which is a start-up figure, not the latency
# the proxy adds in service. The full run lengthens the latency trial by that much, so 20 s stay
# measured; the whole trial's p99 is kept in the notes.
SIP_LAT_WARMUP_S=${SIP_LAT_WARMUP_S:-$([ "$QUICK" = 1 ] && echo 1 || echo 5)}
SD=$RUN_DIR/sip

# sip_invoke <sut> <mode> <label> <fixed rate | search>: one run of lib/sip-bench.sh.
# Sets S_OK (1 = it ran to the end), S_ERR, S_MAX, S_US, S_CPU, S_RTT_FILE (the first trial's
# per-call times, "" if none), S_FIRST_PASS (did the first trial after the smoke pass).
sip_invoke() {
  local sut=$1 mode=$2 label=$3 rate=$4 raw=$SD/raw-$3.tsv lg=$SD/run-$3.log rc=0 f
  local -a env=(SIP_MODES="$mode" SIP_REPS=1 SIP_DURATION="$SIP_DURATION" RESULTS_TSV="$raw")
  if [ "$rate" = search ]; then
    env+=(SIP_BISECT="${SIP_BISECT:-2}")
  else # one trial at $rate; below it only if it fails (halving; not in quick mode)
    env+=(SIP_START_RATE="$rate" SIP_START_RATE_LN="$rate" SIP_STEP=1000 SIP_MAX_RATE="$rate" SIP_BISECT=0 SIP_NO_DOWN="$QUICK")
  fi
  mkdir -p "$SD"; : >"$raw"
  rm -f "$SD"/uac_*_rtt.csv   # strays of an interrupted run
  local n0=1; [ -f "$SD/trials.tsv" ] && n0=$(wc -l <"$SD/trials.tsv")
  log "SIP $sut $mode ($label, rate $rate): sip-bench.sh, log $lg"
  env "${env[@]}" bash "$BENCH_DIR/lib/sip-bench.sh" "$sut" >"$lg" 2>&1 || rc=$?
  S_OK=1; S_ERR=; S_MAX=0; S_US=NA; S_CPU=NA; S_RTT_FILE=; S_FIRST_PASS=0
  # how a client without a certificate was refused (with or without a TLS alert): into the table
  awk -F'\t' '$3 == "nocert_refusal" || $3 ~ /^tls_policy/' "$raw" >>"$RESULTS_TSV"
  if [ $rc != 0 ]; then
    S_OK=0
    S_ERR=$(grep -m1 'FATAL' "$lg" | sed 's/^\[[0-9:]*\] FATAL: //' || true)
    S_ERR="${S_ERR:-exit status $rc, see $lg} (raw logs: $SD)"
    case $S_ERR in *"smoke calls failed"*) S_ERR="$S_ERR: 40 calls at 20/s did not all complete through $sut (does it relay calls yet? see uac-last.log and $sut.log there)" ;; esac
    log "SIP $sut $mode: FAILED: $S_ERR"
    return 0
  fi
  S_MAX=$(awk -F'\t' -v m="max_cps_$mode-ec" '$3==m{print $4}' "$raw"); S_MAX=${S_MAX:-0}
  S_US=$(awk -F'\t' -v m="sut_us_per_call_at_max_$mode-ec" '$3==m{print $4}' "$raw"); S_US=${S_US:-NA}
  S_CPU=$(awk -F'\t' -v m="sut_cpu_pct_at_max_$mode-ec" '$3==m{print $4}' "$raw"); S_CPU=${S_CPU:-NA}
  # trials of this invocation: the smoke (rate 20, 40 calls) then the measured ones
  S_FIRST_PASS=$(tail -n +"$((n0 + 1))" "$SD/trials.tsv" | awk -F'\t' '$5 != 40 {print $10; exit}')
  # -trace_rtt files appear only for trials of >= -rtt_freq calls (not the smoke): oldest = first trial
  f=$(ls -tr "$SD"/uac_*_rtt.csv 2>/dev/null | head -1 || true)
  if [ -n "$f" ]; then S_RTT_FILE=$SD/rtt-$label.csv; mv "$f" "$S_RTT_FILE"; fi
  rm -f "$SD"/uac_*_rtt.csv
}

# "p50 p99 n" of INVITE->200 (ms, SIPp's whole-millisecond clock) from a -trace_rtt file, for the
# calls answered at least <skip s> (default 0) after SIPp started (column 1: ms since its start)
rtt_pcts() {
  awk -F';' -v skip="$(( ${2:-0} * 1000 ))" 'NR > 1 && $3 == 1 && $1 >= skip {print $2}' "$1" | sort -g |
    awk '{a[NR]=$1} END{ if (NR == 0) { print "NA NA 0"; exit }
      i50 = int(NR*0.50 + 0.999999); i99 = int(NR*0.99 + 0.999999); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
      print a[i50], a[i99], NR }'
}

# record_whole_trial <proxy> <mode> <p99 through the proxy> <p99 direct> <calls>: the p99 over the whole
# trial, warm-up included (a fresh process's first seconds), beside the steady-state one
record_whole_trial() {
  local note="whole trial, the first seconds of a fresh process included: $5 calls traced"
  record sip "$1" "lat_p99_whole_$2" "$3" ms "$note"
  record sip "$1" "added_p99_whole_$2" "$(awk -v a="$3" -v b="$4" 'BEGIN{ if (a == "NA" || b == "NA") print "NA"; else print a - b }')" ms "$note; minus the direct p99 over its whole trial"
}

# latency trial pair at one rate: <proxy> <mode> <rate> <tag>: proxy and direct, records lat_* for proxy
sip_latency_pair() {
  local p=$1 mode=$2 rate=$3 tag=$4 p50 p99 n d50 d99 dn
  sip_invoke "$p" "$mode" "lat-$p-$mode-$rate" "$rate"
  if [ "$S_OK" != 1 ]; then record sip "$p" "status_lat_$mode" "FAILED: $S_ERR" "" ""; return; fi
  local pus=$S_US ppass=$S_FIRST_PASS pfile=$S_RTT_FILE
  sip_invoke direct "$mode" "lat-direct-for-$p-$mode-$rate" "$rate"
  [ "$S_OK" = 1 ] || { record sip "$p" "status_lat_$mode" "direct baseline FAILED: $S_ERR" "" ""; return; }
  read -r p50 p99 n < <(if [ -n "$pfile" ]; then rtt_pcts "$pfile" "$SIP_LAT_WARMUP_S"; else echo "NA NA 0"; fi)
  read -r d50 d99 dn < <(if [ -n "$S_RTT_FILE" ]; then rtt_pcts "$S_RTT_FILE" "$SIP_LAT_WARMUP_S"; else echo "NA NA 0"; fi)
  local w50 w99 wn; read -r w50 w99 wn < <(if [ -n "$pfile" ]; then rtt_pcts "$pfile"; else echo "NA NA 0"; fi)
  local dw50 dw99 dwn; read -r dw50 dw99 dwn < <(if [ -n "$S_RTT_FILE" ]; then rtt_pcts "$S_RTT_FILE"; else echo "NA NA 0"; fi)
  local note="at $rate calls/s ($tag), $n calls traced after the first ${SIP_LAT_WARMUP_S} s (whole trial: p99 $w99 ms over $wn calls); trial passed: $ppass; direct: $dn calls, passed: $S_FIRST_PASS"
  record sip "$p" "lat_rate_$mode" "$rate" calls/s "$tag"
  record sip "$p" "lat_p50_$mode" "$p50" ms "$note"
  record sip "$p" "lat_p99_$mode" "$p99" ms "$note"
  record sip "$p" "direct_p50_$mode" "$d50" ms "$note"
  record sip "$p" "direct_p99_$mode" "$d99" ms "$note"
  record sip "$p" "added_p99_$mode" "$(awk -v a="$p99" -v b="$d99" 'BEGIN{ if (a == "NA" || b == "NA") print "NA"; else print a - b }')" ms "p99 through the proxy - p99 direct, same rate"
  record_whole_trial "$p" "$mode" "$w99" "$dw99" "$wn"
  record sip "$p" "us_per_call_lat_$mode" "$pus" CPU-us/call "$note"
  log "SIP latency $p $mode at $rate/s: p50/p99 $p50/$p99 ms vs direct $d50/$d99 ms ($n / $dn calls)"
}

# quick: one trial per system and shape at a fixed rate (also the latency trial), no search
# full:  the search for the max rate held SIP_DURATION s, then latency at half of it
sip_part() { # proxies...
  local p mode rate
  export SIPP=$BENCH_DIR/lib/sipp-trace-rtt.sh SIPP_RTT_FREQ=${SIPP_RTT_FREQ:-100}
  export SIP_SUT_direct_PORT=$DIRECT_PORT SIP_SUT_direct_CMD="bash $BENCH_DIR/lib/direct-stunnel.sh"
  export DIRECT_STUNNEL_CONF=$SD/direct-stunnel.conf
  export SIP_SUT_trunkgate_PORT=$TG_SIP_PORT SIP_SUT_trunkgate_CMD="$TRUNKGATE_CMD --config $RUN_DIR/trunkgate-sip.yaml"
  mkdir -p "$SD"
  tg_write_config "$RUN_DIR/trunkgate-sip.yaml" sip
  declare -gA QUICK_DIRECT=() QUICK_DIRECT_WHOLE=()
  if [ "$QUICK" = 1 ]; then # the no-proxy baseline once per shape: every system runs the same fixed rates
    for mode in l1 ln; do
      rate=$SIP_QUICK_RATE_L1; [ "$mode" = ln ] && rate=$SIP_QUICK_RATE_LN
      sip_invoke direct "$mode" "quick-direct-$mode" "$rate"
      QUICK_DIRECT[$mode]="NA NA 0"
      [ "$S_OK" = 1 ] && [ -n "$S_RTT_FILE" ] && QUICK_DIRECT[$mode]=$(rtt_pcts "$S_RTT_FILE" "$SIP_LAT_WARMUP_S")
      QUICK_DIRECT_WHOLE[$mode]=NA
      [ "$S_OK" = 1 ] && [ -n "$S_RTT_FILE" ] && QUICK_DIRECT_WHOLE[$mode]=$(rtt_pcts "$S_RTT_FILE" | cut -d' ' -f2)
      [ "$S_OK" = 1 ] || record sip direct "status_$mode" "FAILED: $S_ERR" "" ""
    done
  fi
  for p in "$@"; do
    for mode in l1 ln; do
      if [ "$QUICK" = 1 ]; then
        rate=$SIP_QUICK_RATE_L1; [ "$mode" = ln ] && rate=$SIP_QUICK_RATE_LN
        sip_invoke "$p" "$mode" "quick-$p-$mode" "$rate"
      else
        sip_invoke "$p" "$mode" "search-$p-$mode" search
      fi
      if [ "$S_OK" != 1 ]; then
        record sip "$p" "status_$mode" "FAILED: $S_ERR" "" ""
        [ "$mode" = l1 ] && { record sip "$p" status_ln "not run (l1 failed)" "" ""; break; }
        continue
      fi
      record sip "$p" "max_cps_$mode" "$S_MAX" calls/s "$([ "$QUICK" = 1 ] && echo "quick: one trial at $rate calls/s, no search (0 = that trial failed)" || echo "highest rate held ${SIP_DURATION}s with < 0.1% failed calls")"
      record sip "$p" "us_per_call_$mode" "$S_US" CPU-us/call "SUT process tree at that rate; SUT CPU $S_CPU % of one core"
      if [ "$QUICK" = 1 ]; then
        # the fixed-rate trial doubles as the latency trial; direct ran once at the same rate
        local p50 p99 n d50 d99 dn
        read -r p50 p99 n < <(if [ -n "$S_RTT_FILE" ]; then rtt_pcts "$S_RTT_FILE" "$SIP_LAT_WARMUP_S"; else echo "NA NA 0"; fi)
        read -r d50 d99 dn <<<"${QUICK_DIRECT[$mode]}"
        local pp=$S_FIRST_PASS
        local note="quick: at the fixed rate $rate calls/s (not half a measured max); $n calls traced after the first ${SIP_LAT_WARMUP_S} s, passed: $pp; direct $dn calls"
        record sip "$p" "lat_rate_$mode" "$rate" calls/s "quick: the fixed rate"
        record sip "$p" "lat_p50_$mode" "$p50" ms "$note"
        record sip "$p" "lat_p99_$mode" "$p99" ms "$note"
        record sip "$p" "direct_p50_$mode" "$d50" ms "$note"
        record sip "$p" "direct_p99_$mode" "$d99" ms "$note"
        record sip "$p" "added_p99_$mode" "$(awk -v a="$p99" -v b="$d99" 'BEGIN{ if (a == "NA" || b == "NA") print "NA"; else print a - b }')" ms "p99 through the proxy - p99 direct, same rate"
        local w50 w99 wn; read -r w50 w99 wn < <(if [ -n "$S_RTT_FILE" ]; then rtt_pcts "$S_RTT_FILE"; else echo "NA NA 0"; fi)
        record_whole_trial "$p" "$mode" "$w99" "${QUICK_DIRECT_WHOLE[$mode]:-NA}" "$wn"
      else
        local half=$((S_MAX / 2))
        if [ "$half" -ge 5 ]; then SIP_DURATION=$((SIP_LAT_DURATION + SIP_LAT_WARMUP_S)) sip_latency_pair "$p" "$mode" "$half" "half the max rate ($S_MAX)"; fi
      fi
    done
  done
}
