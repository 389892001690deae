// Mutation fuzzing of the corpus (seeded, bounded): the parser never throws and answers every
// mutant (a message or a reason to refuse it); the framer never throws and a valid stream split
// anywhere keeps sync. No wall-clock bound: how fast the parser is belongs to the benchmark, and a
// time limit here only measures how busy the machine is.
import t from "tap";
import { parseMessage } from "../../../src/sip/parse/index.js";
import { SipStreamFramer } from "../../../src/sip/transport/framing.js";
import { prng } from "../../helpers/prng.js";
import { INVALID, VALID } from "./corpus.js";

const INTERESTING = Buffer.from(" \t\r\n:;,<>\"\\@=%[]?/0z\xff", "latin1");

function mutate(src: Buffer, r: () => number): Buffer {
  const b = Buffer.from(src);
  const op = Math.floor(r() * 4);
  const at = Math.floor(r() * b.length);
  if (op === 0) return b.subarray(0, at); // truncation
  if (op === 1) {
    for (let k = 0; k < 1 + Math.floor(r() * 4); k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256); // byte flips
    return b;
  }
  const ins = Buffer.alloc(1 + Math.floor(r() * 8));
  for (let k = 0; k < ins.length; k++) ins[k] = r() < 0.7 ? INTERESTING[Math.floor(r() * INTERESTING.length)]! : Math.floor(r() * 256);
  if (op === 2) return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]); // insertion
  return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + ins.length))]); // deletion
}

const SEEDS = Buffer.from([...VALID, ...INVALID].map((e) => e.text).join("\u0000"), "utf8");
const CORPUS = [...VALID, ...INVALID].map((e) => Buffer.from(e.text, "utf8"));
const ITERATIONS = 20_000;

t.test("parser: mutated messages never throw and always get an answer", async (t) => {
  const r = prng(0x5eed);
  let accepted = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const m = mutate(CORPUS[i % CORPUS.length]!, r);
    const res = parseMessage(m); // parseMessage has a catch-all; check it is never needed below
    if (res.ok) accepted++;
    else if (res.reason === "Bad Request" || !(res.status >= 400 && res.status < 600) || res.reason === "") {
      t.fail(`no proper answer (${res.status} ${JSON.stringify(res.reason)}) on mutation ${i}: ${JSON.stringify(m.toString("latin1"))}`);
      return;
    }
  }
  t.ok(accepted > 0 && accepted < ITERATIONS, `${accepted} of ${ITERATIONS} mutants accepted`);
  t.ok(SEEDS.length > 0);
});

t.test("framer: random garbage never throws; valid stream keeps sync at every 3-way split", async (t) => {
  const r = prng(42);
  for (let i = 0; i < 2000; i++) {
    const f = new SipStreamFramer({ maxMessageBytes: 4096 });
    const m = mutate(CORPUS[i % CORPUS.length]!, r);
    let pos = 0;
    while (pos < m.length) {
      const n = 1 + Math.floor(r() * 200);
      f.push(m.subarray(pos, pos + n));
      pos += n;
    }
  }
  // Valid input: all valid corpus messages carry Content-Length; random chunkings must yield them all.
  const valid = VALID.map((e) => e.text);
  const stream = Buffer.from(valid.join("\r\n\r\n"), "utf8");
  for (let trial = 0; trial < 300; trial++) {
    const f = new SipStreamFramer();
    const got: string[] = [];
    let pings = 0;
    let pos = 0;
    while (pos < stream.length) {
      const n = 1 + Math.floor(r() * 64);
      for (const ev of f.push(stream.subarray(pos, pos + n))) {
        if (ev.type === "message") got.push(ev.message.toString("utf8"));
        else if (ev.type === "ping") pings++;
        else t.fail(`framing error ${ev.error.code}`);
      }
      pos += n;
    }
    if (got.length !== valid.length || got.some((g, k) => g !== valid[k]) || pings !== valid.length - 1) {
      t.fail(`lost sync on trial ${trial}`);
      return;
    }
  }
  t.pass("300 random chunkings framed identically");
});
