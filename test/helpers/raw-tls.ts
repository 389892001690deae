// Raw bytes over mutual TLS (ALPN http/1.1): for requests no HTTP client library would send.
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { within } from "./http-harness.js";
import type { TestPki } from "./pki.js";

/** A mutual-TLS connection to 127.0.0.1:port as the test client (ALPN http/1.1). */
export function connectTestClient(pki: TestPki, port: number): TLSSocket {
  return tlsConnect({
    host: "127.0.0.1",
    port,
    servername: "localhost",
    ca: pki.ca.cert,
    cert: pki.client.cert,
    key: pki.client.key,
    ALPNProtocols: ["http/1.1"],
  });
}

/** Connect with the test client certificate, write `text`, collect everything until the close. */
export function rawTlsExchange(pki: TestPki, port: number, text: string, timeoutMs = 10_000): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      const s = connectTestClient(pki, port);
      let got = "";
      s.on("secureConnect", () => s.write(text));
      s.on("data", (d: Buffer) => (got += d.toString("latin1")));
      s.on("close", () => resolve(got));
      s.on("error", (e) => (got ? resolve(got) : reject(e)));
    }),
    timeoutMs,
    "raw exchange",
  );
}
