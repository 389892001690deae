import t from "tap";
import { normaliseE164 } from "../../src/store/e164.js";

t.test("accepted notations normalise to +digits", async (t) => {
  const cases: [string, string][] = [
    ["+41446681800", "+41446681800"],
    [" +41 44 668 18 00 ", "+41446681800"],
    ["+1 (555) 123-4567", "+15551234567"],
    ["+49.30.1234567", "+49301234567"],
    ["tel:+41-44-668-1800", "+41446681800"],
    ["TEL:+41446681800;ext=12", "+41446681800"],
    ["sip:+41446681800@gw.example.com;user=phone", "+41446681800"],
    ["sips:+1-555-123-4567;isub=1@gw.example", "+15551234567"],
    ["+1", "+1"],
    ["+123456789012345", "+123456789012345"],
  ];
  for (const [input, e164] of cases) t.same(normaliseE164(input), { ok: true, e164 }, input);
});

t.test("rejected inputs say why, without echoing the number", async (t) => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["0446681800", /must start with '\+'/],
    ["0041446681800", /must start with '\+'/],
    ["+", /no digits/],
    ["+0446681800", /cannot start with 0/],
    ["+1234567890123456", /more than 15 digits/],
    ["+41 44 668 18 00 x12", /position 18/],
    ["+41446681800abc", /not a digit/],
    ["sip:gw.example.com", /no user part/],
    ["sip:@gw.example.com", /no user part/],
    ["sip:alice@example.com", /must start with '\+'/],
    ["+".padEnd(200, "1"), /longer than/],
  ];
  for (const [input, reason] of cases) {
    const r = normaliseE164(input);
    t.equal(r.ok, false, input.slice(0, 30));
    if (!r.ok) {
      t.match(r.reason, reason);
      t.notMatch(r.reason, /4466|1234/, "reason does not contain the digits");
    }
  }
});
