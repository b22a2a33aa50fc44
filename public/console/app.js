// The console's shell: sign-in (the key checked through GET /v1/admin/whoami), what the role may see, and a hash
// router over the views. Each view renders into #view and may return a cleanup (its refresh timers).
import { api, applyRole, session } from "./api.js";
import { h, replace } from "./dom.js";
import { calendarView } from "./calendar.js";
import { createView } from "./create.js";
import { eventView } from "./event.js";
import { reviewView } from "./review.js";
import { seriesView } from "./series.js";
import { templatesView } from "./templates.js";

const $ = (id) => document.getElementById(id);
let cleanup = null;

const routes = [
  [/^#\/calendar$/, calendarView],
  [/^#\/create(?:\/([\w-]+))?$/, createView],
  [/^#\/events\/([\w-]+)$/, eventView],
  [/^#\/templates(?:\/([\w-]+))?$/, templatesView],
  [/^#\/review$/, reviewView],
  [/^#\/series(?:\/(ser_[a-f0-9]+))?$/, seriesView],
];

let routeSeq = 0;

/**
 * Renders the view the hash names. Each render gets a fresh container, so a slower earlier render (still awaiting the
 * API) lands in a detached element and is then cleaned up, instead of replacing the view the user moved on to.
 */
async function route() {
  const seq = stopView();
  if (!session.caller) return;
  const hash = location.hash.startsWith("#/") ? location.hash : "#/calendar";
  for (const a of document.querySelectorAll("#nav a")) {
    if (hash.startsWith(a.getAttribute("href"))) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  for (const [re, render] of routes) {
    const m = re.exec(hash);
    if (!m) continue;
    const view = h("div", { class: "view" });
    replace($("view"), view);
    let done = null;
    try {
      done = await render(view, ...m.slice(1));
    } catch (err) {
      replace(view, h("p", { class: "error", role: "alert" }, `Could not load this view: ${err.message}`));
    }
    if (seq !== routeSeq) {
      if (typeof done === "function") done();
      return;
    }
    cleanup = done;
    applyRole(view);
    return;
  }
  location.hash = "#/calendar";
}

/** Stops the current view's timers, and any render still in flight (it is cleaned up when it lands). */
function stopView() {
  const seq = ++routeSeq;
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
  return seq;
}

function showLogin(message = "") {
  // Signed out, the view's refresh timers would keep calling the API with no key (a 401, the login again, each tick).
  stopView();
  session.caller = null;
  $("login-key").value = "";
  $("login").hidden = false;
  $("nav").hidden = true;
  replace($("who"));
  replace($("view"));
  $("login-error").textContent = message;
  $("login-key").focus();
}

async function signIn(key) {
  session.key = key;
  try {
    session.caller = await api("GET", "/whoami");
  } catch (err) {
    session.key = null;
    showLogin(err.status === 401 || err.status === 403 ? `This key was refused: ${err.message}` : err.message);
    return;
  }
  // The key is in sessionStorage now; it need not sit in the form as well.
  $("login-key").value = "";
  $("login").hidden = true;
  $("nav").hidden = false;
  replace(
    $("who"),
    h("span", { class: `role role-${session.caller.role}` }, session.caller.role),
    " ",
    h("span", { class: "actor" }, session.caller.actor),
    " ",
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
  );
  applyRole();
  await route();
}

function signOut() {
  session.key = null;
  showLogin();
}

window.addEventListener("console:signed-out", (e) => {
  session.key = null;
  showLogin(`Signed out: ${e.detail}`);
});
// Only "#/…" hashes are routes: an in-page anchor (the skip link's #main) must not send the user to the calendar.
window.addEventListener("hashchange", () => location.hash.startsWith("#/") && void route());
window.addEventListener("DOMContentLoaded", () => {
  document.querySelector("a.skip").addEventListener("click", (e) => {
    e.preventDefault();
    $("main").focus();
  });
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void signIn($("login-key").value.trim());
  });
  if (session.key) void signIn(session.key);
  else showLogin();
});
