// GET /.well-known/jwks.json: the public keys that verify claim receipts (compact JWS, src/lib/receipts.ts), as a
// JWK Set any JWT library can load. Public, cacheable for a few minutes: a rotation adds the new key here before it
// signs (it is listed second, then first), so a verifier refreshing on an unknown kid always finds it.
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../http/auth";
import { publicReceiptKeys } from "../lib/receipts";

const JWKS_MAX_AGE_SECONDS = 300;

const PublicJwk = z
  .object({
    kty: z.string().openapi({ example: "OKP" }),
    crv: z.string().openapi({ example: "Ed25519" }),
    x: z.string(),
    y: z.string().optional().openapi({ description: "EC keys only" }),
    kid: z.string(),
    alg: z.enum(["EdDSA", "ES256"]),
    use: z.literal("sig"),
  })
  .openapi("ReceiptPublicKey");

export const JwksSchema = z
  .object({ keys: z.array(PublicJwk).openapi({ description: "Every configured receipt key; the first signs new receipts." }) })
  .openapi("Jwks");

const jwksRoute = createRoute({
  method: "get",
  path: "/jwks.json",
  tags: ["Receipts"],
  summary: "Public keys that verify claim receipts",
  description:
    "A JWK Set with the public half of each receipt-signing key (`kid`, `alg`, `use: sig`). A claim receipt's `jws` is a compact JWS whose header names its `kid`; verify it with any JWT library. Cached for 5 minutes.",
  responses: {
    200: { description: "The receipt keys", content: { "application/json": { schema: JwksSchema } } },
  },
});

export const wellKnownApp = new OpenAPIHono<AppEnv>().openapi(jwksRoute, async (c) =>
  c.json({ keys: await publicReceiptKeys(c.env.RECEIPT_SIGNING_KEY) }, 200, { "Cache-Control": `public, max-age=${JWKS_MAX_AGE_SECONDS}` }),
);
