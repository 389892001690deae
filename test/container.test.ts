// What can be checked of the container here (no Docker engine on these machines): the image's
// command, run as an unprivileged uid from a read-only copy of the built app, with only the data
// directory writable — as the Dockerfile's runtime stage arranges it.
import t from "tap";
import { spawn } from "node:child_process";
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { makeTestPki } from "./helpers/pki.js";
import { collect, waitForLine } from "./helpers/cli.js";
import { buildReadOnlyApp, placeNodeBinary } from "./helpers/app-tree.js";
import { closedAncestor } from "./helpers/reachable.js";
import { bound } from "./helpers/time.js";

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

// The image's runtime user (Dockerfile: USER 10001:10001). It has no passwd entry and no group:
// it can read only what the world may read, and write only what it owns.
const UID = 10001;
const BUNDLED_ROOTS = ["digicert-global-root-g2.pem", "baltimore-cybertrust-root.pem"];

t.test("the built app runs as an unprivileged uid from a read-only tree", { skip: process.getuid?.() !== 0 && "needs root to switch uid" }, async (t) => {
  const pki = await makeTestPki();
  t.teardown(() => pki.cleanup());
  // A tree of its own under the temporary directory, not under the checkout: the checkout may sit
  // where the uid cannot enter (a 0700 `mktemp -d`, a home directory), and nothing in the tree
  // points back into it.
  const root = await mkdtemp(join(tmpdir(), "trunkgate-image-"));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await chmod(root, 0o755);
  const closed = await closedAncestor(root);
  if (closed) return t.fail(`uid ${UID} cannot enter ${closed} on the way to ${root}: point TMPDIR at a directory others can enter`);
  const app = join(root, "app");
  const etc = join(root, "etc");
  const data = join(root, "data");
  await buildReadOnlyApp(app, BUNDLED_ROOTS);
  // The image's Node sits outside /app, read-only, reachable by the uid: so here too (the checkout's
  // own Node may sit where the uid cannot enter).
  const node = await placeNodeBinary(root);
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
    { mode: 0o444 },
  );
  await chmod(etc, 0o555);
  await mkdir(data);
  await chown(data, UID, UID);

  // `env -u NODE_OPTIONS`: tap instruments spawned node processes through NODE_OPTIONS, and its hook
  // would load from (and write into) the checkout, which this uid may not even enter.
  // `sh -c 'exec "$@"'`: setpriv execs its command while it still holds root's capabilities (they
  // drop at that exec), so it can start a binary the uid itself cannot reach; the image starts node
  // as the uid from the start. The shell runs as the uid and execs node (same pid: SIGTERM reaches it).
  const asUid = ["setpriv", `--reuid=${UID}`, `--regid=${UID}`, "--clear-groups", "/bin/sh", "-c", 'exec "$@"', "sh"];
  const child = spawn("env", ["-u", "NODE_OPTIONS", ...asUid, node, join(app, "dist/src/main.js"), "start"], {
    cwd: "/",
    env: { PATH: process.env.PATH, TRUNKGATE_CONFIG: join(etc, "config.yaml") },
    stdio: "pipe",
  });
  const done = collect(child, bound(60_000));
  const line = await waitForLine(child, (l) => l.includes('"trunkgate started"'), bound(60_000));
  t.match(line, /"admin":"127\.0\.0\.1:\d+"/);
  child.kill("SIGTERM");
  const r = await done;
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stdout + r.stderr, /EACCES|EROFS|EPERM/);
  // It wrote where it may: the store and its key in the data directory, owned by the uid.
  for (const f of ["trunkgate.db", "trunkgate.key"]) t.equal((await stat(join(data, f))).uid, UID, `${f} written by uid ${UID}`);
});
