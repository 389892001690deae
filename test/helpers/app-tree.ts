// A read-only copy of the built app, laid out like the container image's /app, that another uid can
// read wherever the checkout is: the checkout may sit under a directory only its owner can enter (a
// 0700 `mktemp -d`, a home directory), so nothing in the tree may point back into it (no symlinks).
//
// Speed: files the world can already read are hard-linked (same filesystem: no bytes copied); the
// rest are copied and made world-readable. Only the production dependencies are taken (what
// `npm ci --omit=dev` would install, read from package-lock.json), about a third of node_modules.
import { existsSync } from "node:fs";
import { chmod, copyFile, link, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

/** The lock file's production packages (paths like node_modules/a or node_modules/a/node_modules/b). */
export async function productionPackages(lockPath = "package-lock.json"): Promise<string[]> {
  const lock = JSON.parse(await readFile(lockPath, "utf8")) as { packages: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith("node_modules/") && p.dev !== true)
    .map(([path]) => path);
}

/** Hard link when the world may read the file already, else a world-readable copy. */
async function placeFile(src: string, dst: string, mode: number): Promise<void> {
  if (mode & 0o004) {
    try {
      return await link(src, dst);
    } catch {
      // another filesystem (EXDEV) or links not allowed: copy instead
    }
  }
  await copyFile(src, dst);
  await chmod(dst, mode & 0o111 ? 0o555 : 0o444);
}

// What Node never loads at run time: type declarations and TypeScript sources, source maps, docs.
const NOT_LOADED = /\.(d\.[cm]?ts|[cm]?ts|map|md)$/;

/**
 * Copies the directory src to dst (created), all entries of a directory at once. Nested
 * `node_modules` folders are left out when skipNested: the lock file lists the ones production
 * needs on their own.
 */
async function copyTree(src: string, dst: string, skipNested: boolean): Promise<void> {
  await mkdir(dst, { recursive: true });
  await Promise.all(
    (await readdir(src, { withFileTypes: true })).map(async (e) => {
      const from = join(src, e.name);
      const to = join(dst, e.name);
      if (e.isDirectory()) {
        if (!(skipNested && e.name === "node_modules")) await copyTree(from, to, skipNested);
      } else if (e.isFile() && !(skipNested && NOT_LOADED.test(e.name))) {
        await placeFile(from, to, (await stat(from)).mode);
      }
      // Symlinks (node_modules/.bin and the like) are not followed: the app does not need them.
    }),
  );
}

/** Makes every directory of the tree 0555 (deepest first): nobody writes into it, whoever owns it. */
async function sealTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => sealTree(join(dir, e.name))));
  await chmod(dir, 0o555);
}

/**
 * Lays out <app>/dist, package.json, the bundled roots and the production node_modules from the
 * checkout in the current directory, then seals the tree read-only.
 */
export async function buildReadOnlyApp(app: string, bundledRoots: string[]): Promise<void> {
  // dist/src only: dist/test (the compiled tests) is no part of the app.
  await copyTree(resolve("dist/src"), join(app, "dist/src"), false);
  await mkdir(join(app, "certs"), { recursive: true });
  await placeFile(resolve("package.json"), join(app, "package.json"), (await stat("package.json")).mode);
  for (const f of bundledRoots) await placeFile(resolve("certs", f), join(app, "certs", f), (await stat(join("certs", f))).mode);
  // An optional package for another platform is in the lock file but not installed: skipped.
  const installed = (await productionPackages()).filter((pkg) => existsSync(resolve(pkg)));
  await Promise.all(installed.map((pkg) => copyTree(resolve(pkg), join(app, pkg), true)));
  await sealTree(app);
}

/**
 * The Node that runs the tests, placed at <root>/usr/local/bin/node (where the image's base has it)
 * and sealed read-only; returns its path. The project's own Node lives inside the checkout
 * (node_modules/node/…), which the image's uid may not be able to enter (a 0700 `mktemp -d`).
 * Hard-linked when possible (same filesystem: no 120 MB copy), else copied.
 */
export async function placeNodeBinary(root: string): Promise<string> {
  const bin = join(root, "usr/local/bin");
  await mkdir(bin, { recursive: true });
  const node = join(bin, "node");
  await placeFile(process.execPath, node, (await stat(process.execPath)).mode);
  for (let dir = bin; dir !== root; dir = dirname(dir)) await chmod(dir, 0o555);
  return node;
}
