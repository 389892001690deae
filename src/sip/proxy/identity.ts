// Who "we" are in SIP terms: the host names/addresses and port that put a URI or a Via on
// trunkgate itself. Used to recognise Request-URIs addressed to the proxy (OPTIONS probes,
// SIPp's `sip:service@<proxy>` requests), our own Route entries and our own Via entries.
import { networkInterfaces } from "node:os";
import type { SipUri } from "../parse/index.js";

export class ProxyIdentity {
  readonly #hosts = new Set<string>();

  constructor(
    /** Host written into Via and Record-Route. */
    readonly advertisedHost: string,
    /** Port of the SIP listener (written into Via and Record-Route). */
    readonly port: number,
    listenHost: string,
  ) {
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
    if (port === undefined ? this.port !== 5061 && this.port !== 5060 : port !== this.port) return false;
    return this.isOurHost(host);
  }

  isOurUri(uri: SipUri): boolean {
    return uri.scheme !== "tel" && this.isUs(uri.maddr ?? uri.host, uri.port);
  }

  /** sent-by for our Via headers. */
  get sentBy(): string {
    return `${this.advertisedHost}:${this.port}`;
  }
}
