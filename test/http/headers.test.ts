import t from "tap";
import type { ConnectionInfo } from "../../src/http/connection-info.js";
import { downstreamResponseHeaders, upstreamRequestHeaders, type ForwardContext } from "../../src/http/headers.js";

const conn: ConnectionInfo = {
  peer: { name: "p1" } as ConnectionInfo["peer"],
  tlsVersion: "TLSv1.3",
  cipher: "TLS_AES_256_GCM_SHA384",
  remoteAddress: "2001:db8::1",
  clientCert: ":AA==:",
  clientCertChain: undefined,
  inFlight: 0,
  lastProgress: 0,
  session: undefined,
};
const ctx = (over: Partial<ForwardContext> = {}): ForwardContext => ({
  conn,
  requestId: "rid",
  host: { mode: "upstream", value: "up:80" },
  appendChain: true,
  maxHeaders: 100,
  maxHeaderBytes: 16384,
  ...over,
});
const asMap = (flat: string[]) => {
  const m = new Map<string, string[]>();
  for (let i = 0; i < flat.length; i += 2) m.set(flat[i]!, [...(m.get(flat[i]!) ?? []), flat[i + 1]!]);
  return m;
};

t.test("Connection cannot nominate Content-Length or trunkgate's own headers away", async (t) => {
  const r = upstreamRequestHeaders(["Host", "a.example", "Connection", "content-length, x-forwarded-for, x-a", "Content-Length", "5", "X-A", "1"], false, ctx());
  if (!r.ok) return t.fail(r.reason);
  const m = asMap(r.headers);
  t.same(m.get("content-length"), ["5"]);
  t.notOk(m.has("x-a"));
  t.same(m.get("x-forwarded-for"), ["2001:db8::1"]);
  t.same(m.get("forwarded"), ['for="[2001:db8::1]";host="a.example";proto=https'], "IPv6 quoted and bracketed");
});

t.test("HTTP/2: cookies joined, :authority is the host, a disagreeing Host is refused", async (t) => {
  const r = upstreamRequestHeaders([":method", "GET", ":authority", "a.example", ":path", "/", "cookie", "a=1", "cookie", "b=2"], true, ctx({ host: { mode: "preserve", value: "" } }));
  if (!r.ok) return t.fail(r.reason);
  const m = asMap(r.headers);
  t.same(m.get("cookie"), ["a=1; b=2"]);
  t.same(m.get("host"), ["a.example"]);
  const bad = upstreamRequestHeaders([":authority", "a.example", "host", "b.example"], true, ctx());
  t.same(bad, { ok: false, status: 400, reason: "host and :authority differ" });
});

t.test("replace mode drops the peer's chain; duplicates and bad hosts refused", async (t) => {
  const r = upstreamRequestHeaders(["Host", "a", "X-Forwarded-For", "1.2.3.4", "Forwarded", "for=1.2.3.4"], false, ctx({ appendChain: false }));
  if (!r.ok) return t.fail(r.reason);
  t.same(asMap(r.headers).get("x-forwarded-for"), ["2001:db8::1"]);
  t.match(upstreamRequestHeaders(["Host", "a", "Host", "b"], false, ctx()), { ok: false, status: 400 });
  t.match(upstreamRequestHeaders(["Host", 'a"b'], false, ctx()), { ok: false, status: 400 });
  t.match(upstreamRequestHeaders([], false, ctx()), { ok: false, status: 400 });
  t.match(upstreamRequestHeaders(["Host", "a", "Content-Length", "1", "Content-Length", "2"], false, ctx()), { ok: false, status: 400 });
});

t.test("response: hop-by-hop and Connection-named headers dropped, request id set", async (t) => {
  const out = downstreamResponseHeaders(
    { connection: "x-secret, keep-alive", "x-secret": "1", "transfer-encoding": "chunked", "set-cookie": ["a=1", "b=2"], "content-length": "3" },
    "rid",
    true,
  );
  t.same(out, { "set-cookie": ["a=1", "b=2"], "content-length": "3", "x-request-id": "rid", connection: "close" });
});
