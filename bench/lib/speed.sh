# shellcheck shell=bash
# Physical bound for new mutual-TLS connections: `openssl speed` on one core, and the server-side
# cost of one full handshake = 1 ECDSA P-256 sign + 1 ECDH + 2 ECDSA verifies (the client
# certificate's signature and its CertificateVerify). Sourced by bench.sh.

SPEED_SECONDS=${SPEED_SECONDS:-3}

speed_part() {
  local f=$RUN_DIR/speed.txt sign verify ecdh x25519
  wait_quiet
  openssl speed -elapsed -seconds "$SPEED_SECONDS" ecdsap256 ecdhp256 ecdhx25519 >"$f" 2>/dev/null ||
    { record speed openssl status "openssl speed failed" "" ""; return; }
  sign=$(awk '/ecdsa \(nistp256\)/{print $(NF-1)}' "$f"); verify=$(awk '/ecdsa \(nistp256\)/{print $NF}' "$f")
  ecdh=$(awk '/ecdh \(nistp256\)/{print $NF}' "$f"); x25519=$(awk '/ecdh \(X25519\)/{print $NF}' "$f")
  record speed openssl ecdsa_p256_sign "$sign" ops/s "1 core"
  record speed openssl ecdsa_p256_verify "$verify" ops/s "1 core"
  record speed openssl ecdh_p256 "$ecdh" ops/s "1 core"
  record speed openssl ecdh_x25519 "$x25519" ops/s "1 core"
  record speed bound us_per_full_handshake "$(awk -v s="$sign" -v v="$verify" -v e="$ecdh" 'BEGIN{printf "%.0f", 1e6*(1/s + 1/e + 2/v)}')" "CPU-us" "1 sign + 1 ECDH(P-256) + 2 verifies, server side"
  record speed bound handshakes_per_s_per_core "$(awk -v s="$sign" -v v="$verify" -v e="$ecdh" 'BEGIN{printf "%.0f", 1/(1/s + 1/e + 2/v)}')" "handshakes/s" "pure crypto; the machine has $(nproc) cores, shared with the load generator"
}
