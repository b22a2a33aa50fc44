// An identity provider on 127.0.0.1 for the player-JWT tests (runs in Node, as vitest globalSetup): locally generated
// RS256 and ES256 key pairs, their public halves served as a JWKS, and a mint endpoint that signs tokens the way a
// game's auth server would — with jose in Node, or with Python's PyJWT (/usr/bin/python3, Debian's python3-jwt) —
// so the Worker is tested against tokens from two independent JWT libraries.
//   GET  /jwks.json   the JWKS (every request counted)      GET /__fetches → { count }
//   POST /__rotate    publishes one more RS256 key, "rsa-2"
//   POST /mint        { lib: "jose" | "pyjwt", alg, kid?, key?: "rsa-1" | "rsa-2" | "ec-1" | <HS secret>, claims } → { token }
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { SignJWT, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type JWK } from "jose";
import type { TestProject } from "vitest/node";

type Pair = { alg: "RS256" | "ES256"; privateKey: CryptoKey; publicJwk: JWK; pkcs8: string; spki: string };

async function pair(alg: "RS256" | "ES256", kid: string): Promise<Pair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, privateKey, publicJwk, pkcs8: await exportPKCS8(privateKey), spki: await exportSPKI(publicKey) };
}

const PYJWT = `
import json, sys, jwt
r = json.load(sys.stdin)
headers = {"kid": r["kid"]} if r.get("kid") else None
print(jwt.encode(r["claims"], r["key"], algorithm=r["alg"], headers=headers))
`;

function pyjwt(alg: string, key: string, kid: string | undefined, claims: object): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("/usr/bin/python3", ["-c", PYJWT], (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim())));
    child.stdin!.end(JSON.stringify({ alg, key, kid, claims }));
  });
}

export default async function setup(project: TestProject) {
  const keys: Record<string, Pair> = { "rsa-1": await pair("RS256", "rsa-1"), "ec-1": await pair("ES256", "ec-1"), "rsa-2": await pair("RS256", "rsa-2") };
  const published = new Set(["rsa-1", "ec-1"]);
  let fetches = 0;

  async function mint(req: { lib: "jose" | "pyjwt"; alg: string; kid?: string; key: string; claims: Record<string, unknown> }): Promise<string> {
    const asymmetric = keys[req.key];
    if (req.lib === "pyjwt") return pyjwt(req.alg, asymmetric ? asymmetric.pkcs8 : req.key, req.kid, req.claims);
    // HS256 with an RSA public key's PEM as the secret is the classic alg-confusion forgery: "public:<kid>" asks for it.
    const secret = req.key.startsWith("public:") ? new TextEncoder().encode(keys[req.key.slice(7)].spki) : new TextEncoder().encode(req.key);
    const header = { alg: req.alg, typ: "JWT", ...(req.kid ? { kid: req.kid } : {}) };
    return new SignJWT(req.claims).setProtectedHeader(header).sign(asymmetric ? asymmetric.privateKey : secret);
  }

  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.method === "GET" && req.url === "/jwks.json") {
      fetches++;
      return send(200, { keys: [...published].map((k) => keys[k].publicJwk) });
    }
    if (req.method === "GET" && req.url === "/__fetches") return send(200, { count: fetches });
    if (req.method === "POST" && req.url === "/__rotate") {
      published.add("rsa-2");
      return send(200, { published: [...published] });
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/mint") return send(404, { error: "no such route" });
      mint(JSON.parse(body)).then(
        (token) => send(200, { token }),
        (err) => send(500, { error: String(err) }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  project.provide("idpPort", typeof address === "object" && address ? address.port : 0);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
