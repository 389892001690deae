// What an error boundary of the proxy (one request, one upgrade, one parser error) does with an
// exception it caught: count it and log where it happened, without request data.
import type { Logger } from "../observability/logger.js";
import { errorSummary } from "../observability/error-summary.js";

export interface BoundaryContext {
  logger: Logger;
  /** trunkgate_internal_errors_total{component="http"}. */
  internalErrors: { inc(): void };
}

export function reportInternalError(s: BoundaryContext, err: unknown, where: string, requestId?: string): void {
  s.internalErrors.inc();
  s.logger.error({ where, requestId, ...errorSummary(err) }, "http internal error: request answered 500 or reset");
}
