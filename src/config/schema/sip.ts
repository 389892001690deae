import { z } from "zod";
import { sipAdmissionSchema } from "./admission.js";
import { host, listen, port } from "./common.js";

const target = z.strictObject({
  host,
  port: port.default(5061),
  transport: z.enum(["tls", "tcp"]).default("tls"),
  /** SNI and the name the upstream certificate must carry; defaults to host when it is a name. */
  serverName: z.string().optional(),
  priority: z.number().int().min(0).default(0),
  weight: z.number().int().min(0).default(1),
});

const upstream = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only"),
  /** At most 32 targets: failover keeps the tried ones in a 32-bit mask. */
  targets: z.array(target).min(1).max(32),
  healthCheck: z
    .strictObject({
      enabled: z.boolean().default(true),
      intervalMs: z.number().int().positive().default(5000),
      timeoutMs: z.number().int().positive().default(2000),
      upThreshold: z.number().int().positive().default(1),
      downThreshold: z.number().int().positive().default(2),
    })
    .prefault({}),
});

export const sipSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    listen: listen("0.0.0.0", 5061),
    /**
     * Host name or address put in Via / Record-Route on every connection (e.g. the public name
     * behind NAT). Unset: the local address of each connection (the one the other side reached).
     */
    advertisedHost: host.optional(),
    /** Port put in Via / Record-Route; default: the port the listener bound. */
    advertisedPort: port.min(1).optional(),
    upstreams: z.array(upstream).default([]),
    /**
     * File holding the key (≥ 16 bytes) that signs the route hints in trunkgate's Record-Route
     * entries. Every replica a trunk's in-dialog requests may reach must share it; when absent the
     * key derives from the log hash key (logging.hashKeyFile, else random per instance and shared by
     * its workers: after a restart, in-dialog requests then follow the dialog table or the route
     * decision instead).
     */
    routeKeyFile: z.string().min(1).optional(),
    /** Upstream used for new requests when no other route decides. */
    defaultUpstream: z.string().optional(),
    /**
     * Synthetic calls run through the SIP framer, parser and forwarding edits before the listener
     * accepts (src/sip/warm-up.ts), so the first real calls meet optimised code; 0 turns it off.
     * 500 calls cost ~0.1-0.3 s of CPU per process at start.
     */
    warmUpCalls: z.number().int().min(0).max(100_000).default(500),
    limits: z
      .strictObject({
        maxMessageBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(65536),
        maxHeaders: z.number().int().positive().default(256),
        maxLineBytes: z.number().int().positive().default(8192),
        maxConnectionsTotal: z.number().int().positive().default(10000),
        /** Confirmed dialogs kept for in-dialog routing and the active-calls gauge; past it the oldest goes. */
        maxDialogs: z.number().int().positive().default(100_000),
      })
      .prefault({}),
    timeouts: z
      .strictObject({
        /** A trunk's connection must deliver a complete SIP message this soon (keep-alives do not count). */
        firstMessageMs: z.number().int().positive().default(10_000),
        /** Closed after this long without a complete SIP message (keep-alives do not count). */
        idleMs: z.number().int().positive().default(600_000),
        /** A message whose first bytes arrived must be complete within this time. */
        messageCompleteMs: z.number().int().positive().default(10_000),
        /** Timer C for INVITE transactions (RFC 3261 §16.6: greater than 3 minutes). */
        timerCMs: z.number().int().min(180_001).default(180_001),
        t1Ms: z.number().int().positive().default(500),
        /** RFC 3261 T2 and T4 (retransmission cap, network lifetime); only UDP would retransmit. */
        t2Ms: z.number().int().positive().default(4000),
        t4Ms: z.number().int().positive().default(5000),
        /**
         * An INVITE target that sent no provisional (not even 100) within this is given up and the
         * next target tried; the whole request stays bounded by Timer B (64·T1). 0: wait Timer B.
         */
        failoverMs: z.number().int().min(0).default(2000),
        /** Opening a connection (TCP + TLS handshake) toward an upstream target or a peer. */
        connectMs: z.number().int().positive().default(5000),
        /** A confirmed dialog with no in-dialog request for this long is forgotten (no BYE seen). */
        dialogIdleMs: z.number().int().positive().default(4 * 3600_000),
      })
      .prefault({}),
    media: z.strictObject({ srtpPolicy: z.enum(["enforce", "off"]).default("enforce") }).prefault({}),
    /** Provisioned numbers (the store) choose the service and add a per-number header. */
    numberRouting: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** One header name for all numbers; its value is the number's customHeader. */
        customHeaderName: z
          .string()
          .regex(/^[A-Za-z0-9!%'*+._`~-]+$/, "a SIP header name (token characters)")
          .default("X-Trunkgate-Number-Context"),
        /** An INVITE for a number that is not provisioned: the default route, or 404. */
        unknownNumber: z.enum(["default", "reject"]).default("default"),
        /** A user part of digits without '+' is taken as international (E.164 without the '+'). */
        assumeInternational: z.boolean().default(true),
      })
      .prefault({}),
    /** Retry-After (seconds) on the 503 sent when no upstream target of a service is up. */
    retryAfterSeconds: z.number().int().min(0).max(86_400).default(30),
    /** One info log line per finished transaction (method, hashed Call-ID, status, durations). */
    logTransactions: z.boolean().default(true),
    /** Per-peer admission control defaults (peers[].admission overrides them); reloaded on SIGHUP. */
    admission: sipAdmissionSchema,
    /**
     * SIP message tracing (src/sip/trace): every message of a sampled call, both legs, as sent and
     * received inside TLS. Per peer: peers[].sip.trace.
     */
    trace: z
      .strictObject({
        /** Share of calls traced (0..1), decided by a hash of the Call-ID so both legs go together. */
        sampleRate: z.number().min(0).max(1).default(1),
        /** HEP v3 over UDP to a Homer / heplify collector. */
        hep: z
          .strictObject({
            enabled: z.boolean().default(false),
            host: host.default("127.0.0.1"),
            port: port.min(1).default(9060),
            /** HEP capture agent id (chunk 12), to tell trunkgate instances apart in Homer. */
            captureId: z.number().int().min(0).max(0xffff_ffff).default(0),
          })
          .prefault({}),
        /**
         * At logging.level trace every traced message is logged; numbers, display names, credentials
         * and bodies are redacted unless this is true (development only: customer data in clear).
         */
        logUnredacted: z.boolean().default(false),
      })
      .prefault({}),
  })
  .prefault({});
export type SipConfig = z.infer<typeof sipSchema>;
