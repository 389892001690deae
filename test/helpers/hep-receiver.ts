// A HEP3 collector for tests: a UDP socket on an ephemeral port that decodes every packet into its
// generic chunks, written from the HEP3 layout (header "HEP3" + total length, then chunks of
// vendor id, type, length including the 6-byte chunk header, value), independent of the encoder.
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { patience } from "./time.js";

export interface HepPacket {
  version: string;
  family: number;
  protocol: number;
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
  seconds: number;
  micros: number;
  protocolType: number;
  captureId: number;
  correlationId: string;
  payload: string;
  /** Every chunk type present, in order. */
  chunkTypes: number[];
}

function address(b: Buffer): string {
  if (b.length === 4) return [...b].join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(":");
}

export function decodeHep3(buf: Buffer): HepPacket {
  const version = buf.toString("latin1", 0, 4);
  if (version !== "HEP3") throw new Error(`not HEP3: ${version}`);
  if (buf.readUInt16BE(4) !== buf.length) throw new Error(`length field ${buf.readUInt16BE(4)} != datagram ${buf.length}`);
  const p: Partial<HepPacket> & { chunkTypes: number[] } = { version, chunkTypes: [] };
  let o = 6;
  while (o < buf.length) {
    const vendor = buf.readUInt16BE(o);
    const type = buf.readUInt16BE(o + 2);
    const len = buf.readUInt16BE(o + 4);
    if (len < 6 || o + len > buf.length) throw new Error(`bad chunk length ${len} at ${o}`);
    const v = buf.subarray(o + 6, o + len);
    o += len;
    if (vendor !== 0) continue;
    p.chunkTypes.push(type);
    switch (type) {
      case 1: p.family = v[0]; break;
      case 2: p.protocol = v[0]; break;
      case 3: case 5: p.source = address(v); break;
      case 4: case 6: p.destination = address(v); break;
      case 7: p.sourcePort = v.readUInt16BE(0); break;
      case 8: p.destinationPort = v.readUInt16BE(0); break;
      case 9: p.seconds = v.readUInt32BE(0); break;
      case 10: p.micros = v.readUInt32BE(0); break;
      case 11: p.protocolType = v[0]; break;
      case 12: p.captureId = v.readUInt32BE(0); break;
      case 15: p.payload = v.toString("latin1"); break;
      case 17: p.correlationId = v.toString("latin1"); break;
    }
  }
  return p as HepPacket;
}

export interface HepReceiver {
  port: number;
  packets: HepPacket[];
  /** Resolves once `pred` holds for the packets received (bounded; checked on each packet). */
  waitFor(pred: (packets: HepPacket[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHepReceiver(): Promise<HepReceiver> {
  const socket = createSocket("udp4");
  const packets: HepPacket[] = [];
  let waiters: (() => void)[] = [];
  socket.on("message", (msg) => {
    packets.push(decodeHep3(msg));
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  return {
    port: socket.address().port,
    packets,
    async waitFor(pred, timeoutMs = 10_000) {
      const end = Date.now() + patience(timeoutMs);
      while (!pred(packets)) {
        const left = end - Date.now();
        if (left <= 0) throw new Error(`HEP packets: condition not met within ${patience(timeoutMs)} ms (${packets.length} received)`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
