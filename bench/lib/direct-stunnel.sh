#!/usr/bin/env bash
# The "direct" SIP system: no proxy. A stunnel server only terminates the caller's mutual-TLS
# connection(s) on $SUT_PORT and passes the bytes to the SIPp uas ($UAS_HOST:$UAS_PORT, TCP).
# Run by lib/sip-bench.sh as a SUT command; it exports SUT_PORT UAS_HOST UAS_PORT PKI_DIR
# TLS12_CIPHERS TLS13_SUITES. Against this baseline the latency a proxy adds is exactly the
# proxy (the TLS hop that carries SIPp's calls is the same in both cases).
set -euo pipefail
conf=${DIRECT_STUNNEL_CONF:-/tmp/trunkgate-bench-direct-stunnel.conf}
cat >"$conf" <<EOC
foreground = yes
pid =
syslog = no
debug = warning
[direct]
accept = 127.0.0.1:$SUT_PORT
connect = $UAS_HOST:$UAS_PORT
cert = $PKI_DIR/server-ec.crt
key = $PKI_DIR/server-ec.key
CAfile = $PKI_DIR/ca.crt
verifyChain = yes
sslVersionMin = TLSv1.2
ciphers = $TLS12_CIPHERS
ciphersuites = $TLS13_SUITES
options = NO_TICKET
TIMEOUTclose = 1
EOC
exec /usr/bin/stunnel4 "$conf"
