// One counter for exceptions caught by an error boundary (one HTTP exchange, one SIP message, one
// provisioning request): the process keeps serving every other connection, and the operator sees
// the bug in `trunkgate_internal_errors_total{component}` instead of a restart. Get-or-create on
// the registry so each capability can ask for it without an ordering between them.
import { Counter, type Registry } from "prom-client";

export const INTERNAL_ERROR_COMPONENTS = ["sip", "http", "provisioning", "store", "listener"] as const;
export type InternalErrorComponent = (typeof INTERNAL_ERROR_COMPONENTS)[number];

const NAME = "trunkgate_internal_errors_total";

export function internalErrors(registry: Registry): Counter<"component"> {
  const existing = registry.getSingleMetric(NAME);
  if (existing) return existing as Counter<"component">;
  const c = new Counter({
    name: NAME,
    help: "Exceptions caught by an error boundary (request or message answered 500, connection kept or closed alone)",
    labelNames: ["component"],
    registers: [registry],
  });
  for (const comp of INTERNAL_ERROR_COMPONENTS) c.labels(comp).inc(0);
  return c;
}
