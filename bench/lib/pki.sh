#!/usr/bin/env bash
# The benchmark's throwaway test PKI (generated at run time, never committed): root CA (ECDSA
# P-256), server certs (ECDSA P-256 and RSA-2048) for 127.0.0.1/localhost carrying EKU serverAuth
# and clientAuth, one client cert (ECDSA P-256, EKU clientAuth, SAN DNS:client.anchors.test).
# The names match the team's anchor harness so its figures and ours use the same material.
# Usage: pki.sh [DIR]   (default $PKI_DIR or /tmp/trunkgate-bench/pki). Idempotent.
set -euo pipefail
D=${1:-${PKI_DIR:-/tmp/trunkgate-bench/pki}}
mkdir -p "$D"; cd "$D"
[ -s ca.crt ] && [ -s client.crt ] && [ -s server-ec.crt ] && [ -s server-rsa.crt ] && { echo "PKI already in $D"; exit 0; }
umask 077
openssl ecparam -name prime256v1 -genkey -noout -out ca.key
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=anchors test root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" -out ca.crt
cat > server.ext <<'X'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier=keyid
X
cat > client.ext <<'X'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:client.anchors.test
authorityKeyIdentifier=keyid
X
openssl ecparam -name prime256v1 -genkey -noout -out server-ec.key
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server-rsa.key 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out client.key
# PKCS#8 copies (some tools only take "BEGIN PRIVATE KEY")
for k in server-ec server-rsa client; do openssl pkey -in $k.key -out $k.p8.key; done
sign() { # name subject extfile
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -sha256 \
    -extfile "$3" -out "$1.crt" 2>/dev/null
  cat "$1.crt" ca.crt > "$1.chain.crt"
}
sign server-ec  "/CN=localhost"         server.ext
sign server-rsa "/CN=localhost"         server.ext
sign client     "/CN=anchors-client-1"  client.ext
chmod 644 *.crt; chmod 600 *.key
for c in server-ec server-rsa client; do openssl verify -CAfile ca.crt $c.crt; done
echo "PKI written to $D"
