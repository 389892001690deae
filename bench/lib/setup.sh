#!/usr/bin/env bash
# Installs what trunkgate's benchmark needs (Debian 12, root), Debian binary packages only:
#   kamailio + kamailio-tls-modules (SIP SUT), nginx (HTTPS SUT + upstream),
#   sip-tester (SIPp 3.6.1, built by Debian WITHOUT TLS: it speaks plain TCP here),
#   stunnel4 (puts TLS + the client certificate in front of SIPp), wrk, openssl, curl,
#   gcc + libssl-dev (to compile our own cert_shim.c, an LD_PRELOAD shim that gives wrk
#   a client certificate; built into $SHIM under /tmp, not into the project).
# Idempotent; safe to re-run.
set -euo pipefail
. "$(dirname "$0")/harness.sh"

PKGS="kamailio kamailio-tls-modules sip-tester stunnel4 wrk openssl curl iproute2 procps gcc libc6-dev libssl-dev"
command -v nginx >/dev/null || PKGS="$PKGS nginx"   # any Debian nginx flavour will do
need=0
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || need=1; done
if [ $need = 1 ]; then
  log "apt-get install $PKGS"
  apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $PKGS >/tmp/trunkgate-bench-apt.log 2>&1 ||
    { tail -20 /tmp/trunkgate-bench-apt.log; die "apt-get install failed"; }
fi
# Packaged daemons must not run on the benchmark ports (nor eat CPU).
for svc in kamailio nginx stunnel4; do
  if [ -f /run/$svc.pid ] || [ -f /run/$svc/$svc.pid ]; then log "note: a packaged $svc may be running (pid file in /run); stop it with 'service $svc stop'"; fi
done

[ -x "$SIPP" ] || die "no SIPp at $SIPP (package sip-tester)"
[ -x "$STUNNEL" ] || die "no stunnel at $STUNNEL (package stunnel4)"
# The harness drives SIPp over plain TCP (-t t1 / -t tn) and never asks it for TLS.
sipp_help=$("$SIPP" -h 2>&1 || true)   # sipp -h and -v exit 99
grep -q 'tn: TCP with one socket per call' <<<"$sipp_help" || die "$SIPP does not offer -t tn"

mkdir -p "$(dirname "$SHIM")"
if [ ! -f "$SHIM" ] || [ "$BENCH_LIB/cert_shim.c" -nt "$SHIM" ]; then
  gcc -O2 -shared -fPIC -o "$SHIM" "$BENCH_LIB/cert_shim.c" -ldl -lssl || die "shim build failed"
fi
log "setup ok: $("$SIPP" -v 2>&1 | grep -o 'SIPp v[^ ]*[^ .]' || true), $("$STUNNEL" -version 2>&1 | grep -o 'stunnel [0-9.]*' | head -1), shim $SHIM"
