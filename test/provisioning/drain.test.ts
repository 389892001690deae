// Graceful drain: a request in flight when drain starts still completes; drain resolves once it has.
import t from "tap";
import { request } from "node:https";
import { makeTestPki } from "../helpers/pki.js";
import { waitFor, within } from "../helpers/http-harness.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());

t.test("drain waits for the request in flight, then closes", async (t) => {
  const h = await startHarness(t, { pki });
  const tok = await h.token({ roles: [ROLES.write] });
  const req = request({
    host: "127.0.0.1",
    port: h.port,
    servername: "localhost",
    ca: pki.ca.cert,
    cert: pki.client.cert,
    key: pki.client.key,
    agent: false,
    method: "PUT",
    path: "/api/v1/numbers/%2B4930777",
    headers: { authorization: `Bearer ${tok}`, "content-type": "application/json", "transfer-encoding": "chunked" },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
  });
  req.write('{"service":');
  await waitFor(() => h.component.pipeline.active === 1, 5_000, "request in flight");
  let drained = false;
  const drain = h.component.drain(Date.now() + 10_000).then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  t.equal(drained, false, "drain waits while a request is in flight");
  t.equal(h.component.ready(), true, "still up until the request is done");
  req.end('"svc-a"}');
  const r = await within(response, 10_000, "response");
  t.equal(r.status, 201);
  await within(drain, 10_000, "drain");
  t.equal(h.component.ready(), false);
  t.same(await h.store.numbers.get("+4930777"), { number: "+4930777", service: "svc-a", customHeader: null });
});
