// The whole configuration: one strict schema assembled from one file per section, so each capability
// owns its keys. `trunkgate config check` prints every violation as `path.to.key: message`.
import { z } from "zod";
import { adminSchema } from "./admin.js";
import { httpSchema } from "./http.js";
import { lifecycleSchema, loggingSchema } from "./logging.js";
import { peersSchema } from "./peers.js";
import { provisioningSchema } from "./provisioning.js";
import { sipSchema } from "./sip.js";
import { storeSchema } from "./store.js";
import { tlsSchema } from "./tls.js";

export const configSchema = z.strictObject({
  tls: tlsSchema,
  peers: peersSchema,
  sip: sipSchema,
  http: httpSchema,
  admin: adminSchema,
  store: storeSchema,
  provisioning: provisioningSchema,
  logging: loggingSchema,
  lifecycle: lifecycleSchema,
});

export type Config = z.infer<typeof configSchema>;
export type { TlsConfig } from "./tls.js";
export type { PeerConfig } from "./peers.js";
export type { SipConfig } from "./sip.js";
export type { HttpConfig } from "./http.js";
export type { AdminConfig } from "./admin.js";
export type { StoreConfig } from "./store.js";
export type { ProvisioningConfig } from "./provisioning.js";
export type { LoggingConfig, LifecycleConfig } from "./logging.js";
