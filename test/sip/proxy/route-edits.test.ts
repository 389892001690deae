// Forwarding edits compose (issue 10 item 2): popping our own Route entries, the route decision's
// removed and added headers and trunkgate's own header stripping all apply to one forwarded request.
import t from "tap";
import { sipRequest } from "../e2e/harness.js";
import { makeCore } from "./core-harness.js";
import type { SipRequest } from "../../../src/sip/parse/index.js";

const URI = "sip:+4930123456@127.0.0.1:5061";

t.test("two of our Route entries and a route decision that removes a header: Route = what followed ours", async (t) => {
  const h = makeCore({
    srtp: false,
    route: () => ({ service: "svc", removeHeaders: ["X-Context"], extraHeaders: [["X-Context", "provisioned"]] }),
  });
  h.fromTrunk(sipRequest({
    method: "MESSAGE",
    uri: URI,
    extra: [
      "Route: <sip:127.0.0.1:5061;transport=tls;lr>, <sip:127.0.0.1:5061;transport=tcp;lr>",
      "Route: <sip:next.example.net;lr>",
      "X-Context: forged",
    ],
  }));
  const fwd = h.up(0).takeOne() as SipRequest;
  t.same(fwd.getHeaders("route"), ["<sip:next.example.net;lr>"], "only the entry after ours is left, once");
  t.same(fwd.getHeaders("x-context"), ["provisioned"], "the sender's copy removed, the decision's added");
});
