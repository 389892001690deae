import { z } from "zod";
import { listen } from "./common.js";

export const provisioningSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    listen: listen("127.0.0.1", 8444),
  })
  .prefault({});
export type ProvisioningConfig = z.infer<typeof provisioningSchema>;
