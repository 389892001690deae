// tls.devPki.autoGenerate makes a development PKI only where there is none: a mistyped certificate
// path next to an existing PKI is an error naming the key and the file, and the CA (which trunks
// may already trust) is left alone.
import t from "tap";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDevPki } from "../../src/app.js";
import { parseConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/observability/logger.js";
import { planDevPki } from "../../src/pki/dev-pki-plan.js";

const dir = mkdtempSync(join(tmpdir(), "trunkgate-devpki-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const logger = createLogger({ level: "silent" });

function devConfig(serverCert = "server-ecdsa.pem") {
  const d = join(dir, "dev");
  return parseConfig(
    JSON.stringify({
      tls: {
        certificates: [{ cert: join(d, serverCert), key: join(d, "server-ecdsa.key") }],
        clientCertificate: { cert: join(d, "upstream-client.pem"), key: join(d, "upstream-client.key") },
        devPki: { autoGenerate: true, dir: d },
      },
    }),
  );
}

t.test("an empty directory gets a PKI; a complete one is left alone", async (t) => {
  t.equal(planDevPki(devConfig().tls).action, "generate");
  await ensureDevPki(devConfig(), logger);
  t.ok(readdirSync(join(dir, "dev")).includes("ca.pem"));
  t.same(planDevPki(devConfig().tls), { action: "none" });
});

t.test("a mistyped path next to an existing PKI names the key and the file and regenerates nothing", async (t) => {
  const before = readFileSync(join(dir, "dev", "ca.pem"));
  const files = readdirSync(join(dir, "dev")).sort();
  const typo = devConfig("server-ecdsa.pm");
  await t.rejects(ensureDevPki(typo, logger), {
    name: "TlsMaterialError",
    key: "tls.certificates.0.cert",
    message: /tls\.certificates\.0\.cert: .*server-ecdsa\.pm does not exist, and .* already holds a development PKI .*nothing was regenerated/,
  });
  t.same(readFileSync(join(dir, "dev", "ca.pem")), before, "the CA is unchanged");
  t.same(readdirSync(join(dir, "dev")).sort(), files, "no file written");
  const plan = planDevPki(typo.tls);
  t.equal(plan.action, "missing");
});

t.test("autoGenerate off: nothing planned even when files are missing", async (t) => {
  const cfg = parseConfig(JSON.stringify({ tls: { certificates: [{ cert: join(dir, "nope.pem"), key: join(dir, "nope.key") }] } }));
  t.same(planDevPki(cfg.tls), { action: "none" });
});
