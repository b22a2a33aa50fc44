// The console's only way to the product: the public /v1/admin API with the key pasted at sign-in. The key lives in
// this tab's sessionStorage (gone when the tab closes) and travels as a bearer token, never in a URL.
const KEY = "live-events-console-key";

export const session = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  set key(v) {
    if (v) sessionStorage.setItem(KEY, v);
    else sessionStorage.removeItem(KEY);
  },
  /** { actor, role, can } from GET /v1/admin/whoami, set at sign-in. */
  caller: null,
};

/** An answer that was not 2xx: the API's { error: { code, message, details } }. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? "http_error";
    this.details = body?.error?.details;
  }
}

/** api("GET", "/events?state=active") → parsed JSON; throws ApiError. Paths are below /v1/admin. */
export async function api(method, path, body, headers = {}) {
  // Signed out, a view's refresh still under way must not call out with no key (a 401 that would sign out again).
  const key = session.key;
  if (!key) throw new ApiError(401, { error: { code: "signed_out", message: "Signed out" } });
  const init = { method, headers: { Authorization: `Bearer ${key}`, ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/v1/admin${path}`, init);
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, json);
    if (res.status === 401 && session.key === key) window.dispatchEvent(new CustomEvent("console:signed-out", { detail: err.message }));
    throw err;
  }
  return json;
}

export const qs = (o) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && v !== "") p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : "";
};

export const newIdempotencyKey = () => crypto.randomUUID();

/** Hides (and disables) every [data-can] element the caller's role may not use; the API refuses them anyway. */
export function applyRole(root = document) {
  for (const el of root.querySelectorAll("[data-can]")) {
    const allowed = !!session.caller?.can?.[el.dataset.can];
    el.hidden = !allowed;
    if ("disabled" in el && !allowed) el.disabled = true;
  }
}
