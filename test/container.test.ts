// What can be checked of the container here (no Docker engine on these machines): the image's
// command, run as an unprivileged uid from a read-only copy of the built app, with only the data
// directory writable — as the Dockerfile's runtime stage arranges it.
import t from "tap";
import { spawn } from "node:child_process";
import { chmod, chown, copyFile, cp, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { makeTestPki } from "./helpers/pki.js";
import { collect, waitForLine } from "./helpers/cli.js";

const UID = 65534; // nobody

t.test("Dockerfile: multi-stage, non-root, ports, healthcheck, stop signal", async (t) => {
  const df = await readFile("Dockerfile", "utf8");
  t.ok((df.match(/^FROM /gm) ?? []).length >= 2, "multi-stage");
  // Node 24 LTS, pinned by digest (the same pinned image for both stages), with how to bump it.
  t.match(df, /^ARG NODE_IMAGE=node:24-bookworm-slim@sha256:[0-9a-f]{64}$/m);
  t.match(df, /^FROM \$\{NODE_IMAGE\} AS build$/m);
  t.match(df, /^FROM \$\{NODE_IMAGE\} AS runtime$/m);
  t.match(df, /docker buildx imagetools inspect node:24-bookworm-slim/, "says how to bump the digest");
  t.match(df, /^USER 10001:10001$/m);
  t.match(df, /^EXPOSE 5061 8443 8444 9090$/m, "SIP, HTTPS, provisioning, admin");
  t.match(df, /^STOPSIGNAL SIGTERM$/m);
  // The health check reads admin.listen from the configuration, no hard-coded address.
  t.match(df, /^HEALTHCHECK .*\\\n\s+CMD \["node", "\/app\/dist\/src\/main\.js", "health"/m);
  t.notMatch(df, /127\.0\.0\.1:9090/);
  t.match(df, /^VOLUME \["\/var\/lib\/trunkgate"\]$/m);
  t.match(df, /^ENTRYPOINT \["node", "\/app\/dist\/src\/main\.js"\]$/m);
});

t.test("the built app runs as an unprivileged uid from a read-only tree", { skip: process.getuid?.() !== 0 && "needs root to switch uid" }, async (t) => {
  const pki = await makeTestPki();
  t.teardown(() => pki.cleanup());
  const app = join(pki.dir, "app");
  const etc = join(pki.dir, "etc");
  const data = join(pki.dir, "data");
  await mkdir(join(app, "certs"), { recursive: true });
  await cp(resolve("dist"), join(app, "dist"), { recursive: true });
  await copyFile("package.json", join(app, "package.json"));
  for (const f of ["digicert-global-root-g2.pem", "baltimore-cybertrust-root.pem"]) await copyFile(join("certs", f), join(app, "certs", f));
  await symlink(resolve("node_modules"), join(app, "node_modules"));
  await mkdir(etc);
  for (const [src, dst] of [
    [pki.serverEcdsa.certPath, "server.pem"],
    [pki.serverEcdsa.keyPath, "server.key"],
    [pki.upstreamClient.certPath, "client.pem"],
    [pki.upstreamClient.keyPath, "client.key"],
    [pki.ca.certPath, "ca.pem"],
  ]) {
    await copyFile(src!, join(etc, dst!));
    await chmod(join(etc, dst!), 0o444);
  }
  await writeFile(
    join(etc, "config.yaml"),
    stringify({
      tls: {
        certificates: [{ cert: join(etc, "server.pem"), key: join(etc, "server.key") }],
        clientCertificate: { cert: join(etc, "client.pem"), key: join(etc, "client.key") },
        trust: { extraRoots: [join(etc, "ca.pem")] },
      },
      peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] } }],
      sip: { listen: { host: "127.0.0.1", port: 0 } },
      http: { listen: { host: "127.0.0.1", port: 0 } },
      admin: { listen: { host: "127.0.0.1", port: 0 } },
      store: { url: `sqlite:${join(data, "trunkgate.db")}`, encryptionKeyFile: join(data, "trunkgate.key") },
    }),
  );
  await mkdir(data);
  await chown(data, UID, UID);
  // Read-only: nothing under the app or config tree is writable by anyone.
  for (const dir of [app, etc]) await chmod(dir, 0o555);
  await chmod(pki.dir, 0o755);

  // `env -u NODE_OPTIONS`: tap instruments spawned node processes through NODE_OPTIONS, and its hook
  // would write into the (for this uid) read-only project tree.
  const child = spawn("env", ["-u", "NODE_OPTIONS", "setpriv", `--reuid=${UID}`, `--regid=${UID}`, "--clear-groups", process.execPath, join(app, "dist/src/main.js"), "start"], {
    cwd: "/",
    env: { PATH: process.env.PATH, TRUNKGATE_CONFIG: join(etc, "config.yaml") },
    stdio: "pipe",
  });
  const done = collect(child, 20_000);
  const line = await waitForLine(child, (l) => l.includes('"trunkgate started"'));
  t.match(line, /"admin":"127\.0\.0\.1:\d+"/);
  child.kill("SIGTERM");
  const r = await done;
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stdout + r.stderr, /EACCES|EROFS|EPERM/);
});
