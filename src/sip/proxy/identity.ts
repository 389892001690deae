// Who "we" are in SIP terms: the host names/addresses and port that put a URI or a Via on
// trunkgate itself. Used to recognise Request-URIs addressed to the proxy (OPTIONS probes,
// SIPp's `sip:service@<proxy>` requests), our own Route entries and our own Via entries; and to
// say which address to advertise on each connection (sentByFor): `sip.advertisedHost` when set,
// else the local address of that connection — what the other side of it can reach (never a
// wildcard; loopback only on a loopback connection). Local addresses seen are learned as ours.
import { networkInterfaces } from "node:os";
import type { SipUri } from "../parse/index.js";

export interface IdentityOptions {
  /** `sip.advertisedHost`: written on every connection instead of its local address. */
  fixedHost?: string;
  /** The port actually bound, when `port` is an advertised one (`sip.advertisedPort`). */
  listeningPort?: number;
}

export class ProxyIdentity {
  readonly #hosts = new Set<string>();
  readonly #fixedHost: string | undefined;
  readonly #listeningPort: number;

  constructor(
    /** Host written into Via and Record-Route where no connection says better (and in Warning, probes). */
    readonly advertisedHost: string,
    /** Port written into Via and Record-Route (the listener's, or sip.advertisedPort). */
    readonly port: number,
    listenHost: string,
    options: IdentityOptions = {},
  ) {
    this.#fixedHost = options.fixedHost;
    this.#listeningPort = options.listeningPort ?? port;
    this.#add(advertisedHost);
    this.#add(listenHost);
    if (listenHost === "0.0.0.0" || listenHost === "::" || listenHost === "[::]") {
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) this.#add(a.address);
      this.#add("localhost");
    }
  }

  #add(h: string): void {
    let host = h.toLowerCase();
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    this.#hosts.add(host);
  }

  isOurHost(host: string): boolean {
    if (this.#hosts.has(host)) return true;
    let h = host.toLowerCase();
    if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
    return this.#hosts.has(h);
  }

  /** host:port names us (a missing port means 5060/5061 for sip/sips: accepted when we listen there). */
  isUs(host: string, port: number | undefined): boolean {
    if (port === undefined) {
      if (!isDefaultPort(this.port) && !isDefaultPort(this.#listeningPort)) return false;
    } else if (port !== this.port && port !== this.#listeningPort) return false;
    return this.isOurHost(host);
  }

  /**
   * sent-by (host:port) for Via and Record-Route on a connection whose local address is
   * `localAddress` (undefined: not known yet, e.g. still connecting). Learns the address as ours.
   */
  sentByFor(localAddress: string | undefined): string {
    if (this.#fixedHost !== undefined || localAddress === undefined || localAddress === "") return this.sentBy;
    const host = sentByHost(localAddress);
    if (host === undefined) return this.sentBy;
    this.#add(host);
    return `${host}:${this.port}`;
  }

  isOurUri(uri: SipUri): boolean {
    return uri.scheme !== "tel" && this.isUs(uri.maddr ?? uri.host, uri.port);
  }

  /** sent-by for our Via headers. */
  get sentBy(): string {
    return `${this.advertisedHost}:${this.port}`;
  }
}

function isDefaultPort(p: number): boolean {
  return p === 5060 || p === 5061;
}

/** A socket's local address as a sent-by host: IPv4-mapped IPv6 unmapped, IPv6 bracketed, never a wildcard. */
function sentByHost(address: string): string | undefined {
  let a = address;
  const zone = a.indexOf("%");
  if (zone >= 0) a = a.slice(0, zone);
  if (a.toLowerCase().startsWith("::ffff:") && a.indexOf(".") > 0) a = a.slice(7);
  if (a === "0.0.0.0" || a === "::" || a === "") return undefined;
  return a.includes(":") ? `[${a}]` : a;
}

/**
 * The host to advertise when listening on a wildcard and no connection says better: the first
 * non-internal IPv4 interface address, else any non-internal one, else 127.0.0.1.
 */
export function defaultAdvertisedHost(): string {
  const all = Object.values(networkInterfaces()).flatMap((l) => l ?? []);
  const v4 = all.find((a) => !a.internal && a.family === "IPv4");
  if (v4 !== undefined) return v4.address;
  const any = all.find((a) => !a.internal && !a.address.toLowerCase().startsWith("fe80"));
  return any !== undefined ? `[${any.address}]` : "127.0.0.1";
}
