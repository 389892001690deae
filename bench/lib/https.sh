# shellcheck shell=bash
# HTTPS part: wrk (client certificate through the LD_PRELOAD shim lib/cert_shim.c) -> SUT -> one upstream
# nginx (1 worker, `return 200 "ok\n"`), for nginx and trunkgate in turn, repetitions interleaved
# (nginx, trunkgate, nginx, ...) so slow drifts of a shared machine hit both alike.
#   ka   keep-alive requests/s, p50/p99 (wrk --latency), SUT CPU-us per request
#   new  a new connection with a FULL mutual-TLS handshake and one request each (wrk,
#        Connection: close, SHIM_NO_RESUME=1), conns/s and SUT CPU-us per connection
# Sourced by bench.sh (uses the lib/harness.sh helpers and nginx-conf.sh).

HTTPS_DURATION=${HTTPS_DURATION:-20}
HTTPS_REPS=${HTTPS_REPS:-3}
HTTPS_WARMUP=${HTTPS_WARMUP:-2}     # s of unmeasured keep-alive load after each start
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-50}         # keep-alive connections (as the anchor harness)
WRK_CONNS_NEW=${WRK_CONNS_NEW:-16} # concurrent connect/handshake/request/close loops
HD=$RUN_DIR/https
UP_PID=

https_start_upstream() {
  mkdir -p "$HD"
  nginx_write_upstream "$HD/upstream"
  port_free "$UPSTREAM_PORT" || die "upstream $(port_busy_msg "$UPSTREAM_PORT")"
  start_bg upstream "$HD/upstream.log" nginx -p "$HD/upstream" -c "$HD/upstream/nginx.conf"
  UP_PID=$LAST_PID
  wait_port "$UPSTREAM_PORT" 10 || die "upstream nginx did not listen on $UPSTREAM_PORT"
}
https_stop_upstream() { stop_pid "$UP_PID"; UP_PID=; }

# https_start_sut <nginx|trunkgate> <config-part>: sets SUT_PID and SUT_PORT, or returns 1 with a
# message in HTTPS_ERR when it did not come up.
https_start_sut() {
  local name=$1 part=${2:-https}
  HTTPS_ERR=
  if [ "$name" = nginx ]; then
    SUT_PORT=$NGINX_PORT
    nginx_write_proxy "$HD/nginx"
    port_free "$SUT_PORT" || die "$(port_busy_msg "$SUT_PORT")"
    start_bg nginx "$HD/nginx.log" nginx -p "$HD/nginx" -c "$HD/nginx/nginx.conf"
  else
    SUT_PORT=$TG_HTTPS_PORT
    tg_write_config "$RUN_DIR/trunkgate-$part.yaml" "$part"
    port_free "$SUT_PORT" || die "$(port_busy_msg "$SUT_PORT")"
    start_bg trunkgate "$HD/trunkgate.log" bash -c "exec $TRUNKGATE_CMD --config $RUN_DIR/trunkgate-$part.yaml"
  fi
  SUT_PID=$LAST_PID
  if ! wait_port "$SUT_PORT" 10; then
    HTTPS_ERR="$name did not listen on 127.0.0.1:$SUT_PORT within 10 s: $(tail -3 "$HD/$name.log" | tr '\n' ' ' | cut -c1-300)"
    stop_pid "$SUT_PID"; SUT_PID=
    return 1
  fi
}
https_stop_sut() { stop_pid "$SUT_PID"; SUT_PID=; }

# The SUT must refuse a client without a certificate, proxy one request with it to the upstream's
# "ok", and serve wrk through the shim. Returns 1 with HTTPS_ERR set otherwise.
https_sanity() { # name
  local name=$1 code body o pol
  code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 "https://127.0.0.1:$SUT_PORT/" || true)
  [ "$code" = 200 ] && { HTTPS_ERR="a request WITHOUT a client certificate got 200 (mutual TLS not enforced)"; return 1; }
  body=$(curl -s --max-time 5 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/client.crt" --key "$PKI_DIR/client.key" \
    "https://localhost:$SUT_PORT/" 2>&1 || true)
  [ "$body" = ok ] || { HTTPS_ERR="one request with the client certificate did not return the upstream's 'ok' (got: $(cut -c1-200 <<<"$body")) - not proxying yet?"; return 1; }
  o=$(SHIM_CERT=$PKI_DIR/client.crt SHIM_KEY=$PKI_DIR/client.key LD_PRELOAD=$SHIM \
    timeout 10 wrk -t1 -c1 -d1s "https://127.0.0.1:$SUT_PORT/" 2>&1 || true)
  if ! [ "$(awk '/requests in/{print $1}' <<<"$o")" -gt 0 ] 2>/dev/null || grep -q 'Non-2xx' <<<"$o"; then
    HTTPS_ERR="wrk with the client-cert shim got no 2xx: $(tr '\n' ' ' <<<"$o" | cut -c1-200)"; return 1
  fi
  pol=$(tls_policy_check "$SUT_PORT")
  log "sanity $name:$SUT_PORT: no-cert -> HTTP $code (refused), cert -> 200 ok, wrk ok, TLS policy: $pol"
  record https "$name" tls_policy "$pol" "" "no-cert refused; TLS1.3 AES-GCM only, TLS1.2 ECDHE+AEAD/SHA2 only, no TLS1.1"
}

