// Accounts end to end through the real App (store, number routing, provisioning API, SIP over
// mutual TLS): an INVITE to a number that has no service of its own goes to its account's default
// service with the account's header; after PATCHing the account's defaults through the API the
// next INVITE goes to the new service with the new header. No explicit cache refresh: the API's
// write reaches the routing cache before it answers, as a number's change does.
import t from "tap";
import { join } from "node:path";
import type { SipRequest, SipResponse } from "../../src/sip/parse/index.js";
import { startEdge } from "../helpers/edge.js";
import { h1request } from "../helpers/http-harness.js";
import { RTP_SDP, sipRequest, testPki, TrunkClient } from "../sip/e2e/harness.js";
import { startNodeUas } from "../sip/e2e/node-uas.js";
import { AUDIENCE, ISSUER, signingKey, signToken, writeJwks } from "../provisioning/harness.js";

const CALLED = "+4930123456";
const HEADER = "X-Trunkgate-Number-Context";

/** The final response to the INVITE (provisional ones skipped). */
async function final(c: TrunkClient): Promise<SipResponse> {
  for (;;) {
    const m = await c.next(10_000);
    if (typeof m === "object" && m.kind === "response" && m.cseq.method === "INVITE" && m.status >= 200) return m;
  }
}

t.test("a number inheriting its account's service and header routes by them, and follows a PATCH of the account", async (t) => {
  const pki = await testPki();
  const key = await signingKey("k1");
  const jwksFile = join(pki.dir, "jwks-accounts.json");
  writeJwks(jwksFile, [key]);
  const admin = await signToken(key, { roles: ["Provisioning.Admin"] });
  // Both services answer INVITEs with 486: no dialog to tear down, only where each INVITE went.
  const uasA = await startNodeUas();
  const uasB = await startNodeUas();
  t.teardown(async () => {
    await uasA.close();
    await uasB.close();
  });
  const edge = await startEdge(pki, {
    config: {
      sip: {
        media: { srtpPolicy: "off" },
        numberRouting: { unknownNumber: "reject" }, // a lookup miss must not pass for the default route
        upstreams: [
          { name: "svc-a", targets: [{ host: "127.0.0.1", port: uasA.port, transport: "tcp" }], healthCheck: { enabled: false } },
          { name: "svc-b", targets: [{ host: "127.0.0.1", port: uasB.port, transport: "tcp" }], healthCheck: { enabled: false } },
        ],
      },
      provisioning: { enabled: true, auth: { jwksFile, issuer: ISSUER, audience: AUDIENCE } },
    },
  });
  t.teardown(() => edge.stop());
  const api = async (method: string, path: string, body: unknown) => {
    const data = Buffer.from(JSON.stringify(body));
    const type = method === "PATCH" ? "application/merge-patch+json" : "application/json";
    const r = await h1request(pki, edge.port("provisioning"), { method, path, headers: { authorization: `Bearer ${admin}`, "content-type": type, "content-length": String(data.length) }, body: data });
    return { status: r.status, json: JSON.parse(r.body.toString()) };
  };

  const acct = await api("PUT", "/api/v1/accounts/acme", { service: "svc-a", customHeader: "ctx-acme-1" });
  t.equal(acct.status, 201, JSON.stringify(acct.json));
  const num = await api("PUT", `/api/v1/numbers/${encodeURIComponent(CALLED)}`, { account: "acme" });
  t.equal(num.status, 201, JSON.stringify(num.json));
  t.equal(num.json.service, null, "no service of its own");

  const trunk = await TrunkClient.connect(edge.port("sip"), pki.client, pki);
  t.teardown(() => trunk.close());
  const invite = async (callId: string): Promise<SipResponse> => {
    trunk.send(sipRequest({ method: "INVITE", uri: `sip:${CALLED}@127.0.0.1`, callId, fromTag: `f-${callId}`, body: RTP_SDP }));
    return final(trunk);
  };
  const isInvite = (callId: string) => (r: SipRequest) => r.method === "INVITE" && r.callId === callId;

  t.equal((await invite("acct-1")).status, 486, "answered by the service it was routed to");
  const first = await uasA.waitFor(isInvite("acct-1"));
  t.equal(first.req.getHeader(HEADER), "ctx-acme-1", "the account's header value");

  const patched = await api("PATCH", "/api/v1/accounts/acme", { service: "svc-b", customHeader: "ctx-acme-2" });
  t.equal(patched.status, 200, JSON.stringify(patched.json));
  t.equal((await invite("acct-2")).status, 486);
  const second = await uasB.waitFor(isInvite("acct-2"));
  t.equal(second.req.getHeader(HEADER), "ctx-acme-2", "the account's new header value");
  t.notOk(uasA.requests.some((r) => r.req.callId === "acct-2"), "the old service did not get it");

  // The number's own service overrides the account's default; the header is still inherited.
  t.equal((await api("PATCH", `/api/v1/numbers/${encodeURIComponent(CALLED)}`, { service: "svc-a" })).status, 200);
  t.equal((await invite("acct-3")).status, 486);
  t.equal((await uasA.waitFor(isInvite("acct-3"))).req.getHeader(HEADER), "ctx-acme-2");
  t.notOk(edge.logs.some((l) => l.includes("ctx-acme") || l.includes("4930123456")), "no number or header value logged");
});
