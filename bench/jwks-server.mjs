// The identity provider of the auth phase: an RS256 and an ES256 key pair generated for this run, the public halves
// served as a JWKS over real HTTP, as Firebase, Cognito or Auth0 publish theirs. It starts before the Worker, because
// the Worker's PLAYER_JWKS_URL must name it, and it counts every fetch: the Worker is meant to fetch the set once and
// then verify from its cache, and the count is how the bench knows it did.
import { createServer } from "node:http";
import { exportJWK, generateKeyPair } from "jose";

const PATH = "/.well-known/jwks.json";

/** Resolves { url, keys: { RS256, ES256 } ({ kid, privateJwk }), fetches(), close() }. */
export async function startJwksServer() {
  const keys = {};
  const published = [];
  for (const alg of ["RS256", "ES256"]) {
    const kid = `bench-${alg.toLowerCase()}`;
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    published.push({ ...(await exportJWK(publicKey)), kid, alg, use: "sig" });
    keys[alg] = { kid, privateJwk: { ...(await exportJWK(privateKey)), kid, alg } };
  }
  const body = JSON.stringify({ keys: published });
  let fetches = 0;
  const srv = createServer((req, res) => {
    if (req.method === "GET" && req.url?.split("?")[0] === PATH) {
      fetches++;
      res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=600" });
      res.end(body);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  });
  await new Promise((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", resolve);
  });
  const { port } = srv.address();
  return {
    url: `http://127.0.0.1:${port}${PATH}`,
    keys,
    fetches: () => fetches,
    // The Worker may hold a keep-alive connection open; close() alone would wait for it.
    close: () =>
      new Promise((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
      }),
  };
}
