// The provisioning API's error boundary: an unexpected exception in a handler is answered 500 in
// the API's JSON shape, counted in trunkgate_internal_errors_total{component="provisioning"}, and
// the next request is served.
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { metricValue } from "../helpers/http-harness.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, { pki });

t.test("a handler throwing: 500, counted, no message in the log, next request served", async (t) => {
  const token = await h.token({ roles: [ROLES.admin] });
  const numbers = h.store.numbers as unknown as { count: () => Promise<number> };
  const original = numbers.count;
  numbers.count = () => Promise.reject(new TypeError("injected failure quoting +4930123456"));
  t.teardown(() => void (numbers.count = original));

  const r = await h.request("GET", "/api/v1/services", { token });
  t.equal(r.status, 500);
  t.equal(r.json.error, "internal_error");
  t.equal(await metricValue(h.metrics, "trunkgate_internal_errors_total", { component: "provisioning" }), 1, "counted");
  t.notMatch(h.logs.text, /4930123456/, "the error's message is not logged");

  numbers.count = original;
  t.equal((await h.request("GET", "/api/v1/services", { token })).status, 200, "the next request is served");
});
