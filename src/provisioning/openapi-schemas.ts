// The schemas of the provisioning API's OpenAPI document (components.schemas): request and
// response bodies. Split from openapi.ts, which describes the paths.
import { MAX_ACCOUNT_NAME_LENGTH } from "../store/account-rules.js";
import { AUDIT_KINDS } from "../store/audit-trail.js";
import { MAX_CUSTOM_HEADER_CHARS } from "./validation.js";
import { accountSchemas } from "./openapi-accounts.js";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const entryInputProperties = {
  service: { type: ["string", "null"], description: "Name of a SIP upstream (GET /api/v1/services). Required unless account is set: null or absent then inherits the account's default" },
  customHeader: { type: ["string", "null"], maxLength: MAX_CUSTOM_HEADER_CHARS, description: "Printable ASCII, no CR/LF; null or empty: none (with an account: the account's default)" },
  number: { ...ref("E164"), description: "Optional; must equal the path number" },
  account: { type: ["string", "null"], pattern: "^[A-Za-z0-9._-]{1,64}$", description: "The account the number belongs to (it must exist); null or absent: none" },
  effective: { type: "object", readOnly: true, description: "Read-only (as answered by GET): accepted and ignored" },
};

export function openApiSchemas(maxBatchSize: number): Record<string, unknown> {
  return {
    E164: { type: "string", pattern: "^\\+[1-9][0-9]{0,14}$", examples: ["+4930123456"] },
    NumberInput: { type: "object", additionalProperties: false, properties: entryInputProperties },
    // The members of a PUT body, none required; customHeader: null removes the header.
    NumberPatch: { type: "object", additionalProperties: false, properties: entryInputProperties },
    NumberEntry: {
      type: "object",
      required: ["number", "service", "customHeader"],
      description: "The number's own fields; account and effective only when it belongs to an account",
      properties: {
        number: ref("E164"),
        service: { type: ["string", "null"], description: "Its own service (null: the account's default)" },
        customHeader: { type: ["string", "null"], description: "Its own header value (null: the account's default, if any)" },
        account: ref("AccountId"),
        effective: {
          type: "object",
          required: ["service", "customHeader"],
          description: "What the number routes by: its own fields where set, else the account's current defaults",
          properties: { service: { type: ["string", "null"] }, customHeader: { type: ["string", "null"] } },
        },
      },
    },
    NumberPage: {
      type: "object",
      required: ["items", "nextCursor"],
      properties: { items: { type: "array", items: ref("NumberEntry") }, nextCursor: { type: ["string", "null"] } },
    },
    BatchInput: {
      type: "object",
      additionalProperties: false,
      required: ["numbers"],
      properties: {
        numbers: {
          type: "array",
          maxItems: maxBatchSize,
          items: {
            type: "object",
            additionalProperties: false,
            required: ["number"],
            properties: { ...entryInputProperties, number: ref("E164") },
          },
        },
      },
    },
    BatchDeleteInput: {
      type: "object",
      additionalProperties: false,
      required: ["numbers"],
      properties: { numbers: { type: "array", maxItems: maxBatchSize, items: ref("E164") } },
    },
    BatchItemResult: {
      type: "object",
      required: ["index", "status"],
      properties: {
        index: { type: "integer", description: "Position in the request's numbers array" },
        number: { ...ref("E164"), description: "The normalised number (absent for a refused entry: values are never echoed)" },
        status: { type: "string", enum: ["created", "updated", "deleted", "not_found", "failed", "skipped"] },
        error: {
          type: "object",
          required: ["field", "message"],
          properties: { field: { type: "string", description: "e.g. numbers[3].service" }, message: { type: "string" } },
        },
      },
    },
    BatchUpsertResult: {
      type: "object",
      required: ["atomic", "upserted", "failed", "results"],
      properties: { atomic: { type: "boolean" }, upserted: { type: "integer" }, failed: { type: "integer" }, results: { type: "array", items: ref("BatchItemResult") } },
    },
    BatchDeleteResult: {
      type: "object",
      required: ["atomic", "deleted", "notFound", "failed", "results"],
      properties: {
        atomic: { type: "boolean" },
        deleted: { type: "integer" },
        notFound: { type: "integer" },
        failed: { type: "integer" },
        results: { type: "array", items: ref("BatchItemResult") },
      },
    },
    BatchRefused: {
      allOf: [ref("Error")],
      type: "object",
      required: ["failed", "results"],
      properties: { failed: { type: "integer" }, results: { type: "array", items: ref("BatchItemResult") } },
    },
    ServiceList: {
      type: "object",
      required: ["services", "numbersTotal"],
      properties: {
        services: { type: "array", items: { type: "object", required: ["name"], properties: { name: { type: "string" } } } },
        numbersTotal: { type: "integer" },
      },
    },
    DailyStatistics: {
      type: "object",
      required: ["from", "to", "days"],
      properties: {
        from: { type: "string", format: "date" },
        to: { type: "string", format: "date" },
        days: {
          type: "array",
          items: {
            type: "object",
            properties: {
              day: { type: "string", format: "date" },
              service: { type: ["string", "null"] },
              peer: { type: ["string", "null"], description: "Configured peer name" },
              merged: {
                type: "boolean",
                description: "Merges groups below store.statistics.minGroupSize calls: service/peer null means all others of the day",
              },
              calls: { type: "integer" },
              answered: { type: ["integer", "null"], description: "null (as the fields below) when even the merged row counts fewer than minGroupSize calls" },
              asr: { type: ["number", "null"] },
              meanDurationMs: { type: ["number", "null"] },
              p95DurationMs: { type: ["number", "null"] },
              statusClasses: { type: ["object", "null"], additionalProperties: { type: "integer" } },
            },
          },
        },
      },
    },
    ...accountSchemas(MAX_CUSTOM_HEADER_CHARS, MAX_ACCOUNT_NAME_LENGTH),
    AuditPage: {
      type: "object",
      required: ["items", "nextCursor"],
      properties: { items: { type: "array", items: ref("AuditEntry") }, nextCursor: { type: ["string", "null"] } },
    },
    AuditEntry: {
      type: "object",
      required: ["id", "at", "kind", "op", "subject", "peer", "via", "before", "after"],
      properties: {
        id: { type: "string" },
        at: { type: "string", format: "date-time" },
        kind: { type: "string", enum: [...AUDIT_KINDS] },
        op: { type: "string", description: "create, update, delete (numbers, accounts); rotate, prune (keys); export" },
        subject: { type: ["string", "null"], description: "The token's sub, or cli:<local user> for the CLI" },
        peer: { type: ["string", "null"], description: "The configured peer of the client certificate (null for the CLI)" },
        via: { type: "string", description: "Method and route template, or the CLI command" },
        number: { ...ref("E164"), description: "Only when the request filtered by number" },
        target: { type: "string", description: "The changed object of other kinds (accounts: the account id; absent for keys and export)" },
        before: { type: ["object", "null"], additionalProperties: { type: ["string", "number", "null"] }, description: "Fields before the change (numbers: their own service, customHeader, account; accounts: name, service, customHeader); null on create" },
        after: { type: ["object", "null"], additionalProperties: { type: ["string", "number", "null"] }, description: "Fields after the change; null on delete" },
      },
    },
    Error: {
      type: "object",
      required: ["error", "message"],
      properties: {
        error: {
          type: "string",
          enum: [
            "invalid_request",
            "invalid_token",
            "insufficient_scope",
            "not_found",
            "conflict",
            "method_not_allowed",
            "precondition_failed",
            "unsupported_media_type",
            "payload_too_large",
            "rate_limited",
            "internal_error",
          ],
        },
        field: { type: "string", description: "The offending member, e.g. service or numbers[3].customHeader" },
        message: { type: "string" },
      },
    },
  };
}
