// The operator dashboard: asks for SOUNDY_ADMIN_TOKEN (kept in sessionStorage only), then shows
// GET /api/admin/overview every few seconds and retries failed jobs.

import { dateTime, lang, languageSelect, num, setLang, t, translate } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "soundy.admin_token";
const REFRESH_MS = 5000;
let timer = null;
let lastOverview = null;

function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function setToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // no storage: the token is asked again on reload
  }
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function call(method, path) {
  const response = await fetch(path, {
    method,
    headers: { Accept: "application/json", Authorization: "Bearer " + (token() || "") },
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : response.statusText;
    throw new HttpError(response.status, message);
  }
  return body;
}

function showSignin(message) {
  if (timer) clearInterval(timer);
  timer = null;
  $("dashboard").hidden = true;
  $("signout").hidden = true;
  $("signin").hidden = false;
  const box = $("signin-error");
  box.textContent = message || "";
  box.hidden = !message;
  $("token").focus();
}

function count(label, value, cls = "") {
  const box = document.createElement("div");
  box.className = "count " + cls;
  const n = document.createElement("span");
  n.className = "n";
  n.textContent = value === null || value === undefined ? "—" : String(value);
  const k = document.createElement("span");
  k.className = "k";
  k.textContent = label;
  box.append(n, k);
  return box;
}

function table(headers, rows, className = "") {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  const tableEl = document.createElement("table");
  if (className) tableEl.className = className;
  const head = tableEl.createTHead().insertRow();
  for (const text of headers) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    head.append(th);
  }
  const body = tableEl.createTBody();
  for (const cells of rows) {
    const row = body.insertRow();
    for (const cell of cells) {
      const td = row.insertCell();
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell === null || cell === undefined ? "—" : String(cell);
    }
  }
  wrap.append(tableEl);
  return wrap;
}

function empty(text) {
  const p = document.createElement("p");
  p.className = "empty";
  p.textContent = text;
  return p;
}

function render(data) {
  lastOverview = data;
  const q = data.queue || {};
  $("counts").replaceChildren(
    ...["waiting", "active", "delayed", "completed", "failed"].map((key) => {
      const el = count(t("admin.count." + key), q[key], key);
      el.dataset.count = key;
      return el;
    }),
  );
  $("queue-error").textContent = q.error || "";
  $("queue-error").hidden = !q.error;
  const tp = data.throughput || {};
  $("throughput").replaceChildren(
    count(t("admin.last_minute"), tp.completed_last_minute),
    count(t("admin.last_hour"), tp.completed_last_hour),
    count(t("admin.failed_hour"), tp.failed_last_hour, "failed"),
    count(
      t("admin.median"),
      typeof tp.median_duration_s_last_hour === "number" ? num(tp.median_duration_s_last_hour, 1) + " s" : null,
    ),
  );
  const byStatus = tp.jobs_by_status || {};
  $("db-counts").replaceChildren(
    ...Object.entries(byStatus).map(([key, value]) => count(t("status." + key), value, key)),
  );
  const workers = (data.workers && data.workers.workers) || [];
  $("workers").replaceChildren(
    workers.length
      ? table(
          [t("admin.worker"), "addr", "age (s)", "idle (s)"],
          workers.map((w) => [w.name, w.addr, w.age_s, w.idle_s]),
        )
      : empty((data.workers && data.workers.error) || t("admin.workers.none")),
  );
  const failures = data.failures || [];
  $("failures").replaceChildren(
    failures.length
      ? table(
          [t("admin.when"), t("admin.job"), t("admin.reason"), t("admin.attempts"), ""],
          failures.map((f) => {
            const button = document.createElement("button");
            button.type = "button";
            button.className = "button secondary small";
            button.textContent = t("admin.retry");
            button.dataset.testid = "admin-retry";
            button.setAttribute("aria-label", `${t("admin.retry")}: ${f.filename}`);
            button.addEventListener("click", () => retry(f.id, button));
            const what = document.createElement("span");
            const name = document.createElement("strong");
            name.textContent = f.filename;
            const id = document.createElement("code");
            id.textContent = " " + f.id.slice(0, 8);
            what.append(name, id);
            const reason = document.createElement("span");
            reason.textContent = (f.error_code ? f.error_code + ": " : "") + (f.error_message || "");
            return [dateTime(f.finished_at || f.created_at), what, reason, f.attempts, button];
          }),
          "failures stack-sm",
        )
      : empty(t("admin.failures.none")),
  );
  $("updated").textContent = t("admin.updated", {
    time: new Date(data.generated_at || Date.now()).toLocaleTimeString(lang()),
  });
}

async function refresh() {
  try {
    render(await call("GET", "/api/admin/overview"));
    $("signin").hidden = true;
    $("dashboard").hidden = false;
    $("signout").hidden = false;
    return true;
  } catch (error) {
    if (error.status === 401) {
      setToken(null);
      showSignin(t("admin.refused"));
    } else if (error.status === 404) {
      setToken(null);
      showSignin(t("admin.disabled"));
    } else {
      $("updated").textContent = error.message;
    }
    return false;
  }
}

async function retry(id, button) {
  button.disabled = true;
  try {
    const body = await call("POST", `/api/admin/jobs/${encodeURIComponent(id)}/retry`);
    const note = $("retry-note");
    note.textContent = t("admin.retried", { id: body.job.id });
    note.hidden = false;
    await refresh();
  } catch (error) {
    const note = $("retry-note");
    note.textContent = error.message;
    note.hidden = false;
    button.disabled = false;
  }
}

async function start() {
  if (await refresh()) {
    if (timer) clearInterval(timer);
    timer = setInterval(refresh, REFRESH_MS);
  }
}

function setupLanguage() {
  languageSelect($("lang"), () => {
    translate();
    if (lastOverview) render(lastOverview);
  });
}

function main() {
  setLang(lang());
  translate();
  setupLanguage();
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) return;
    setToken(value);
    $("token").value = "";
    start();
  });
  $("signout").addEventListener("click", () => {
    setToken(null);
    showSignin("");
  });
  if (token()) start();
  else showSignin("");
}

main();
