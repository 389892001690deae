// GET /api/v1/services — the services a number may be assigned to: the SIP upstream names.
// Per-service number counts are not offered: the store keeps no index by service and counting would
// mean decrypting every row; the total is one COUNT(*).
import type { Reply } from "../http-io.js";
import { queryParams } from "../validation.js";
import type { HandlerDeps, HandlerRequest } from "./context.js";

export async function listServices(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  if (r.query.length > 0) queryParams(r.query, []);
  const total = await d.store.numbers.count();
  return { status: 200, body: { services: d.services.map((name) => ({ name })), numbersTotal: total } };
}
