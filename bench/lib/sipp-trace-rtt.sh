#!/usr/bin/env bash
# SIPp wrapper handed to lib/sip-bench.sh as $SIPP: a load-generating uac also writes
# every call's INVITE->200 time (-trace_rtt: <scenario>_<pid>_rtt.csv in its cwd, one line
# per call, flushed every -rtt_freq calls) so p50/p99 can be computed; nothing else changes.
# exec keeps the PID, so the harness's timeout/stop-by-PID reach SIPp itself.
set -u
SIPP_REAL=${SIPP_REAL:-/usr/bin/sipp}
for a in "$@"; do
  if [ "$a" = uac ]; then exec "$SIPP_REAL" "$@" -trace_rtt -rtt_freq "${SIPP_RTT_FREQ:-500}"; fi
done
exec "$SIPP_REAL" "$@"
