// The accounts paths of the OpenAPI document (openapi.ts builds the rest and passes its shared
// pieces in): /api/v1/accounts/{id} and /api/v1/accounts.
import { ROLES } from "./roles.js";
import { ROUTES } from "./routes.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./handlers/numbers.js";

/** What openapi.ts shares with this part: security per role, common responses, helpers. */
export interface OpenApiParts {
  security: (role?: string) => unknown;
  common: Record<string, unknown>;
  forbidden: Record<string, unknown>;
  preconditionFailed: Record<string, unknown>;
  etag: Record<string, unknown>;
  ifMatch: Record<string, unknown>;
  ifNoneMatch: (what: string) => Record<string, unknown>;
  err: (description: string) => Record<string, unknown>;
  json: (schema: unknown) => Record<string, unknown>;
  ref: (name: string) => Record<string, unknown>;
  roleNote: (role: string) => string;
}

export function accountPaths(p: OpenApiParts): Record<string, unknown> {
  const { security, common, forbidden, preconditionFailed, etag, ifMatch, ifNoneMatch, err, json, ref, roleNote } = p;
  const idParam = {
    name: "id",
    in: "path",
    required: true,
    description: "The account's id, chosen by the operator: 1 to 64 of A-Z a-z 0-9 . _ -",
    schema: ref("AccountId"),
  };
  const conflict = {
    "409": {
      description: "Refused, nothing changed: numbers depend on what the request would remove (numbers: how many)",
      content: json(ref("AccountConflict")),
    },
  };
  return {
    [ROUTES.account.template]: {
      parameters: [idParam],
      get: {
        operationId: "getAccount",
        summary: "Get an account (with how many numbers it has)",
        description: roleNote(ROLES.read),
        security: security(ROLES.read),
        parameters: [ifMatch, ifNoneMatch("Answer 304 (no body) if the account's current ETag is one of these")],
        responses: {
          "200": { description: "The account", headers: etag, content: json(ref("Account")) },
          "304": { description: "Not modified (If-None-Match matched)", headers: etag },
          "400": err("Invalid id, or a malformed If-Match / If-None-Match"),
          "404": err("No such account"),
          ...preconditionFailed,
          ...common,
          ...forbidden,
        },
      },
      put: {
        operationId: "putAccount",
        summary: "Create or replace an account",
        description:
          `${roleNote(ROLES.write)} Replaces the whole account: an omitted member clears it. Its numbers inherit the new defaults at once ` +
          "(resolved when routing, never copied). Removing the default service while numbers inherit it is refused (409).",
        security: security(ROLES.write),
        parameters: [ifMatch, ifNoneMatch("* : create only (412 if the account exists)")],
        requestBody: { required: true, content: json(ref("AccountInput")) },
        responses: {
          "200": { description: "Updated", headers: etag, content: json(ref("Account")) },
          "201": { description: "Created", headers: etag, content: json(ref("Account")) },
          "400": err("Invalid input; field names the member"),
          ...conflict,
          ...preconditionFailed,
          "413": err("Body too large"),
          "415": err("Content-Type is not application/json"),
          ...common,
          ...forbidden,
        },
      },
      patch: {
        operationId: "patchAccount",
        summary: "Change some fields of an account (JSON Merge Patch, RFC 7396)",
        description: `${roleNote(ROLES.write)} A member sets its field, null removes it, omitted members stay. The account must exist (PUT creates).`,
        security: security(ROLES.write),
        parameters: [ifMatch],
        requestBody: { required: true, content: { "application/merge-patch+json": { schema: ref("AccountInput") } } },
        responses: {
          "200": { description: "Updated", headers: etag, content: json(ref("Account")) },
          "400": err("Invalid patch; field names the member"),
          "404": err("No such account"),
          ...conflict,
          ...preconditionFailed,
          "413": err("Body too large"),
          "415": { ...err("Content-Type is not application/merge-patch+json"), headers: { "Accept-Patch": { schema: { type: "string" } } } },
          ...common,
          ...forbidden,
        },
      },
      delete: {
        operationId: "deleteAccount",
        summary: "Remove an account (refused while it has numbers, unless cascade=true)",
        description: roleNote(ROLES.delete),
        security: security(ROLES.delete),
        parameters: [
          ifMatch,
          {
            name: "cascade",
            in: "query",
            description: "true: delete the account's numbers with it, in the same transaction. false (default): 409 while it has numbers",
            schema: { type: "boolean", default: false },
          },
        ],
        responses: {
          "200": { description: "Deleted with its numbers (cascade=true)", content: json(ref("AccountDeleted")) },
          "204": { description: "Deleted" },
          "400": err("Invalid id or cascade"),
          "404": err("No such account"),
          ...conflict,
          ...preconditionFailed,
          ...common,
          ...forbidden,
        },
      },
    },
    [ROUTES.accounts.template]: {
      get: {
        operationId: "listAccounts",
        summary: "List accounts (in id order)",
        description: roleNote(ROLES.read),
        security: security(ROLES.read),
        parameters: [
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } },
          { name: "cursor", in: "query", description: "nextCursor of the previous page", schema: { type: "string" } },
        ],
        responses: { "200": { description: "One page", content: json(ref("AccountPage")) }, "400": err("Bad limit or cursor"), ...common, ...forbidden },
      },
    },
  };
}

/** components.schemas of the accounts paths. */
export function accountSchemas(maxCustomHeaderChars: number, maxNameChars: number): Record<string, unknown> {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const defaults = {
    service: { type: ["string", "null"], description: "Default service of the account's numbers that name none (GET /api/v1/services)" },
    customHeader: { type: ["string", "null"], maxLength: maxCustomHeaderChars, description: "Default custom header value of the account's numbers that set none" },
  };
  return {
    AccountId: { type: "string", pattern: "^[A-Za-z0-9._-]{1,64}$", examples: ["acme-gmbh"] },
    AccountInput: {
      type: "object",
      additionalProperties: false,
      properties: {
        id: { ...ref("AccountId"), description: "Optional; must equal the path id" },
        name: { type: ["string", "null"], maxLength: maxNameChars, description: "Display name (no control characters)" },
        ...defaults,
        numbers: { type: "integer", readOnly: true, description: "Read-only (as answered by GET): accepted and ignored" },
      },
    },
    Account: {
      type: "object",
      required: ["id", "name", "service", "customHeader"],
      properties: {
        id: ref("AccountId"),
        name: { type: ["string", "null"] },
        ...defaults,
        numbers: { type: "integer", description: "How many numbers belong to it (GET/PUT/PATCH of one account)" },
      },
    },
    AccountPage: {
      type: "object",
      required: ["items", "nextCursor"],
      properties: { items: { type: "array", items: ref("Account") }, nextCursor: { type: ["string", "null"] } },
    },
    AccountDeleted: {
      type: "object",
      required: ["deleted", "numbersDeleted"],
      properties: { deleted: ref("AccountId"), numbersDeleted: { type: "integer" } },
    },
    AccountConflict: {
      allOf: [ref("Error")],
      type: "object",
      required: ["numbers"],
      properties: { numbers: { type: "integer", description: "How many numbers are in the way" } },
    },
  };
}
