// Holds the current TLS contexts and swaps them on reload. Listeners create their servers from
// serverOptions() and call setSecureContext() on 'reload'; upstream connections take clientContext
// at connect time. Established connections keep the context they were made with.
import { constants } from "node:crypto";
import { EventEmitter } from "node:events";
import { createSecureContext, type SecureContext, type SecureContextOptions } from "node:tls";
import type { TlsConfig } from "../config/schema/index.js";
import { loadTlsMaterial, type TlsMaterial } from "./material.js";
import { policyOptions, type PolicyChoice } from "./policy.js";

export interface TlsContextEvents {
  reload: [TlsMaterial];
  reloadError: [Error];
}

export class TlsContextProvider extends EventEmitter<TlsContextEvents> {
  #material: TlsMaterial;
  #serverOptions!: SecureContextOptions;
  #clientContext!: SecureContext;
  readonly policy: PolicyChoice;

  constructor(readonly config: TlsConfig) {
    super();
    this.policy = { tls12Ciphers: config.tls12Ciphers, tls13Suites: config.tls13Suites, minVersion: config.minVersion };
    this.#material = loadTlsMaterial(config);
    this.#build();
  }

  get material(): TlsMaterial {
    return this.#material;
  }

  /** Options for tls.createServer / server.setSecureContext: policy + certificates + trust. */
  serverOptions(): SecureContextOptions {
    return this.#serverOptions;
  }

  /** trunkgate's own identity toward upstreams, with the same policy and trust store. */
  get clientContext(): SecureContext {
    return this.#clientContext;
  }

  /** Options for creating client contexts elsewhere (e.g. undici's connector). */
  clientOptions(): SecureContextOptions {
    const m = this.#material;
    return {
      ...policyOptions(this.policy),
      cert: m.client.cert,
      key: m.client.key,
      ...(m.client.passphrase ? { passphrase: m.client.passphrase } : {}),
      ca: m.trust.caPems,
      ...(m.trust.crlPems.length ? { crl: m.trust.crlPems } : {}),
    };
  }

  /** Re-read every file. On any error the current contexts stay and 'reloadError' is emitted. */
  reload(): boolean {
    try {
      const next = loadTlsMaterial(this.config);
      const prev = this.#material;
      this.#material = next;
      try {
        this.#build();
      } catch (err) {
        this.#material = prev;
        this.#build();
        throw err;
      }
    } catch (err) {
      this.emit("reloadError", err as Error);
      return false;
    }
    this.emit("reload", this.#material);
    return true;
  }

  #build(): void {
    const m = this.#material;
    const policy = policyOptions(this.policy);
    this.#serverOptions = {
      ...policy,
      secureOptions: (policy.secureOptions ?? 0) | (this.config.sessionResumption ? 0 : constants.SSL_OP_NO_TICKET),
      cert: m.server.map((s) => s.cert),
      key: m.server.map((s) => (s.passphrase ? { pem: s.key, passphrase: s.passphrase } : s.key)),
      ca: m.trust.caPems,
      ...(m.trust.crlPems.length ? { crl: m.trust.crlPems } : {}),
    };
    this.#clientContext = createSecureContext(this.clientOptions());
  }
}
