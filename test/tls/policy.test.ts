import t from "tap";
import { cipherString, TLS12_CIPHERS, TLS13_SUITES } from "../../src/tls/policy.js";

t.test("cipher string names the TLS 1.3 suites first, then exactly the 8 TLS 1.2 ciphers", async (t) => {
  const parts = cipherString().split(":");
  t.same(parts.slice(0, 2), [...TLS13_SUITES]);
  t.same(parts.slice(2), [...TLS12_CIPHERS]);
  t.notOk(parts.some((p) => /CHACHA/.test(p)));
});
