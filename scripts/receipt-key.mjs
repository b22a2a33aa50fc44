// `npm run keys:receipt [-- --kid <id>] [--alg EdDSA|ES256]` prints a fresh private JWK for RECEIPT_SIGNING_KEY.
// To rotate: put the new key first and keep the old one after it (a JSON array); the first signs, all are published
// at /.well-known/jwks.json, so receipts signed with the old key keep verifying. Drop the old key once no receipt
// signed with it matters any more.
import { createHash, generateKeyPairSync } from "node:crypto";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const alg = opt("alg") ?? "EdDSA";
if (alg !== "EdDSA" && alg !== "ES256") {
  console.error("keys:receipt: --alg must be EdDSA (Ed25519) or ES256 (P-256)");
  process.exit(2);
}
const { privateKey } = alg === "EdDSA" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
const jwk = privateKey.export({ format: "jwk" });
// RFC 7638 thumbprint of the public members: a stable default kid that names the key, not when it was made.
const members = jwk.kty === "OKP" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
const kid = opt("kid") ?? createHash("sha256").update(JSON.stringify(members)).digest("base64url");
console.log(JSON.stringify({ ...jwk, kid, alg, use: "sig" }));
