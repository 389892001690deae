import { z } from "zod";
import { listen } from "./common.js";

export const adminSchema = z.strictObject({ listen: listen("127.0.0.1", 9090) }).prefault({});
export type AdminConfig = z.infer<typeof adminSchema>;
