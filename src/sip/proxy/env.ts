// What every phase of the proxy shares: its configuration and collaborators (ProxyCoreOptions),
// the transaction layer, and the little state that spans requests (draining, requests pending).
// The per-request state is the ProxyTx (proxy-tx.ts); phases are functions over (env, ptx).
import type { PeerConfig } from "../../config/schema/index.js";
import type { Logger } from "../../observability/logger.js";
import type { DialogTable } from "../dialog/dialogs.js";
import type { SipMetrics } from "../metrics.js";
import type { PeerRouteFn, RouteFn } from "../route/decision.js";
import type { Timers } from "../timer/timers.js";
import type { TransactionLayer } from "../transaction/layer.js";
import type { TxTiming } from "../transaction/types.js";
import type { FlowProvider } from "../transport/flow.js";
import type { UpstreamService } from "../upstream/service.js";
import { BranchFactory } from "./branch.js";
import type { CallObserver } from "./call-observer.js";
import type { ProxyIdentity } from "./identity.js";
import { OwnedHeaders } from "./owned-headers.js";
import type { ProxyTx } from "./proxy-tx.js";
import { RouteSigner } from "./route-set.js";

export interface ProxyCoreOptions {
  identity: ProxyIdentity;
  timers: Timers;
  timing: TxTiming;
  flows: FlowProvider;
  /** sip.upstreams by name. */
  services: ReadonlyMap<string, UpstreamService>;
  peers: ReadonlyMap<string, PeerConfig>;
  route: RouteFn;
  routeToPeer: PeerRouteFn;
  dialogs: DialogTable;
  metrics: SipMetrics;
  logger: Logger;
  srtpEnforce: boolean;
  retryAfterSeconds: number;
  logTransactions: boolean;
  branches?: BranchFactory;
  /** Told when an initial INVITE completes and when a BYE does (call records); off the hot path. */
  calls?: CallObserver;
  /** Health probes share the response path: OPTIONS responses with a probe branch go here. */
  probeResponse?: (branch: string, status: number) => boolean;
  /** Signs the hints in our Record-Route entries (sip.routeKeyFile); random key by default. */
  routeSigner?: RouteSigner;
  /** Header names trunkgate owns besides X-Trunkgate-* (the number-context header). */
  ownedHeaders?: readonly string[];
  /** sip.timeouts.failoverMs: an INVITE target without a provisional by then → next target (0: off). */
  failoverMs?: number;
}

export class ProxyEnv {
  readonly me: ProxyIdentity;
  readonly timers: Timers;
  readonly metrics: SipMetrics;
  readonly logger: Logger;
  /**
   * The transaction log lines' logger: the same logger without pino's redaction, which costs ~12 µs
   * per line (it re-parses its 36 paths on every call) and cannot find anything in these lines:
   * their keys are fixed (TRANSACTION_LOG_KEYS, log.ts; a test keeps them apart from the redacted names).
   */
  readonly txLogger: Logger;
  readonly branches: BranchFactory;
  readonly signer: RouteSigner;
  readonly owned: OwnedHeaders;
  /** Via up to the branch, for flows that do not carry their own (viaPrefix). */
  readonly viaTls: string;
  readonly viaTcp: string;
  /** Transaction log lines on (sip.logTransactions and the logger at info). */
  readonly logInfo: boolean;
  readonly srtpEnforce: boolean;
  readonly retryAfterSeconds: number;
  draining = false;
  /** Requests received and not yet answered with a final response. */
  pending = 0;
  drained: (() => void) | undefined;

  constructor(
    readonly o: ProxyCoreOptions,
    readonly layer: TransactionLayer<ProxyTx>,
  ) {
    this.me = o.identity;
    this.timers = o.timers;
    this.metrics = o.metrics;
    this.logger = o.logger;
    this.txLogger = o.logger.child({}, { redact: [] });
    this.branches = o.branches ?? new BranchFactory();
    this.signer = o.routeSigner ?? new RouteSigner();
    this.owned = new OwnedHeaders(o.ownedHeaders);
    this.viaTls = `SIP/2.0/TLS ${this.me.sentBy};branch=`;
    this.viaTcp = `SIP/2.0/TCP ${this.me.sentBy};branch=`;
    this.srtpEnforce = o.srtpEnforce;
    this.retryAfterSeconds = o.retryAfterSeconds;
    this.logInfo = o.logTransactions && o.logger.isLevelEnabled("info");
  }

  /** Nothing pending and no call up: a drain may complete. */
  idle(): boolean {
    return this.pending === 0 && this.o.dialogs.size === 0;
  }

  checkDrained(): void {
    if (this.drained !== undefined && this.idle()) {
      const done = this.drained;
      this.drained = undefined;
      done();
    }
  }
}
