// The page's side of the HTTP API in docs/api.md: the anonymous client token, JSON calls with the
// error shape {"error": {"code", "message"}}, the upload with progress, and live job status
// (Server-Sent Events read through fetch, since EventSource cannot send a bearer token).

import { lang } from "./i18n.js";

const TOKEN_KEY = "soundy.token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function storedToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

let token = storedToken();
let tokenPromise = null;

/** The client's bearer token; the first visit creates an anonymous client (POST /api/clients). */
export async function ensureToken() {
  if (token) return token;
  if (!tokenPromise) {
    tokenPromise = (async () => {
      const body = await request("POST", "/api/clients", {}, { auth: false });
      token = body.token;
      try {
        localStorage.setItem(TOKEN_KEY, token);
      } catch {
        // Private mode: the token lives as long as the page.
      }
      return token;
    })().finally(() => {
      tokenPromise = null;
    });
  }
  return tokenPromise;
}

function forgetToken() {
  token = null;
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing kept
  }
}

async function errorFrom(response) {
  let code = "http_" + response.status;
  let message = response.statusText || "HTTP " + response.status;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    } else if (body && body.detail) {
      message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    }
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(response.status, code, message);
}

// ---- quota: every answer that carries X-Quota-* headers updates it (docs/api.md) ----------

const quotaListeners = [];

/** onQuota(fn): fn({plan, limit, remaining, resetsAt}) whenever an answer carries the client's
 * quota headers; limit and remaining are null on an unlimited plan. */
export function onQuota(fn) {
  quotaListeners.push(fn);
}

function readQuota(response) {
  const plan = response.headers.get("X-Quota-Plan");
  if (!plan) return;
  const count = (name) => {
    const value = response.headers.get(name);
    return value === null || value === "unlimited" ? null : Number(value);
  };
  const quota = {
    plan,
    limit: count("X-Quota-Limit"),
    remaining: count("X-Quota-Remaining"),
    resetsAt: response.headers.get("X-Quota-Reset"),
  };
  for (const fn of quotaListeners) fn(quota);
}

/**
 * A JSON call. `auth: false` sends no token; a 401 on an authenticated call means the server
 * forgot this client (e.g. a new database): the page makes a new one once and repeats the call.
 */
export async function request(method, path, body, { auth = true, retried = false } = {}) {
  const headers = { Accept: "application/json", "Accept-Language": lang() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth) headers.Authorization = "Bearer " + (await ensureToken());
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && auth && !retried) {
    forgetToken();
    return request(method, path, body, { auth, retried: true });
  }
  readQuota(response);
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  return response.json();
}

export const getGenres = () => request("GET", "/api/genres", undefined, { auth: false });
/** GET /api/jobs/{id}; with `lang`, the result's suggestions are rendered in that language. */
export const getJob = (id, lang) =>
  request(
    "GET",
    "/api/jobs/" + encodeURIComponent(id) + (lang ? "?lang=" + encodeURIComponent(lang) : ""),
  );
export const listJobs = (params = "") => request("GET", "/api/jobs" + params);
export const analyze = (body) => request("POST", "/api/audio/analyze", body);
export const listSongs = () => request("GET", "/api/songs");
export const getSong = (song, lang) =>
  request(
    "GET",
    "/api/songs/" + encodeURIComponent(song) + (lang ? "?lang=" + encodeURIComponent(lang) : ""),
  );
export const listAlbums = () => request("GET", "/api/albums?limit=20");
export const createAlbum = (body) => request("POST", "/api/albums", body);
export const getAlbum = (id, lang) =>
  request(
    "GET",
    "/api/albums/" + encodeURIComponent(id) + (lang ? "?lang=" + encodeURIComponent(lang) : ""),
  );
/** The read-only link of a job (kind "jobs") or an album (kind "albums"): `get` gives the live
 * link ({token, url, ...}) or null, `create` makes (or returns) it, `revoke` ends it. */
export function shareLink(kind, id) {
  const path = "/api/" + kind + "/" + encodeURIComponent(id) + "/share";
  return {
    get: async () => (await request("GET", path)).link,
    create: () => request("POST", path),
    revoke: () => request("DELETE", path),
  };
}

