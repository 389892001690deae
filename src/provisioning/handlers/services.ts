// GET /api/v1/services — the services a number may be assigned to: the SIP upstream names.
// Per-service number counts are not offered (yet: the numbers_service index of migration 5 would
// make them one GROUP BY); a service's numbers are listed with GET /api/v1/numbers?service=.
import type { Reply } from "../http-io.js";
import { queryParams } from "../validation.js";
import type { HandlerDeps, HandlerRequest } from "./context.js";

export async function listServices(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  if (r.query.length > 0) queryParams(r.query, []);
  const total = await d.store.numbers.count();
  return { status: 200, body: { services: d.services.map((name) => ({ name })), numbersTotal: total } };
}
