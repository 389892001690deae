// Maps what OpenSSL/Node report for a failed handshake to the small fixed set of reasons the
// metrics use. Codes are Node's (verify errors) or OpenSSL's reason strings (handshake alerts).
import type { HandshakeFailureReason } from "../observability/metrics.js";

const BY_CODE: Record<string, HandshakeFailureReason> = {
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: "no_certificate",
  ERR_SSL_NO_CERTIFICATES_RETURNED: "no_certificate",
  CERT_HAS_EXPIRED: "expired",
  CERT_NOT_YET_VALID: "expired",
  CERT_REVOKED: "revoked",
  INVALID_PURPOSE: "bad_purpose",
  UNABLE_TO_GET_ISSUER_CERT: "untrusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "untrusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "untrusted",
  DEPTH_ZERO_SELF_SIGNED_CERT: "untrusted",
  SELF_SIGNED_CERT_IN_CHAIN: "untrusted",
  CERT_SIGNATURE_FAILURE: "untrusted",
  CERT_UNTRUSTED: "untrusted",
  CERT_CHAIN_TOO_LONG: "untrusted",
  UNABLE_TO_GET_CRL: "untrusted",
  CRL_HAS_EXPIRED: "untrusted",
  CRL_NOT_YET_VALID: "untrusted",
  CRL_SIGNATURE_FAILURE: "untrusted",
  ERR_SSL_UNSUPPORTED_PROTOCOL: "protocol_version",
  ERR_SSL_WRONG_VERSION_NUMBER: "protocol_version",
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: "protocol_version",
  ERR_SSL_VERSION_TOO_LOW: "protocol_version",
  ERR_SSL_NO_SHARED_CIPHER: "no_shared_cipher",
  ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM: "no_shared_cipher",
  ERR_SSL_NO_SHARED_GROUPS: "no_shared_cipher",
  ERR_TLS_HANDSHAKE_TIMEOUT: "timeout",
};

export function classifyHandshakeError(err: Error & { code?: string; reason?: string }): HandshakeFailureReason {
  const code = err.code ?? "";
  const byCode = BY_CODE[code];
  if (byCode) return byCode;
  const text = `${err.reason ?? ""} ${err.message}`.toLowerCase();
  if (text.includes("peer did not return a certificate") || text.includes("certificate required")) return "no_certificate";
  if (text.includes("unsupported protocol") || text.includes("version too low") || text.includes("wrong version"))
    return "protocol_version";
  if (text.includes("no shared cipher") || text.includes("no suitable signature")) return "no_shared_cipher";
  if (text.includes("timed out") || text.includes("timeout")) return "timeout";
  return "other";
}