/**
 * Upload `file`: ask for an upload URL, PUT the bytes there with XMLHttpRequest so that the
 * browser reports progress. onProgress(fraction 0..1). Resolves to the file_key.
 */
export async function upload(file, onProgress) {
  const grant = await request("POST", "/api/uploads", { filename: file.name, size: file.size });
  await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(grant.method || "PUT", grant.upload_url);
    for (const [name, value] of Object.entries(grant.headers || {})) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      let message = xhr.statusText || "HTTP " + xhr.status;
      try {
        const parsed = JSON.parse(xhr.responseText);
        if (parsed.error && parsed.error.message) message = parsed.error.message;
      } catch {
        // S3 answers XML: keep the status text
      }
      reject(new ApiError(xhr.status, "upload_failed", message));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "network error"));
    xhr.send(file);
  });
  return grant.file_key;
}

const TERMINAL = new Set(["completed", "failed"]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Parse an SSE byte stream; calls onEvent({event, data}) per event. Returns when it ends. */
async function readSse(response, onEvent, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message";
  let data = [];
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, cut);
      buffer = buffer.slice(cut + (buffer.startsWith("\r\n", cut) ? 2 : 1));
      if (line === "") {
        if (data.length) onEvent({ event, data: data.join("\n") });
        event = "message";
        data = [];
      } else if (line.startsWith(":")) {
        // comment / keep-alive
      } else {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "event") event = val;
        else if (field === "data") data.push(val);
      }
    }
  }
  reader.cancel().catch(() => {});
}

/**
 * Follow job `id` until it is completed or failed: live from GET /api/jobs/{id}/events, falling
 * back to polling GET /api/jobs/{id}. No timeout: it follows the job as long as the job lives.
 * onUpdate(partialJob) gets each status/progress/stage; resolves to the final full job.
 * onNetwork(bool) tells whether the server is currently unreachable.
 */
export async function followJob(id, onUpdate, { signal, onNetwork = () => {} } = {}) {
  const path = "/api/jobs/" + encodeURIComponent(id);
  let delayMs = 1000;
  let streamWorks = true;
  let streamFailures = 0;
  while (!signal?.aborted) {
    if (streamWorks) {
      try {
        const finished = await streamOnce(path, onUpdate, signal);
        streamFailures = 0;
        if (finished) break;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) throw error;
        // An HTTP error from the stream route, or a stream that keeps breaking while plain
        // requests work (a proxy that blocks SSE): poll from now on.
        streamFailures += 1;
        if (error instanceof ApiError || streamFailures >= 3) streamWorks = false;
      }
    }
    // The stream ended without an end state, or failed: look at the job itself.
    try {
      const job = await getJob(id);
      onNetwork(false);
      onUpdate(job);
      if (TERMINAL.has(job.status)) return job;
      delayMs = 1000;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw error;
      onNetwork(true);
      delayMs = Math.min(delayMs * 2, 10000);
    }
    await sleep(delayMs);
  }
  if (signal?.aborted) return null;
  return getJob(id);
}

async function streamOnce(path, onUpdate, signal) {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal?.addEventListener("abort", abort);
  try {
    const response = await fetch(path + "/events", {
      headers: {
        Accept: "text/event-stream",
        Authorization: "Bearer " + (await ensureToken()),
        "Accept-Language": lang(),
      },
      signal: controller.signal,
      cache: "no-store",
    });
    if (!response.ok) throw await errorFrom(response);
    let finished = false;
    await readSse(
      response,
      ({ data }) => {
        let parsed;
        try {
          parsed = JSON.parse(data);
        } catch {
          return;
        }
        const job = parsed; // each event is the job's state (GET /api/jobs/{id}/events)
        if (!job || typeof job !== "object") return;
        onUpdate(job);
        if (TERMINAL.has(job.status)) {
          finished = true;
          controller.abort();
        }
      },
      controller.signal,
    ).catch((error) => {
      if (!finished) throw error;
    });
    return finished;
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}
