import t from "tap";
import { statSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import { Keyring, DecryptError, KeyringError } from "../../src/store/crypto/keyring.js";
import { createKeyFile, ensureKeyFile, keyringFromEnv, loadKeyring, parseKeyring, serializeKeyring } from "../../src/store/crypto/key-file.js";
import { tempDir } from "./backends.js";

t.test("AES-GCM round trip; ciphertext names its key and hides the value", async (t) => {
  const k = Keyring.generate();
  const ct = k.encrypt("+41446681800", "numbers.number_enc:abc");
  t.match(ct, /^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  t.notMatch(ct, /4144/);
  t.equal(Keyring.keyIdOf(ct), "k1");
  t.equal(k.decrypt(ct, "numbers.number_enc:abc"), "+41446681800");
  t.not(k.encrypt("+41446681800", "p"), k.encrypt("+41446681800", "p"), "random IV: equal values encrypt differently");
});

t.test("associated data binds a ciphertext to its column and row", async (t) => {
  const k = Keyring.generate();
  const ct = k.encrypt("tenant=a", "numbers.custom_header_enc:row1");
  t.throws(() => k.decrypt(ct, "numbers.custom_header_enc:row2"), DecryptError, "other row");
  t.throws(() => k.decrypt(ct, "numbers.number_enc:row1"), DecryptError, "other column");
  const parts = ct.split(".");
  const body = Buffer.from(parts[3]!, "base64url");
  body[0]! ^= 1;
  t.throws(() => k.decrypt([parts[0], parts[1], parts[2], body.toString("base64url")].join("."), "numbers.custom_header_enc:row1"), DecryptError, "tampered");
  t.throws(() => Keyring.generate().decrypt(ct, "numbers.custom_header_enc:row1"), DecryptError, "other keyring");
});

t.test("keys held as KeyObjects: blind indexes and ciphertexts are those of the raw key bytes (stored indexes and values stay valid)", async (t) => {
  const key = randomBytes(32);
  const indexKey = randomBytes(32);
  const k = new Keyring({ active: "k1", keys: { k1: key }, indexKey });
  const reference = createHmac("sha256", indexKey).update("number").update("\0").update("+41446681800").digest("base64url");
  t.equal(k.blindIndex("number", "+41446681800"), reference, "HMAC under the index key's bytes, domain, NUL, value");
  // A value encrypted with the raw key bytes (as a build with Buffer keys wrote it) decrypts.
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from("trunkgate-store:v1:k1:numbers.number_enc:abc"));
  const body = Buffer.concat([c.update("+41446681800", "utf8"), c.final(), c.getAuthTag()]);
  t.equal(k.decrypt(`v1.k1.${iv.toString("base64url")}.${body.toString("base64url")}`, "numbers.number_enc:abc"), "+41446681800");
});

t.test("rotation keeps old keys for decryption and the index key stable", async (t) => {
  const k1 = Keyring.generate();
  const old = k1.encrypt("x", "p");
  const k2 = k1.withNewActiveKey();
  t.equal(k2.active, "k2");
  t.same(k2.keyIds().sort(), ["k1", "k2"]);
  t.equal(k2.decrypt(old, "p"), "x");
  t.match(k2.encrypt("x", "p"), /^v1\.k2\./);
  t.equal(k2.blindIndex("number", "+1555"), k1.blindIndex("number", "+1555"));
  t.not(k1.blindIndex("number", "+1555"), k1.blindIndex("call-id", "+1555"), "domains separate");
  const pruned = k2.without(["k1", "k2"]);
  t.same(pruned.keyIds(), ["k2"], "the active key is never removed");
  t.throws(() => pruned.decrypt(old, "p"), /unknown key id "k1"/);
});

t.test("key file: init creates 0600 and refuses to overwrite; ensureKeyFile creates once", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "sub", "store.key");
  const k = createKeyFile(path);
  t.equal(statSync(path).mode & 0o777, 0o600);
  const text = readFileSync(path, "utf8");
  t.same(parseKeyring(text, path).keyIds(), k.keyIds());
  t.throws(() => createKeyFile(path), /already exists/);
  t.equal(readFileSync(path, "utf8"), text, "unchanged after refusal");
  createKeyFile(path, { force: true });
  t.not(readFileSync(path, "utf8"), text, "--force replaces");
  t.equal(statSync(path).mode & 0o777, 0o600);
  const p2 = join(dir, "first-run.key");
  t.same(ensureKeyFile(p2), { created: true });
  const first = readFileSync(p2, "utf8");
  t.same(ensureKeyFile(p2), { created: false });
  t.equal(readFileSync(p2, "utf8"), first);
  t.equal(loadKeyring(p2, {}).source, "file");
  chmodSync(p2, 0o644);
  t.throws(() => loadKeyring(p2, {}), new RegExp(`store\\.encryptionKeyFile: ${p2} has mode 644: other users could read`));
  t.throws(() => loadKeyring(p2, {}, { allowGroupReadable: true }), /mode 644/, "others: refused even with the override");
  chmodSync(p2, 0o640);
  t.throws(() => loadKeyring(p2, {}), /mode 640.*store\.allowGroupReadableKeyFile: true/);
  t.equal(loadKeyring(p2, {}, { allowGroupReadable: true }).source, "file", "group-readable with the override");
  chmodSync(p2, 0o660);
  t.throws(() => loadKeyring(p2, {}, { allowGroupReadable: true }), /mode 660/, "group-writable: refused even with the override");
  chmodSync(p2, 0o400);
  t.equal(loadKeyring(p2, {}).source, "file", "0400 is fine");
});

