# shellcheck shell=bash
# Memory part: resident memory of the SUT's whole process tree with MEM_CONNS idle mutual-TLS
# connections open (bench/idle-conns.mjs: full handshakes, client certificate, no request), for
# nginx and trunkgate's HTTPS listener, and the memory per connection
#   (tree memory with the connections open - tree memory before) / connections open.
# Memory = PSS summed over the tree (/proc/PID/smaps_rollup): RSS would count nginx's shared
# pages once per worker. RSS is recorded too. Sourced by bench.sh after https.sh.

MEM_CONNS=${MEM_CONNS:-10000}
MEM_SETTLE_S=${MEM_SETTLE_S:-3}

tree_pids() { # root pid -> it and all its live descendants
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" '
    { p = index($0, ") "); n = split(substr($0, p + 2), f, " "); ppid[$1] = f[2] }
    END { inset[root] = 1; ch = 1
          while (ch) { ch = 0; for (q in ppid) if (!(q in inset) && (ppid[q] in inset)) { inset[q] = 1; ch = 1 } }
          for (q in inset) print q }'
}
tree_mem_kib() { # root pid -> "PSS_KiB RSS_KiB" summed over the tree
  local p pss=0 rss=0 a b
  for p in $(tree_pids "$1"); do
    read -r a b < <(awk '/^Pss:/{p=$2} /^Rss:/{r=$2} END{print p+0, r+0}' "/proc/$p/smaps_rollup" 2>/dev/null || echo "0 0")
    pss=$((pss + a)); rss=$((rss + b))
  done
  echo "$pss $rss"
}

memory_one() { # name
  local name=$1 log=$RUN_DIR/mem/client-$1.log pss0 rss0 pss1 rss1 est i cpid ready_line
  mkdir -p "$RUN_DIR/mem"
  if ! https_start_sut "$name" mem; then record mem "$name" status "NOT MEASURED: $HTTPS_ERR" "" ""; return; fi
  sleep 1
  read -r pss0 rss0 < <(tree_mem_kib "$SUT_PID")
  : >"$log"
  # bounded: the client gives up opening after 150 s and exits by itself after holding 60 s
  start_bg idle-conns "$log" node "$BENCH_DIR/idle-conns.mjs" --port "$SUT_PORT" --count "$MEM_CONNS" \
    --cert "$PKI_DIR/client.crt" --key "$PKI_DIR/client.key" --ca "$PKI_DIR/ca.crt" --hold-s 60 --open-timeout-s 150
  cpid=$LAST_PID
  ready_line=
  for i in $(seq 1 1600); do
    ready_line=$(grep -m1 '"ready":true' "$log" || true)
    [ -n "$ready_line" ] && break
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$ready_line" ]; then
    record mem "$name" status "NOT MEASURED: the client did not get $MEM_CONNS connections open: $(grep -v '^===' "$log" | tail -2 | tr '\n' ' ' | cut -c1-300)" "" ""
    stop_pid "$cpid"; https_stop_sut; return
  fi
  sleep "$MEM_SETTLE_S"
  read -r pss1 rss1 < <(tree_mem_kib "$SUT_PID")
  est=$(ss -Htn state established "sport = :$SUT_PORT" 2>/dev/null | wc -l)
  local open failed closed open_s
  open=$(grep -o '"open":[0-9]*' <<<"$ready_line" | cut -d: -f2)
  failed=$(grep -o '"failed":[0-9]*' <<<"$ready_line" | cut -d: -f2)
  closed=$(grep -c '"event":"closed"' "$log" || true)
  open_s=$(grep -o '"ms":[0-9]*' <<<"$ready_line" | cut -d: -f2 | awk '{printf "%.1f", $1/1000}')
  stop_pid "$cpid"
  https_stop_sut
  log "memory $name: $open connections open ($failed failed, $closed closed while held, $est established at the server) in ${open_s}s; PSS ${pss0} -> ${pss1} KiB, RSS ${rss0} -> ${rss1} KiB"
  local note="open=$open failed=$failed closed_while_held=$closed server_established=$est open_time_s=$open_s; PSS before=${pss0}KiB"
  record mem "$name" idle_conns_open "$est" connections "$note"
  record mem "$name" pss_mib_with_idle_conns "$(awk -v k="$pss1" 'BEGIN{printf "%.1f", k/1024}')" MiB "PSS of the process tree; before: $(awk -v k="$pss0" 'BEGIN{printf "%.1f", k/1024}') MiB"
  record mem "$name" rss_mib_with_idle_conns "$(awk -v k="$rss1" 'BEGIN{printf "%.1f", k/1024}')" MiB "RSS summed over the tree; before: $(awk -v k="$rss0" 'BEGIN{printf "%.1f", k/1024}') MiB"
  record mem "$name" kib_per_idle_conn "$(awk -v a="$pss0" -v b="$pss1" -v n="$est" 'BEGIN{ if (n > 0) printf "%.1f", (b-a)/n; else print "NA" }')" KiB "(PSS with - PSS before) / connections established"
}

memory_part() { # suts...
  local name
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  https_start_upstream
  for name in "$@"; do wait_quiet; memory_one "$name"; done
  https_stop_upstream
}