to_ms() { awk -v x="$1" 'BEGIN{ v=x+0; if (x ~ /us$/) v/=1000; else if (x ~ /ms$/) v=v; else if (x ~ /m$/) v*=60000; else if (x ~ /s$/) v*=1000; printf "%.3f", v }'; }
wrk_pct() { local v; v=$(awk -v p="$2%" '$1==p{print $2}' "$1"); if [ -n "$v" ]; then to_ms "$v"; else echo NA; fi; }
wrk_errors() { awk '/Non-2xx/{n+=$NF} /Socket errors/{gsub(",",""); n+=$4+$6+$8+$10} END{print n+0}' "$1"; }
# run_wrk_measured <out> [wrk args...]: sets W_RPS W_N W_US (SUT CPU-us per request) W_CPU (% of 1 core)
# W_BUSY (% of the whole machine busy meanwhile, everything included: > ~95 % = it was saturated)
run_wrk_measured() {
  local out=$1 c0 c1 t0 t1 b0 T0 s0 b1 T1 s1; shift
  c0=$(cpu_ticks_tree "$SUT_PID"); t0=$(date +%s.%N); read -r b0 T0 s0 < <(sys_ticks)
  SHIM_NO_RESUME=${NO_RESUME:-0} SHIM_CERT=$PKI_DIR/client.crt SHIM_KEY=$PKI_DIR/client.key LD_PRELOAD=$SHIM \
    timeout $((HTTPS_DURATION + 30)) wrk -t "$WRK_THREADS" -d "${HTTPS_DURATION}s" --latency "$@" \
    "https://127.0.0.1:$SUT_PORT/" >"$out" 2>&1 || true
  t1=$(date +%s.%N); c1=$(cpu_ticks_tree "$SUT_PID"); read -r b1 T1 s1 < <(sys_ticks)
  W_BUSY=$(awk -v a=$((b1 - b0)) -v t=$((T1 - T0)) 'BEGIN{printf "%.0f", (t>0)?100*a/t:0}')
  W_RPS=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$out"); W_RPS=${W_RPS:-0}
  W_N=$(awk '/requests in/{print $1}' "$out"); W_N=${W_N:-0}
  W_US=$(awk -v c=$((c1 - c0)) -v h="$CLK_TCK" -v n="$W_N" 'BEGIN{ if (n > 0) printf "%.0f", 1e6*c/h/n; else print "NA" }')
  W_CPU=$(awk -v c=$((c1 - c0)) -v h="$CLK_TCK" -v a="$t0" -v b="$t1" 'BEGIN{ printf "%.0f", 100*c/h/(b-a) }')
}

https_part() { # suts...
  local suts=() name rep f k
  https_start_upstream
  for name in "$@"; do   # sanity once; a SUT failing it is reported and left out
    if https_start_sut "$name" && https_sanity "$name"; then suts+=("$name")
    else
      log "HTTPS $name: NOT MEASURED: $HTTPS_ERR"
      record https "$name" status "NOT MEASURED: $HTTPS_ERR" "" ""
    fi
    https_stop_sut
  done
  declare -A V=()
  for rep in $(seq 1 "$HTTPS_REPS"); do
    for name in "${suts[@]}"; do
      wait_quiet
      https_start_sut "$name" || { log "HTTPS $name rep $rep: $HTTPS_ERR"; continue; }
      # warm-up (JIT, pools, session caches), not measured: a fresh Node process runs cold code first
      HTTPS_DURATION=$HTTPS_WARMUP run_wrk_measured "$HD/wrk-warmup-$name-$rep.txt" -c "$WRK_CONNS"
      f=$HD/wrk-ka-$name-$rep.txt
      run_wrk_measured "$f" -c "$WRK_CONNS"
      V[$name,ka_rps]+="$W_RPS "; V[$name,ka_us]+="$W_US "; V[$name,ka_cpu]+="$W_CPU "
      V[$name,ka_p50]+="$(wrk_pct "$f" 50) "; V[$name,ka_p99]+="$(wrk_pct "$f" 99) "; V[$name,ka_err]+="$(wrk_errors "$f") "; V[$name,ka_busy]+="$W_BUSY "
      log "  HTTPS $name rep $rep keep-alive: $W_RPS req/s, p50 $(wrk_pct "$f" 50) p99 $(wrk_pct "$f" 99) ms, SUT ${W_CPU}% = $W_US CPU-us/req, errors $(wrk_errors "$f"), machine busy ${W_BUSY}%"
      f=$HD/wrk-new-$name-$rep.txt
      NO_RESUME=1 run_wrk_measured "$f" -c "$WRK_CONNS_NEW" -H "Connection: close"
      V[$name,new_cps]+="$W_RPS "; V[$name,new_us]+="$W_US "; V[$name,new_cpu]+="$W_CPU "
      V[$name,new_p99]+="$(wrk_pct "$f" 99) "; V[$name,new_err]+="$(wrk_errors "$f") "; V[$name,new_busy]+="$W_BUSY "
      log "  HTTPS $name rep $rep new mTLS conn + 1 request: $W_RPS conns/s, p99 $(wrk_pct "$f" 99) ms, SUT ${W_CPU}% = $W_US CPU-us/conn, errors $(wrk_errors "$f"), machine busy ${W_BUSY}%"
      https_stop_sut
    done
  done
  for name in "${suts[@]}"; do
    for k in ka_rps ka_us ka_cpu ka_p50 ka_p99 ka_err ka_busy new_cps new_us new_cpu new_p99 new_err new_busy; do
      local vals unit=""
      vals=$(tr ' ' '\n' <<<"${V[$name,$k]:-}" | grep -v '^$' | grep -v NA || true)
      case $k in ka_rps) unit=req/s ;; new_cps) unit="conns/s (1 req each)" ;; *p50 | *p99) unit=ms ;; *cpu) unit="% of 1 core" ;; *busy) unit="% of the machine" ;;
        ka_us) unit=CPU-us/req ;; new_us) unit=CPU-us/conn ;; *err) unit=errors ;; esac
      record https "$name" "$k" "$(median <<<"$vals")" "$unit" "reps: ${V[$name,$k]:-}"
    done
  done
  https_stop_upstream
}
