// HEP version 3 (the Homer encapsulation protocol, as Homer/heplify collectors read it): a "HEP3"
// header with the total length, then chunks of vendor id (0 = generic), type, length (header
// included) and value, all big-endian. Only the generic chunks a SIP capture needs are written.
// Pure: bytes in, bytes out; sending is exporter.ts's business.
import { isIPv4, isIPv6 } from "node:net";

export const HEP3_MAGIC = "HEP3";
/** Generic chunk types (vendor 0). */
export const enum HepChunk {
  IpFamily = 1,
  IpProtocol = 2,
  Ipv4Source = 3,
  Ipv4Destination = 4,
  Ipv6Source = 5,
  Ipv6Destination = 6,
  SourcePort = 7,
  DestinationPort = 8,
  TimestampSeconds = 9,
  TimestampMicros = 10,
  ProtocolType = 11,
  CaptureId = 12,
  Payload = 15,
  CorrelationId = 17,
}
export const HEP_FAMILY_IPV4 = 2;
export const HEP_FAMILY_IPV6 = 10;
export const HEP_PROTO_TCP = 6;
export const HEP_TYPE_SIP = 1;
/** The header's length field is 16 bits: a packet never exceeds this. */
export const HEP3_MAX_BYTES = 0xffff;

export interface HepCapture {
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
  /** Capture time in microseconds since the epoch. */
  timestampMicros: number;
  captureId: number;
  /** The SIP Call-ID (Homer groups a call's messages by it). */
  correlationId: string;
  payload: Buffer;
}

/** "::ffff:a.b.c.d" is an IPv4 client on a dual-stack socket: written as IPv4. */
function plainAddress(addr: string): string {
  return addr.startsWith("::ffff:") && isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
}

function ipv4Bytes(addr: string): Buffer {
  return Buffer.from(addr.split(".").map(Number));
}

function ipv6Bytes(addr: string): Buffer {
  const [head = "", tail] = addr.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(Number.parseInt(all[i]!, 16) || 0, i * 2);
  return out;
}

/** The HEP3 packet for one captured SIP message; undefined when it would exceed 64 KiB or an address is not IP. */
export function encodeHep3(c: HepCapture): Buffer | undefined {
  const src = plainAddress(c.sourceAddress);
  const dst = plainAddress(c.destinationAddress);
  const v4 = isIPv4(src) && isIPv4(dst);
  if (!v4 && !(isIPv6(src) && isIPv6(dst))) return undefined;
  const addrLen = v4 ? 4 : 16;
  const correlation = Buffer.from(c.correlationId, "latin1");
  // header 6; family, protocol, type: 7 each; 2 addresses; 2 ports: 8 each; seconds, micros, capture id: 10 each.
  const total = 6 + 7 * 3 + (6 + addrLen) * 2 + 8 * 2 + 10 * 3 + 6 + correlation.length + 6 + c.payload.length;
  if (total > HEP3_MAX_BYTES) return undefined;
  const b = Buffer.allocUnsafe(total);
  b.write(HEP3_MAGIC, 0, "latin1");
  b.writeUInt16BE(total, 4);
  let o = 6;
  const head = (type: HepChunk, len: number) => {
    b.writeUInt16BE(0, o);
    b.writeUInt16BE(type, o + 2);
    b.writeUInt16BE(6 + len, o + 4);
    o += 6;
  };
  const u8 = (type: HepChunk, v: number) => {
    head(type, 1);
    b.writeUInt8(v, o++);
  };
  const u16 = (type: HepChunk, v: number) => {
    head(type, 2);
    b.writeUInt16BE(v, o);
    o += 2;
  };
  const u32 = (type: HepChunk, v: number) => {
    head(type, 4);
    b.writeUInt32BE(v >>> 0, o);
    o += 4;
  };
  const bytes = (type: HepChunk, v: Buffer) => {
    head(type, v.length);
    v.copy(b, o);
    o += v.length;
  };
  u8(HepChunk.IpFamily, v4 ? HEP_FAMILY_IPV4 : HEP_FAMILY_IPV6);
  u8(HepChunk.IpProtocol, HEP_PROTO_TCP);
  bytes(v4 ? HepChunk.Ipv4Source : HepChunk.Ipv6Source, v4 ? ipv4Bytes(src) : ipv6Bytes(src));
  bytes(v4 ? HepChunk.Ipv4Destination : HepChunk.Ipv6Destination, v4 ? ipv4Bytes(dst) : ipv6Bytes(dst));
  u16(HepChunk.SourcePort, c.sourcePort);
  u16(HepChunk.DestinationPort, c.destinationPort);
  u32(HepChunk.TimestampSeconds, Math.floor(c.timestampMicros / 1e6));
  u32(HepChunk.TimestampMicros, c.timestampMicros % 1e6);
  u8(HepChunk.ProtocolType, HEP_TYPE_SIP);
  u32(HepChunk.CaptureId, c.captureId);
  bytes(HepChunk.CorrelationId, correlation);
  bytes(HepChunk.Payload, c.payload);
  return b;
}
