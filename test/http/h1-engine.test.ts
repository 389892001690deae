// HTTP/1.1 behaviour both engines must share beyond the smuggling set: pipelined requests answered
// in order on one connection, HEAD without a body, Expect: 100-continue, HTTP/1.0 keep-alive, and a
// response without Content-Length framed for the client.
import t from "tap";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { makeTestPki, startProxy, startUpstream, within } from "../helpers/http-harness.js";
import { firstResponse } from "./raw-probe.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const upstream = await startUpstream({
  handler: (req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url === "/stream") {
        // No Content-Length: the proxy must frame it (chunked toward an HTTP/1.1 client).
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("part1-");
        res.end("part2");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain", "content-length": String(req.url!.length) });
      res.end(req.method === "HEAD" ? undefined : req.url);
    });
  },
});
t.teardown(() => upstream.close());

function connect(port: number): Promise<TLSSocket> {
  const s = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, ALPNProtocols: ["http/1.1"] });
  s.on("error", () => undefined);
  return within(new Promise((resolve) => s.once("secureConnect", () => resolve(s))), 20_000, "connect");
}

/** Writes `text`, reads until `n` complete responses (or the close); returns them in order. */
async function exchange(port: number, text: string, n: number): Promise<{ heads: string[]; bodies: string[]; raw: string }> {
  const s = await connect(port);
  let got = "";
  const done = new Promise<void>((resolve) => {
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      let rest = got.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, "");
      let count = 0;
      for (let r = firstResponse(rest); r; r = firstResponse(rest)) {
        count++;
        rest = rest.slice(r.length);
      }
      if (count >= n) resolve();
    });
    s.once("close", () => resolve());
  });
  s.write(text);
  await within(done, 20_000, "responses").catch((e: Error) => {
    throw new Error(`${e.message}: ${JSON.stringify(got.slice(0, 600))}`);
  });
  s.destroy();
  const heads: string[] = [];
  const bodies: string[] = [];
  let rest = got.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, "");
  for (let r = firstResponse(rest); r; r = firstResponse(rest)) {
    const one = rest.slice(0, r.length);
    const i = one.indexOf("\r\n\r\n");
    heads.push(one.slice(0, i));
    bodies.push(one.slice(i + 4));
    rest = rest.slice(r.length);
  }
  return { heads, bodies, raw: got };
}

for (const engine of ["node", "lean"]) {
  t.test(`engine ${engine}`, async (t) => {
    const p = await startProxy({ pki, upstreamUrl: upstream.url, http: { engine } });
    t.teardown(() => p.close());
    const H = "Host: a.example\r\n";

    const piped = await exchange(p.port, `GET /one HTTP/1.1\r\n${H}\r\nPOST /two HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabcGET /three HTTP/1.1\r\n${H}\r\n`, 3);
    t.same(piped.bodies, ["/one", "/two", "/three"], "pipelined requests answered in order");

    // Read until the close: a HEAD answer has a Content-Length but no body.
    const headReq = await exchange(p.port, `HEAD /four HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, Infinity);
    t.match(headReq.raw, /content-length: 5/i, "HEAD keeps the upstream's Content-Length");
    t.ok(headReq.raw.endsWith("\r\n\r\n"), "HEAD has no body");

    const cont = await exchange(p.port, `POST /six HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 2\r\n\r\nok`, 1);
    t.match(cont.raw, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, "100 Continue, then the answer");

    const old = await exchange(p.port, `GET /seven HTTP/1.0\r\n${H}Connection: keep-alive\r\n\r\nGET /eight HTTP/1.0\r\n${H}\r\n`, 2);
    t.same(old.bodies, ["/seven", "/eight"], "HTTP/1.0 keep-alive serves a second request");
    t.match(old.heads[0], /\r\nconnection: keep-alive/i, "HTTP/1.0 keep-alive confirmed");

    const streamed = await exchange(p.port, `GET /stream HTTP/1.1\r\n${H}\r\n`, 1);
    t.match(streamed.heads[0], /\r\ntransfer-encoding: chunked/i, "chunked toward the client");
    t.match(streamed.bodies[0], /part1-.*part2/s, "whole body");
  });
}
