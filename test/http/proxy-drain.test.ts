import t from "tap";
import type { ServerResponse } from "node:http";
import { h1request, h2request, h2session, holdingHandler, makeTestPki, startProxy, startUpstream, waitFor, within } from "../helpers/http-harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());

t.test("drain: in-flight requests finish (HTTP/1.1 Connection: close, HTTP/2 GOAWAY), new connections refused", async (t) => {
  const held: ServerResponse[] = [];
  const up = await startUpstream({
    handler: holdingHandler(held),
  });
  t.teardown(() => up.close());
  const p = await startProxy({ pki, upstreamUrl: up.url });
  const sess = await h2session(pki, p.port);
  let goaway = false;
  sess.on("goaway", () => (goaway = true));
  const r1 = h1request(pki, p.port, { path: "/h1" });
  const r2 = h2request(sess, { ":path": "/h2" });
  await waitFor(() => held.length === 2, 5_000, "both requests upstream");
  t.equal(p.proxy.activeRequests(), 2);
  const drained = p.proxy.drain(10_000);
  await waitFor(() => goaway, 5_000, "GOAWAY on the HTTP/2 connection");
  await t.rejects(within(h1request(pki, p.port, { path: "/new" }), 5_000, "new"), "new connections refused while draining");
  for (const res of held) res.end("finished");
  const [a, b] = await Promise.all([r1, r2]);
  t.equal(a.status, 200);
  t.equal(a.body.toString(), "finished");
  t.equal(a.headers.connection, "close", "HTTP/1.1 told to close");
  t.equal(b.status, 200);
  t.equal(b.body.toString(), "finished");
  await within(drained, 10_000, "drain");
  t.equal(p.proxy.activeRequests(), 0);
  t.equal(p.proxy.listener.connections, 0, "every connection closed");
});

t.test("drain deadline: what is still in flight is cut", async (t) => {
  const up = await startUpstream({ handler: (req) => void req.resume() });
  t.teardown(() => up.close());
  const p = await startProxy({ pki, upstreamUrl: up.url });
  const r = h1request(pki, p.port, { path: "/forever" }).then(
    () => "answered",
    (e: Error) => e,
  );
  await waitFor(() => up.seen.length === 1, 5_000, "request upstream");
  // The upstream never answers: drain(200) returning at all means the deadline cut the request.
  await within(p.proxy.drain(200), 5_000, "drain by the deadline");
  t.type(await within(r, 5_000, "client"), Error, "the client's request was cut");
  t.equal(p.proxy.activeRequests(), 0);
});
