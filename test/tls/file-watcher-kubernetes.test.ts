// A Kubernetes Secret volume updates by swapping symlinks: tls.crt → ..data/tls.crt, and ..data is
// replaced atomically by renaming a new ..data_tmp link over it (the old files stay in the old
// timestamped directory until they are removed). The watcher sees that swap and reports a change.
import t from "tap";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileChangeWatcher } from "../../src/tls/file-watcher.js";

t.test("a Secret-style ..data symlink swap triggers a reload", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "trunkgate-secret-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const version = (name: string, content: string) => {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "tls.crt"), content);
  };
  version("..2026_12_01_00_00_00.1", "first");
  symlinkSync("..2026_12_01_00_00_00.1", join(dir, "..data"));
  symlinkSync("..data/tls.crt", join(dir, "tls.crt"));

  let changes = 0;
  let notify: () => void = () => undefined;
  const watcher = new FileChangeWatcher(() => [join(dir, "tls.crt")], () => {
    changes++;
    notify();
  }, 50);
  watcher.start();
  t.teardown(() => watcher.stop());

  // The watcher holds no reference on the event loop (it must not keep a stopping process alive):
  // this bounded timer does, while the test waits.
  let timer: NodeJS.Timeout | undefined;
  const changed = new Promise<void>((resolve, reject) => {
    notify = resolve;
    timer = setTimeout(() => reject(new Error("no change reported within 30 s")), 30_000);
  }).finally(() => clearTimeout(timer));
  // What the kubelet does: new version directory, new link, atomic rename over ..data.
  version("..2026_12_02_00_00_00.2", "second");
  symlinkSync("..2026_12_02_00_00_00.2", join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  await changed;
  t.equal(changes, 1);
});
