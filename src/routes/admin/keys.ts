// Admins: API keys for ops (a role) and game servers (scopes). A key is shown once, in the create response; D1 keeps
// only its hash, and listings show its label (lek_op_<id> / lek_srv_<id>) instead.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { insertApiKey, listApiKeys, revokeApiKey, type ApiKeyRow } from "../../db/api-keys";
import { KEY_ID, ROLES, SCOPES, keyLabel, type KeyKind } from "../../domain/access";
import { iso } from "../../domain/time";
import type { AppEnv } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { OPERATOR, errors, json, jsonRequest, openApiApp } from "../../http/openapi";
import { forgetKey, mintKey, rememberNewKey } from "../../http/operators";

const Name = z.string().trim().min(1).max(100).meta({ description: "Who or what holds the key; recorded in the audit log.", example: "alice" });
const CreateKeyBody = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("operator"), name: Name, role: z.enum(ROLES) }),
  z.strictObject({
    kind: z.literal("server"),
    name: Name,
    scopes: z
      .array(z.enum(SCOPES))
      .min(1)
      .refine((s) => new Set(s).size === s.length, "must not repeat a scope"),
  }),
]);

const ApiKey = z
  .object({
    keyId: z.string(),
    label: z.string().meta({ description: "The key without its secret, as it appears in listings.", example: "lek_op_k3v9x0q2m7b1c8d4" }),
    kind: z.enum(["operator", "server"]),
    name: z.string(),
    role: z.enum(ROLES).nullable(),
    scopes: z.array(z.enum(SCOPES)),
    createdAt: z.string(),
    createdBy: z.string(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
  })
  .meta({ id: "ApiKey" });
const CreatedKey = ApiKey.extend({ key: z.string().meta({ description: "The key itself. Shown only in this response: store it now." }) }).meta({ id: "CreatedApiKey" });
const ListQuery = z.strictObject({
  kind: z.enum(["operator", "server"]).optional(),
  includeRevoked: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const KeyParam = z.object({ keyId: z.string().meta({ example: "k3v9x0q2m7b1c8d4" }) });

const view = (r: ApiKeyRow): z.infer<typeof ApiKey> => ({
  keyId: r.keyId,
  label: keyLabel(r.kind as KeyKind, r.keyId),
  kind: r.kind as KeyKind,
  name: r.name,
  role: r.role as z.infer<typeof ApiKey>["role"],
  scopes: r.scopes as z.infer<typeof ApiKey>["scopes"],
  createdAt: iso(r.createdAt),
  createdBy: r.createdBy,
  revokedAt: r.revokedAt === null ? null : iso(r.revokedAt),
  revokedBy: r.revokedBy,
});

const ops = { tags: ["API keys"], security: OPERATOR };

export const keyRoutes = openApiApp<AppEnv>()
  .openapi(
    createRoute({
      ...ops,
      method: "post",
      path: "/",
      summary: "Create an API key (admin)",
      description: "An operator key with a role (viewer < operator < admin), or a server key with scopes. The key is returned once.",
      request: { body: jsonRequest(CreateKeyBody) },
      responses: { 201: json(CreatedKey, "The key, shown this once"), ...errors(400, 401, 403, 413, 422) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const minted = await mintKey(body.kind);
      const row = await insertApiKey(
        c.env.DB,
        {
          keyId: minted.keyId,
          kind: body.kind,
          name: body.name,
          role: body.kind === "operator" ? body.role : null,
          scopes: body.kind === "server" ? body.scopes : [],
          keyHash: minted.keyHash,
        },
        c.var.operator,
        Date.now(),
      );
      rememberNewKey(row.keyId);
      return c.json({ ...view(row), key: minted.key }, 201);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "get",
      path: "/",
      summary: "List API keys (admin)",
      description: "Newest first. Never includes a key's secret or hash.",
      request: { query: ListQuery },
      responses: { 200: json(z.object({ keys: z.array(ApiKey) }), "The keys"), ...errors(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const rows = await listApiKeys(c.env.DB, { kind: q.kind, includeRevoked: q.includeRevoked, limit: q.limit });
      return c.json({ keys: rows.map(view) }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ops,
      method: "delete",
      path: "/{keyId}",
      summary: "Revoke an API key (admin)",
      description:
        "The key stops working at once in the isolate that revoked it and within 30 s everywhere else (verified keys are cached that long). The row stays for the audit trail; revoking twice is harmless.",
      request: { params: KeyParam },
      responses: { 200: json(ApiKey, "The key, now revoked"), ...errors(401, 403, 404) },
    }),
    async (c) => {
      const { keyId } = c.req.valid("param");
      const notFound = new ApiError(404, "key_not_found", `no API key with id "${keyId.slice(0, 40)}"`);
      if (!KEY_ID.test(keyId)) throw notFound;
      const row = await revokeApiKey(c.env.DB, keyId, c.var.operator, Date.now());
      if (!row) throw notFound;
      forgetKey(keyId);
      return c.json(view(row), 200);
    },
  );