t.test("key file errors name the key", async (t) => {
  const good = JSON.parse(serializeKeyring(Keyring.generate())) as Record<string, unknown>;
  t.throws(() => parseKeyring("{", "f"), /f: not valid JSON/);
  t.throws(() => parseKeyring(JSON.stringify({ ...good, active: "k9" }), "f"), /active: no key "k9"/);
  t.throws(() => parseKeyring(JSON.stringify({ ...good, indexKey: "c2hvcnQ=" }), "f"), /indexKey: expected base64 of 32 bytes/);
  t.throws(() => parseKeyring(JSON.stringify({ ...good, keys: { k1: "!!" } }), "f"), /keys\.k1/);
  t.throws(() => parseKeyring(JSON.stringify({ ...good, extra: 1 }), "f"), /extra: unknown key/);
  const dir = tempDir(t);
  t.throws(() => loadKeyring(join(dir, "missing.key"), {}), KeyringError);
  t.throws(() => loadKeyring(join(dir, "missing.key"), {}), /store\.encryptionKeyFile: cannot read .*ENOENT/);
});

t.test("TRUNKGATE_STORE_KEY: keyring JSON or one master key, taking precedence over the file", async (t) => {
  const k = Keyring.generate();
  const fromJson = keyringFromEnv(Buffer.from(serializeKeyring(k)).toString("base64"));
  t.equal(fromJson.fingerprint(), k.fingerprint());
  const master = randomBytes(32).toString("base64");
  const a = keyringFromEnv(master);
  const b = keyringFromEnv(master);
  t.equal(a.blindIndex("number", "+1"), b.blindIndex("number", "+1"), "derivation is deterministic");
  t.equal(b.decrypt(a.encrypt("v", "p"), "p"), "v");
  t.throws(() => keyringFromEnv("not base64 !"), /TRUNKGATE_STORE_KEY: not base64/);
  const dir = tempDir(t);
  const path = join(dir, "k.key");
  writeFileSync(path, "garbage", { mode: 0o600 });
  const loaded = loadKeyring(path, { TRUNKGATE_STORE_KEY: master });
  t.equal(loaded.source, "env");
});
