// Issue 9 §9: trunkgate_certificate_not_after_timestamp_seconds collapsed an ECDSA and an RSA
// certificate with the same subject into one series; key_type keeps them apart.
import t from "tap";
import { X509Certificate } from "node:crypto";
import { Registry } from "prom-client";
import { configSchema } from "../../src/config/schema/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { reportExpiry } from "../../src/tls/expiry.js";
import { loadTlsMaterial } from "../../src/tls/material.js";
import { LogCapture, makeTestPki } from "../helpers/http-harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());

t.test("ECDSA and RSA server certificates with one subject: one series each, told apart by key_type", async (t) => {
  const ecdsa = new X509Certificate(pki.serverEcdsa.cert);
  const rsa = new X509Certificate(pki.serverRsa.cert);
  t.equal(ecdsa.subject, rsa.subject, "the test PKI gives both the same subject");
  const config = configSchema.parse({
    tls: {
      certificates: [
        { cert: pki.serverEcdsa.certPath, key: pki.serverEcdsa.keyPath },
        { cert: pki.serverRsa.certPath, key: pki.serverRsa.keyPath },
      ],
      clientCertificate: { cert: pki.upstreamClient.certPath, key: pki.upstreamClient.keyPath },
      trust: { bundledRoots: false, extraRoots: [pki.ca.certPath] },
      watch: false,
    },
  });
  const metrics = createMetrics("test", new Registry());
  reportExpiry(loadTlsMaterial(config.tls), metrics, createLogger({ level: "info", destination: new LogCapture() }));
  const values = (await metrics.certificateNotAfter.get()).values;
  const server = values.filter((v) => v.labels.role === "server");
  t.equal(server.length, 2, "two server series");
  t.same(server.map((v) => v.labels.key_type).sort(), ["ecdsa", "rsa"]);
  t.equal(server.find((v) => v.labels.key_type === "rsa")?.value, Date.parse(rsa.validTo) / 1000, "the RSA certificate's own expiry");
  t.equal(server.find((v) => v.labels.key_type === "ecdsa")?.value, Date.parse(ecdsa.validTo) / 1000, "the ECDSA certificate's own expiry");
  t.match(values.find((v) => v.labels.role === "client")?.labels, { key_type: "ecdsa" }, "the client certificate is labelled too");
});
