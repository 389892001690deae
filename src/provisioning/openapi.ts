// The OpenAPI 3.1 description of the API, built once at startup (it carries the configured limits).
// Served at GET /api/openapi.json to any holder of a valid token, like every other route.
import { ROLES } from "./roles.js";
import { ROUTES } from "./routes.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./handlers/numbers.js";
import { MAX_STATISTICS_DAYS } from "./handlers/statistics.js";
import { openApiSchemas } from "./openapi-schemas.js";
import { accountPaths } from "./openapi-accounts.js";

export interface OpenApiOptions {
  version: string;
  maxBatchSize: number;
  maxBodyBytes: number;
  requestsPerMinute: number;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ "application/json": { schema } });
const err = (description: string) => ({ description, content: json(ref("Error")) });

export function openApiDocument(o: OpenApiOptions): Record<string, unknown> {
  // Both together: a peer certificate at the handshake and a token (scopes = the roles required).
  const security = (role?: string) => [{ mutualTLS: [], bearerAuth: role ? [role] : [] }];
  const common = {
    "401": { ...err("Missing, invalid or expired token (WWW-Authenticate: Bearer)"), headers: { "WWW-Authenticate": { schema: { type: "string" } } } },
    "429": { ...err(`Rate limit exceeded (${o.requestsPerMinute} requests/minute per client)`), headers: { "Retry-After": { schema: { type: "integer" } } } },
  };
  const forbidden = { "403": err("The token lacks the required role") };
  const numberParam = {
    name: "e164",
    in: "path",
    required: true,
    description: "E.164 number, e.g. +4930123456 (the '+' may be sent as %2B)",
    schema: { type: "string" },
  };
  const etag = { ETag: { description: "Entity tag of the entry (changes whenever the entry changes)", schema: { type: "string" } } };
  const ifMatch = {
    name: "If-Match",
    in: "header",
    description: "Apply only if the entry's current ETag is one of these (or, for *, if the number exists); otherwise 412",
    schema: { type: "string" },
  };
  const ifNoneMatch = (what: string) => ({ name: "If-None-Match", in: "header", description: what, schema: { type: "string" } });
  const preconditionFailed = { "412": err("If-Match / If-None-Match not satisfied (nothing was changed)") };
  const atomicParam = {
    name: "atomic",
    in: "query",
    description: "true (default): one invalid entry refuses the whole batch (400, nothing written). false: apply the valid entries, report the others",
    schema: { type: "boolean", default: true },
  };
  const batchOperation = (b: { operationId: string; summary: string; role: string; input: string; output: string; entryExample: string }) => ({
    operationId: b.operationId,
    summary: b.summary,
    description: `${roleNote(b.role)} At most ${o.maxBatchSize} entries, applied in one transaction; refused entries are named, e.g. ${b.entryExample}. Counts as one request for the rate limit.`,
    security: security(b.role),
    parameters: [atomicParam],
    requestBody: { required: true, content: json(ref(b.input)) },
    responses: {
      "200": { description: "Applied; per-entry results (with atomic=false, failed entries are listed and the rest applied)", content: json(ref(b.output)) },
      "400": { description: "atomic: an entry is invalid, nothing was written (field names the first; results lists every entry)", content: json(ref("BatchRefused")) },
      "413": err(`More than ${o.maxBatchSize} entries, or body too large`),
      "415": err("Content-Type is not application/json"),
      ...common,
      ...forbidden,
    },
  });
  const roleNote = (role: string) => `Requires role ${role} (or ${ROLES.admin}).`;
  const accounts = accountPaths({ security, common, forbidden, preconditionFailed, etag, ifMatch, ifNoneMatch, err, json, ref, roleNote });
  return {
    openapi: "3.1.0",
    info: {
      title: "trunkgate provisioning API",
      version: o.version,
      description:
        "Provision E.164 numbers to SIP services, grouped under accounts whose defaults (service, custom header) they inherit. Mutual TLS (a configured peer certificate) and a bearer JWT are both required. " +
        `Roles come from the token's "roles" claim: ${ROLES.read}, ${ROLES.write}, ${ROLES.delete}, ${ROLES.admin} (all). ` +
        `Every response carries X-Request-Id. Request bodies: application/json, at most ${o.maxBodyBytes} bytes.`,
    },
    servers: [{ url: "/" }],
    security: security(),
    paths: {
      [ROUTES.number.template]: {
        parameters: [numberParam],
        get: {
          operationId: "getNumber",
          summary: "Get a provisioned number",
          description: roleNote(ROLES.read),
          security: security(ROLES.read),
          parameters: [ifMatch, ifNoneMatch("Answer 304 (no body) if the entry's current ETag is one of these")],
          responses: {
            "200": { description: "The entry", headers: etag, content: json(ref("NumberEntry")) },
            "304": { description: "Not modified (If-None-Match matched)", headers: etag },
            "400": err("Invalid number (field number), or a malformed If-Match / If-None-Match"),
            "404": err("Not provisioned"),
            ...preconditionFailed,
            ...common,
            ...forbidden,
          },
        },
        put: {
          operationId: "putNumber",
          summary: "Create or replace a number's entry",
          description: `${roleNote(ROLES.write)} Replaces the whole entry: an omitted customHeader clears it. If-Match makes it an update of that exact state, If-None-Match: * a create-only.`,
          security: security(ROLES.write),
          parameters: [ifMatch, ifNoneMatch("* : create only (412 if the number exists)")],
          requestBody: { required: true, content: json(ref("NumberInput")) },
          responses: {
            "200": { description: "Updated", headers: etag, content: json(ref("NumberEntry")) },
            "201": { description: "Created", headers: etag, content: json(ref("NumberEntry")) },
            "400": err("Invalid input; field names the member"),
            ...preconditionFailed,
            "413": err("Body too large"),
            "415": err("Content-Type is not application/json"),
            ...common,
            ...forbidden,
          },
        },
        patch: {
          operationId: "patchNumber",
          summary: "Change some fields of a number's entry (JSON Merge Patch, RFC 7396)",
          description: `${roleNote(ROLES.write)} A member sets its field; customHeader: null removes the header; omitted members stay. The number must exist (PUT creates).`,
          security: security(ROLES.write),
          parameters: [ifMatch],
          requestBody: { required: true, content: { "application/merge-patch+json": { schema: ref("NumberPatch") } } },
          responses: {
            "200": { description: "Updated", headers: etag, content: json(ref("NumberEntry")) },
            "400": err("Invalid patch; field names the member"),
            "404": err("Not provisioned"),
            ...preconditionFailed,
            "413": err("Body too large"),
            "415": { ...err("Content-Type is not application/merge-patch+json"), headers: { "Accept-Patch": { schema: { type: "string" } } } },
            ...common,
            ...forbidden,
          },
        },
        delete: {
          operationId: "deleteNumber",
          summary: "Remove a number",
          description: roleNote(ROLES.delete),
          security: security(ROLES.delete),
          parameters: [ifMatch],
          responses: { "204": { description: "Deleted" }, "400": err("Invalid number"), "404": err("Not provisioned"), ...preconditionFailed, ...common, ...forbidden },
        },
      },
      [ROUTES.numbers.template]: {
        get: {
          operationId: "listNumbers",
          summary: "List provisioned numbers (stable, opaque order)",
          description: roleNote(ROLES.read),
          security: security(ROLES.read),
          parameters: [
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } },
            { name: "cursor", in: "query", description: "nextCursor of the previous page (keep the same filters)", schema: { type: "string" } },
            {
              name: "service",
              in: "query",
              description: "Only numbers routed to this service, their own or their account's default (any well-formed name, configured or not)",
              schema: { type: "string" },
            },
            { name: "account", in: "query", description: "Only numbers of this account (combines with service)", schema: { $ref: "#/components/schemas/AccountId" } },
          ],
          responses: { "200": { description: "One page", content: json(ref("NumberPage")) }, "400": err("Bad limit or cursor"), ...common, ...forbidden },
        },
      },
      [ROUTES.numbersBatch.template]: {
        post: batchOperation({
          operationId: "batchUpsertNumbers",
          summary: "Create or replace many numbers; one result per entry",
          role: ROLES.write,
          input: "BatchInput",
          output: "BatchUpsertResult",
          entryExample: "numbers[3].service",
        }),
      },
      [ROUTES.numbersBatchDelete.template]: {
        post: batchOperation({
          operationId: "batchDeleteNumbers",
          summary: "Delete many numbers; one result per entry (deleted or not_found)",
          role: ROLES.delete,
          input: "BatchDeleteInput",
          output: "BatchDeleteResult",
          entryExample: "numbers[3]",
        }),
      },
      ...accounts,
      [ROUTES.services.template]: {
        get: {
          operationId: "listServices",
          summary: "Services a number can be assigned to (the SIP upstreams)",
          description: roleNote(ROLES.read),
          security: security(ROLES.read),
          responses: { "200": { description: "Services", content: json(ref("ServiceList")) }, ...common, ...forbidden },
        },
      },
      [ROUTES.statisticsDaily.template]: {
        get: {
          operationId: "dailyStatistics",
          summary: "Daily call statistics (aggregates only)",
          description: `${roleNote(ROLES.read)} UTC days from..to inclusive, at most ${MAX_STATISTICS_DAYS} days.`,
          security: security(ROLES.read),
          parameters: [
            { name: "from", in: "query", required: true, schema: { type: "string", format: "date" } },
            { name: "to", in: "query", required: true, schema: { type: "string", format: "date" } },
          ],
          responses: { "200": { description: "Aggregates", content: json(ref("DailyStatistics")) }, "400": err("Bad from/to"), ...common, ...forbidden },
        },
      },
      [ROUTES.audit.template]: {
        get: {
          operationId: "listAudit",
          summary: "The audit trail: who changed which number, when, from what to what (newest first)",
          description:
            `Requires role ${ROLES.admin}. Every change (PUT, PATCH, DELETE, batch entries, CLI import) and the CLI's export and key operations. ` +
            "Numbers are stored only as their blind index (a keyed hash): an entry carries `number` only when the request filtered by number.",
          security: security(ROLES.admin),
          parameters: [
            { name: "from", in: "query", description: "Entries at or after this instant (RFC 3339 date-time with offset)", schema: { type: "string", format: "date-time" } },
            { name: "to", in: "query", description: "Entries before this instant (RFC 3339 date-time with offset)", schema: { type: "string", format: "date-time" } },
            { name: "subject", in: "query", description: "Only entries of this token subject (e.g. cli:alice for the CLI)", schema: { type: "string", minLength: 1, maxLength: 256 } },
            { name: "number", in: "query", description: "Only entries about this number (any accepted notation; normalised to E.164)", schema: { type: "string" } },
            {
              name: "account",
              in: "query",
              description:
                "Only the entries of this account itself (kind account: its creation, changes and deletion), not its numbers' entries " +
                "(list the account's numbers, then filter by number). Cannot be combined with number.",
              schema: ref("AccountId"),
            },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } },
            { name: "cursor", in: "query", description: "nextCursor of the previous page (keep the same filters)", schema: { type: "string" } },
          ],
          responses: { "200": { description: "One page, newest first", content: json(ref("AuditPage")) }, "400": err("Bad filter, limit or cursor (field names it)"), ...common, ...forbidden },
        },
      },
      [ROUTES.openapi.template]: {
        get: {
          operationId: "openapi",
          summary: "This document",
          description: "Any valid token, no particular role.",
          security: security(),
          responses: { "200": { description: "OpenAPI 3.1 document", content: json({ type: "object" }) }, ...common },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            'JWT (ES256, RS256 or EdDSA) from the configured issuer for the configured audience, with exp; roles in the "roles" claim (array of strings). ' +
            "The scopes listed per operation are the roles it requires.",
        },
        mutualTLS: { type: "mutualTLS", description: "A client certificate of a configured peer is required at the TLS handshake." },
      },
      schemas: openApiSchemas(o.maxBatchSize),
    },
  };
}
