// Sends the refusal alert (src/tls/refusal-alert.ts) on a server-side TLS socket, in the
// handshake-done callback only (the listener's 'secure' and 'secureConnection' handlers run there,
// synchronously). Node internals used, each checked so that a Node without them degrades to the
// bare close of before: `_handle.verifyError()` (the verification verdict Node acts on right
// after), `_parent` (the accepted TCP socket under the TLS socket; a write there bypasses TLS and
// goes out before Node flushes OpenSSL's output), the TLS 1.3 secret from the 'keylog' event.
import type { TLSSocket } from "node:tls";
import type { HandshakeFailureReason } from "../observability/metrics.js";
import { alertFor, encryptedAlertRecord, plaintextAlertRecord } from "../tls/refusal-alert.js";

const kSecret = Symbol("trunkgate.serverTrafficSecret0");
const kAlerted = Symbol("trunkgate.alertSent");

type Internals = TLSSocket & {
  [kSecret]?: Buffer;
  [kAlerted]?: true;
  _handle?: { verifyError?: () => (Error & { code?: string }) | null } | null;
  _parent?: { write?: (b: Buffer) => boolean; destroyed?: boolean };
};

/** From the server's 'keylog' event: keeps the one secret an alert needs (until the verdict). */
export function keepAlertSecret(line: Buffer, socket: TLSSocket): void {
  // "SERVER_TRAFFIC_SECRET_0 <client random> <secret hex>\n"
  if (line.length < 24 || line.toString("latin1", 0, 24) !== "SERVER_TRAFFIC_SECRET_0 ") return;
  const parts = line.toString("latin1").trim().split(" ");
  if (parts.length === 3) (socket as Internals)[kSecret] = Buffer.from(parts[2]!, "hex");
}

/** Forget the secret once the verdict is in (accepted or refused). */
export function dropAlertSecret(socket: TLSSocket): void {
  const s = socket as Internals;
  if (s[kSecret] !== undefined) {
    s[kSecret].fill(0);
    delete s[kSecret];
  }
}

/** The verification error Node is about to refuse this socket for (its code), if any. */
export function pendingVerifyError(socket: TLSSocket): string | undefined {
  const handle = (socket as Internals)._handle;
  if (typeof handle?.verifyError !== "function") return undefined;
  return handle.verifyError()?.code ?? undefined;
}

/** Writes the alert for `reason` ahead of Node's close; false when none could be sent. */
export function sendRefusalAlert(socket: TLSSocket, reason: HandshakeFailureReason): boolean {
  const s = socket as Internals;
  const description = alertFor(reason);
  const raw = s._parent;
  if (description === undefined || s[kAlerted] || typeof raw?.write !== "function" || raw.destroyed) return false;
  // A resumed TLS 1.2 session has sent its Finished first: a plaintext record would be out of place.
  if (socket.isSessionReused()) return false;
  let record: Buffer | undefined;
  const protocol = socket.getProtocol();
  if (protocol === "TLSv1.2") record = plaintextAlertRecord(description);
  else if (protocol === "TLSv1.3" && s[kSecret] !== undefined) record = encryptedAlertRecord(socket.getCipher().standardName, s[kSecret], description);
  dropAlertSecret(socket);
  if (record === undefined) return false;
  s[kAlerted] = true;
  raw.write(record);
  return true;
}
