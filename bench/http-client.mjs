// The keep-alive HTTP client of the load processes (load-http.mjs, load-mixed.mjs), and the recorder that times
// their requests. Shared so that every phase measures a request the same way.
import { performance } from "node:perf_hooks";
import { countInto } from "./stats.mjs";

/**
 * Keep-alive client with at most `connections` sockets. undici's Agent (what Node's fetch is built on, minus the
 * WHATWG Request/Response objects) keeps the client's own cost per request low, which matters on a 2-core box where
 * the load shares CPUs with workerd. Falls back to global fetch if undici cannot be imported.
 */
export async function makeClient(origin, connections) {
  try {
    const { Agent } = await import("undici");
    const agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
    return {
      kind: "undici.Agent",
      async send(method, path, headers, body) {
        const res = await agent.request({ origin, method, path, headers, body });
        return { status: res.statusCode, text: await res.body.text() };
      },
      close: () => agent.close(),
    };
  } catch {
    return {
      kind: "fetch",
      async send(method, path, headers, body) {
        const res = await fetch(origin + path, { method, headers, body, signal: AbortSignal.timeout(15_000) });
        return { status: res.status, text: await res.text() };
      },
      close: async () => {},
    };
  }
}

/** Times every HTTP request of the measured window; failures are counted by status, or by error code if none. */
export function recorder(client) {
  const rec = { requests: 0, latencies: [], errors: {}, measuring: true };
  rec.send = async (method, path, headers, body) => {
    const t0 = performance.now();
    let res;
    try {
      res = await client.send(method, path, headers, body);
    } catch (err) {
      res = { status: 0, error: err.code ?? err.name ?? "error" };
    }
    if (rec.measuring) {
      rec.requests++;
      rec.latencies.push(performance.now() - t0);
      if (res.status !== 200) countInto(rec.errors, res.status ? String(res.status) : res.error);
    }
    return res;
  };
  return rec;
}

