// The producer's page: choose a file and targets, upload with progress, follow the job live,
// show the report; the history of earlier jobs; English / Brazilian Portuguese.

import * as api from "./api.js";
import { dateTime, lang, languageSelect, num, setLang, t, translate } from "./i18n.js";
import { renderAlbum } from "./album.js";
import { renderReport } from "./report.js";
import { versionsCard } from "./versions.js";

const $ = (id) => document.getElementById(id);
const NAMES_KEY = "soundy.names"; // job id -> file name, for history rows without a result
const REQUESTS_KEY = "soundy.requests"; // job id -> the analyze request, for "try again"

const state = {
  file: null,
  files: [], // every chosen file, in album order (more than one: an album)
  album: null, // the album shown
  genres: [],
  current: null, // the job shown in the report or progress area
  controller: null, // aborts following the current job
  lastRequest: null,
  historyCursor: null,
  historyJobs: [],
  quota: null, // {plan, limit, remaining, resetsAt} from the last answer's X-Quota-* headers
};

function loadMap(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "{}");
  } catch {
    return {};
  }
}

function remember(key, id, value) {
  const map = loadMap(key);
  map[id] = value;
  const ids = Object.keys(map);
  for (const old of ids.slice(0, Math.max(0, ids.length - 200))) delete map[old];
  try {
    localStorage.setItem(key, JSON.stringify(map));
  } catch {
    // storage full or disabled: the page still works, history just shows ids
  }
}

function announce(text) {
  $("live").textContent = text;
}

function showFormError(text) {
  const box = $("form-error");
  box.textContent = text || "";
  box.hidden = !text;
}

function reasonOf(error) {
  if (error instanceof api.ApiError) return error.message;
  return error && error.message ? error.message : String(error);
}

// ---- quota ---------------------------------------------------------------------------------

function renewalDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(lang(), { dateStyle: "long", timeZone: "UTC" }).format(d);
}

/** The analyses left this month, from the headers of the last answer (hidden when unlimited). */
function renderQuota() {
  const box = $("quota");
  const quota = state.quota;
  if (!quota || quota.limit === null) {
    box.hidden = true;
    return;
  }
  const params = {
    plan: quota.plan,
    remaining: quota.remaining,
    limit: quota.limit,
    date: renewalDate(quota.resetsAt),
  };
  box.textContent = t(quota.remaining > 0 ? "quota.left" : "quota.none", params);
  box.classList.toggle("quota-out", quota.remaining === 0);
  box.hidden = false;
}

/** Before uploading: whether the quota, as last seen, leaves `needed` analyses. */
function quotaAllows(needed = 1) {
  const quota = state.quota;
  if (!quota || quota.limit === null || quota.remaining >= needed) return true;
  showFormError(t("quota.none", { plan: quota.plan, date: renewalDate(quota.resetsAt) }));
  return false;
}

// ---- form ---------------------------------------------------------------------------------

function setFile(file) {
  setFiles(file ? [file] : []);
}

/** The chosen files; more than one is an album, in the order shown (↑/↓ move a track). */
function setFiles(files) {
  state.files = [...files];
  const file = state.files[0] || null;
  state.file = file;
  $("file-name").removeAttribute("data-i18n");
  if (state.files.length > 1) {
    $("file-name").textContent = t("form.album.count", { count: state.files.length });
  } else {
    $("file-name").textContent = file ? `${file.name} (${num(file.size / 1e6, 1)} MB)` : t("form.file.none");
  }
  if (file) showFormError("");
  const list = $("album-order");
  list.replaceChildren();
  $("album-files").hidden = state.files.length < 2;
  state.files.forEach((f, i) => {
    const item = document.createElement("li");
    item.dataset.testid = "album-file";
    const name = document.createElement("span");
    name.textContent = f.name;
    item.append(name);
    for (const [label, delta] of [["↑", -1], ["↓", 1]]) {
      const j = i + delta;
      if (j < 0 || j >= state.files.length) continue;
      const move = document.createElement("button");
      move.type = "button";
      move.className = "button secondary small";
      move.textContent = label;
      move.setAttribute("aria-label", t(delta < 0 ? "form.album.up" : "form.album.down", { name: f.name }));
      move.addEventListener("click", () => {
        const next = [...state.files];
        [next[i], next[j]] = [next[j], next[i]];
        setFiles(next);
      });
      item.append(move);
    }
    list.append(item);
  });
}

function setupDropzone() {
  const zone = $("dropzone");
  $("file").addEventListener("change", (event) => setFiles(event.target.files || []));
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  for (const name of ["dragleave", "dragend"]) {
    zone.addEventListener(name, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const files = event.dataTransfer ? [...event.dataTransfer.files] : [];
    if (files.length) setFiles(files);
  });
  // A file dropped elsewhere on the page should not navigate away from it.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
}

function refMode() {
  return document.querySelector('input[name="refmode"]:checked').value;
}

function setupReference() {
  for (const radio of document.querySelectorAll('input[name="refmode"]')) {
    radio.addEventListener("change", () => {
      $("ref-file-field").hidden = refMode() !== "file";
      $("ref-job-field").hidden = refMode() !== "job";
    });
  }
}

function fillGenres() {
  const select = $("genre");
  const chosen = select.value;
  select.replaceChildren();
  const none = document.createElement("option");
  none.value = "";
  none.textContent = t("form.genre.none");
  select.append(none);
  for (const g of state.genres) {
    const option = document.createElement("option");
    option.value = g.key;
    option.textContent = g.label || g.key;
    select.append(option);
  }
  if (chosen && state.genres.some((g) => g.key === chosen)) select.value = chosen;
  else if (state.genres.length && !state.genresChosen) select.value = state.genres[0].key;
}

async function loadGenres() {
  try {
    const body = await api.getGenres();
    const list = Array.isArray(body) ? body : body.genres || body.items || [];
    state.genres = list
      .map((g) => (typeof g === "string" ? { key: g, label: g } : g))
      .sort((a, b) => String(a.label || a.key).localeCompare(String(b.label || b.key), lang()));
  } catch {
    state.genres = [];
  }
  fillGenres();
}

function genreLabel(key) {
  const g = state.genres.find((x) => x.key === key);
  return g ? g.label || g.key : key;
}

// ---- progress -----------------------------------------------------------------------------

function showProgress(text, fraction, note = "") {
  $("progress").hidden = false;
  $("job-error").hidden = true;
  $("progress-text").textContent = text;
  const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  $("progress-bar").value = pct;
  $("progress-pct").textContent = pct + " %";
  $("progress-note").textContent = note;
}

function stageText(job) {
  const stage = job.stage || job.status || "pending";
  const key = "stage." + stage;
  const text = t(key);
  return text === key ? stage : text;
}

function showFailure(job) {
  $("progress").hidden = false;
  $("job-error").hidden = false;
  const message = (job.error && (job.error.message || job.error.code)) || t("stage.failed");
  $("job-error-message").textContent = message;
  $("progress-text").textContent = t("stage.failed");
  $("progress-note").textContent = "";
  announce(t("job.failed") + ": " + message);
  $("retry").focus();
}

async function follow(jobId, { label = null } = {}) {
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  let lastProgress = 0;
  const job = await api.followJob(
    jobId,
    (update) => {
      if (controller.signal.aborted) return;
      if (typeof update.progress === "number") lastProgress = update.progress;
      const text = label ? `${label}: ${stageText(update)}` : stageText(update);
      showProgress(text, lastProgress / 100);
    },
    {
      signal: controller.signal,
      onNetwork: (down) => {
        $("progress-note").textContent = down ? t("error.network") : "";
      },
    },
  );
  return controller.signal.aborted ? null : job;
}

// ---- analyse ------------------------------------------------------------------------------

async function uploadWithProgress(file, key) {
  showProgress(t(key, { name: file.name }), 0);
  $("progress").scrollIntoView({ behavior: "smooth", block: "nearest" });
  return api.upload(file, (fraction) => showProgress(t(key, { name: file.name }), fraction));
}

async function startJob(body, fileName) {
  const created = await api.analyze(body);
  const job = created.job || created;
  remember(NAMES_KEY, job.id, fileName);
  remember(REQUESTS_KEY, job.id, body);
  return job;
}

async function runAnalysis(body, fileName, referenceId) {
  state.lastRequest = { body, fileName };
  $("report").hidden = true;
  const job = await startJob(body, fileName);
  history.replaceState(null, "", "#job=" + job.id);
  showProgress(stageText(job), (job.progress || 0) / 100);
  const done = await follow(job.id);
  if (!done) return;
  await showJob(done, { referenceId });
  loadHistory(true);
  loadSongs();
}

async function onSubmit(event) {
  event.preventDefault();
  showFormError("");
  if (!state.file) {
    showFormError(t("form.need_file"));
    $("file").focus();
    return;
  }
  if (state.files.length > 1) {
    if (quotaAllows(state.files.length)) await onSubmitAlbum();
    return;
  }
  const mode = refMode();
  const refFile = $("ref-file").files[0] || null;
  const refJob = $("ref-job").value;
  if ((mode === "file" && !refFile) || (mode === "job" && !refJob)) {
    showFormError(t("form.need_reference"));
    return;
  }
  if (!quotaAllows(mode === "file" ? 2 : 1)) return;
  const button = $("analyze-form").querySelector('[data-testid="analyze"]');
  button.disabled = true;
  try {
    const genre = $("genre").value || null;
    const destination = $("destination").value || null;
    const stage = $("stage").value || "master";
    let referenceId = mode === "job" ? refJob : null;
    if (mode === "file") {
      const refKey = await uploadWithProgress(refFile, "progress.upload_reference");
      const refJobCreated = await startJob(
        { file_key: refKey, mode: "genre", genre, destination, stage, lang: lang() },
        refFile.name,
      );
      const refDone = await follow(refJobCreated.id, { label: t("progress.reference") });
      if (!refDone) return;
      if (refDone.status === "failed") {
        state.current = refDone;
        showFailure(refDone);
        return;
      }
      referenceId = refDone.id;
    }
    const fileKey = await uploadWithProgress(state.file, "progress.upload");
    const body = referenceId
      ? { file_key: fileKey, mode: "reference", genre, destination, stage, reference_job_id: referenceId, lang: lang() }
      : { file_key: fileKey, mode: "genre", genre, destination, stage, lang: lang() };
    const song = $("song").value.trim();
    if (song) body.song = song;
    if ($("codec-check").checked) body.codec_check = true;
    await runAnalysis(body, state.file.name, referenceId);
  } catch (error) {
    $("progress").hidden = true;
    // quota_exceeded: the server's message (in this page's language) says when it renews.
    showFormError(
      error instanceof api.ApiError && error.code === "quota_exceeded"
        ? error.message
        : error instanceof api.ApiError && error.code === "upload_failed"
          ? t("error.upload", { reason: reasonOf(error) })
          : t("error.generic", { reason: reasonOf(error) }),
    );
  } finally {
    button.disabled = false;
  }
}

// ---- album --------------------------------------------------------------------------------

/** Several files: upload and analyse each in turn (the per-client in-flight limit holds), then
 * read them as one album (POST /api/albums) and show the album report. */
async function onSubmitAlbum() {
  const button = $("analyze-form").querySelector('[data-testid="analyze"]');
  button.disabled = true;
  const files = [...state.files];
  const genre = $("genre").value || null;
  const destination = $("destination").value || null;
  const stage = $("stage").value || "master";
  try {
    $("report").hidden = true;
    $("album").hidden = true;
    const ids = [];
    for (const [i, file] of files.entries()) {
      const label = t("album.progress", { n: i + 1, total: files.length, name: file.name });
      const fileKey = await uploadWithProgress(file, "progress.upload");
      const body = { file_key: fileKey, mode: "genre", genre, destination, stage, lang: lang() };
      if ($("codec-check").checked) body.codec_check = true;
      const job = await startJob(body, file.name);
      const done = await follow(job.id, { label });
      if (!done) return;
      ids.push(done.id);
    }
    const album = await api.createAlbum({ job_ids: ids, lang: lang() });
    history.replaceState(null, "", "#album=" + album.id);
    await showAlbum(album);
    loadHistory(true);
    loadAlbums();
  } catch (error) {
    $("progress").hidden = true;
    showFormError(
      error instanceof api.ApiError && error.code === "upload_failed"
        ? t("error.upload", { reason: reasonOf(error) })
        : t("error.generic", { reason: reasonOf(error) }),
    );
  } finally {
    button.disabled = false;
  }
}

async function showAlbum(album) {
  state.album = album;
  state.current = null;
  $("progress").hidden = true;
  $("report").hidden = true;
  renderAlbum($("album"), album, { onOpen: (id) => openJob(id), actions: albumShare(album) });
  announce(t("album.title"));
  $("album").focus({ preventScroll: true });
  $("album").scrollIntoView({ behavior: "smooth", block: "start" });
}

async function openAlbum(id) {
  showFormError("");
  try {
    let album = await api.getAlbum(id, lang());
    // Reopened while a track still runs: follow it, then read the album again.
    for (const track of album.tracks) {
      if (track.status === "pending" || track.status === "processing") await follow(track.job_id);
    }
    if (album.status === "pending") album = await api.getAlbum(id, lang());
    history.replaceState(null, "", "#album=" + id);
    await showAlbum(album);
  } catch (error) {
    $("album").hidden = true;
    showFormError(
      error instanceof api.ApiError && error.status === 404
        ? t("error.not_found")
        : t("error.generic", { reason: reasonOf(error) }),
    );
  }
}

async function onRetry() {
  const saved = state.current ? loadMap(REQUESTS_KEY)[state.current.id] : null;
  const request = saved
    ? { body: saved, fileName: loadMap(NAMES_KEY)[state.current.id] || "" }
    : state.lastRequest;
  if (!request) {
    showFormError(t("job.retry_needs_file"));
    $("file").focus();
    return;
  }
  $("retry").disabled = true;
  try {
    await runAnalysis(request.body, request.fileName, request.body.reference_job_id || null);
  } catch (error) {
    $("job-error-message").textContent = t("error.generic", { reason: reasonOf(error) });
  } finally {
    $("retry").disabled = false;
  }
}

// ---- report -------------------------------------------------------------------------------

const referenceCache = new Map();

async function referenceResult(job, referenceId) {
  const id = referenceId || job.reference_job_id;
  if (!id) return null;
  if (!referenceCache.has(id)) {
    try {
      const ref = await api.getJob(id);
      referenceCache.set(id, ref.result || null);
    } catch {
      referenceCache.set(id, null);
    }
  }
  return referenceCache.get(id);
}

// ---- versions of a song -------------------------------------------------------------------

/** Under a job that is a version of a song: the song's versions as a history. */
async function showVersions(job) {
  if (!job.song) return;
  try {
    const history = await api.getSong(job.song, lang());
    if (state.current !== job) return; // another job was opened meanwhile
    $("report").append(versionsCard(history, job.id, { onOpen: (id) => openJob(id) }));
  } catch {
    // The report stands on its own without its history.
  }
}

async function loadAlbums() {
  try {
    const { albums } = await api.listAlbums();
    $("album-history").hidden = !albums.length;
    $("album-history-list").replaceChildren(
      ...albums.map((a) => {
        const item = document.createElement("li");
        const name = document.createElement("span");
        name.className = "job-name";
        name.textContent = a.name || t("album.untitled", { count: a.tracks });
        const when = document.createElement("span");
        when.className = "job-date";
        when.textContent = `${t("album.untitled", { count: a.tracks })} · ${dateTime(a.created_at)}`;
        const open = document.createElement("button");
        open.type = "button";
        open.className = "button secondary small";
        open.textContent = t("history.open");
        open.setAttribute("aria-label", `${t("history.open")}: ${name.textContent}`);
        open.addEventListener("click", () => openAlbum(a.id));
        const text = document.createElement("div");
        text.append(name, when);
        item.append(text, open);
        return item;
      }),
    );
  } catch {
    // The history is a convenience: the rest of the page works without it.
  }
}

async function loadSongs() {
  try {
    const { songs } = await api.listSongs();
    $("song-list").replaceChildren(
      ...songs.map((s) => {
        const option = document.createElement("option");
        option.value = s.song;
        return option;
      }),
    );
  } catch {
    // suggestions only
  }
}

// ---- share link ---------------------------------------------------------------------------

/** The owner's share controls for a completed job or album (`link`: api.shareLink): make a
 * read-only link, copy it, revoke it. */
function shareControls(link) {
  const box = document.createElement("div");
  box.className = "share";
  box.dataset.testid = "share";
  const status = document.createElement("p");
  status.className = "share-status";
  status.setAttribute("aria-live", "polite");
  const render = (live) => {
    const buttons = [];
    const button = (key, testid, onClick) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "button secondary small";
      b.dataset.testid = testid;
      b.textContent = t(key);
      b.addEventListener("click", onClick);
      buttons.push(b);
      return b;
    };
    button("share.print", "print", () => window.print());
    if (!live) {
      button("share.create", "share-create", async () => {
        try {
          render(await link.create());
          status.textContent = t("share.created");
        } catch (error) {
          status.textContent = t("error.generic", { reason: reasonOf(error) });
        }
      });
      box.replaceChildren(...buttons, status);
      return;
    }
    const field = document.createElement("input");
    field.type = "url";
    field.readOnly = true;
    field.value = live.url;
    field.className = "share-url";
    field.dataset.testid = "share-url";
    field.setAttribute("aria-label", t("share.link"));
    field.addEventListener("focus", () => field.select());
    button("share.copy", "share-copy", async () => {
      try {
        await navigator.clipboard.writeText(live.url);
        status.textContent = t("share.copied");
      } catch {
        field.select();
        status.textContent = t("share.copy_by_hand");
      }
    });
    button("share.revoke", "share-revoke", async () => {
      try {
        await link.revoke();
        render(null);
        status.textContent = t("share.revoked");
      } catch (error) {
        status.textContent = t("error.generic", { reason: reasonOf(error) });
      }
    });
    box.replaceChildren(field, ...buttons, status);
  };
  render(null);
  link.get().then(
    (found) => {
      if (found) render(found);
    },
    () => {}, // the controls still offer a new link
  );
  return box;
}

/** The share controls of an album that has its report (none while a track still runs). */
function albumShare(album) {
  return album.report ? shareControls(api.shareLink("albums", album.id)) : null;
}

async function showJob(job, { referenceId = null } = {}) {
  state.current = job;
  state.album = null;
  $("album").hidden = true;
  if (job.status === "failed") {
    $("report").hidden = true;
    showFailure(job);
    return;
  }
  if (job.status !== "completed") {
    showProgress(stageText(job), (job.progress || 0) / 100);
    const done = await follow(job.id);
    if (done) await showJob(done, { referenceId });
    return;
  }
  $("progress").hidden = true;
  const reference = await referenceResult(job, referenceId);
  state.currentReference = reference;
  renderReport($("report"), job, {
    reference,
    genreLabel: job.genre ? genreLabel(job.genre) : null,
    actions: shareControls(api.shareLink("jobs", job.id)),
  });
  await showVersions(job);
  announce(t("report.title"));
  $("report").focus({ preventScroll: true });
  $("report").scrollIntoView({ behavior: "smooth", block: "start" });
}

async function openJob(id) {
  showFormError("");
  try {
    const job = await api.getJob(id, lang());
    history.replaceState(null, "", "#job=" + id);
    await showJob(job);
  } catch (error) {
    $("report").hidden = true;
    if (error instanceof api.ApiError && error.status === 404) {
      showFormError(t("error.not_found"));
    } else {
      showFormError(t("error.generic", { reason: reasonOf(error) }));
    }
  }
}

// ---- history ------------------------------------------------------------------------------

function jobsFrom(body) {
  if (Array.isArray(body)) return { jobs: body, cursor: null };
  const jobs = body.jobs || body.items || [];
  const cursor = body.next_cursor || body.cursor || null;
  return { jobs, cursor };
}

function jobName(job) {
  return (
    (job.result && job.result.file && job.result.file.name) ||
    job.filename ||
    job.file_name ||
    loadMap(NAMES_KEY)[job.id] ||
    job.id.slice(0, 8)
  );
}

function renderHistory() {
  const box = $("history-list");
  const jobs = state.historyJobs;
  if (!jobs.length) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = t("history.empty");
    box.replaceChildren(p);
  } else {
    const table = document.createElement("table");
    table.className = "history";
    const head = table.createTHead().insertRow();
    for (const key of ["history.file", "history.status", ""]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = key ? t(key) : "";
      head.append(th);
    }
    const body = table.createTBody();
    for (const job of jobs) {
      const row = body.insertRow();
      row.dataset.jobId = job.id;
      const what = row.insertCell();
      const name = document.createElement("span");
      name.className = "job-name";
      name.textContent = jobName(job);
      const when = document.createElement("span");
      when.className = "job-date";
      when.textContent = dateTime(job.created_at);
      what.append(name, when);
      const status = row.insertCell();
      const badge = document.createElement("span");
      badge.className = "badge status-" + job.status;
      badge.textContent = t("status." + job.status);
      status.append(badge);
      const action = row.insertCell();
      const open = document.createElement("button");
      open.type = "button";
      open.className = "button secondary small";
      open.textContent = t("history.open");
      open.setAttribute("aria-label", `${t("history.open")}: ${jobName(job)}`);
      open.addEventListener("click", () => openJob(job.id));
      action.append(open);
    }
    const wrap = document.createElement("div");
    wrap.className = "table-wrap";
    wrap.append(table);
    box.replaceChildren(wrap);
  }
  $("history-more").hidden = !state.historyCursor;
  // Completed jobs can serve as references.
  const select = $("ref-job");
  const chosen = select.value;
  select.replaceChildren();
  const completed = jobs.filter((j) => j.status === "completed");
  if (!completed.length) {
    const option = document.createElement("option");
    option.value = "";
    option.textContent = t("form.reference.job.empty");
    select.append(option);
  }
  for (const job of completed) {
    const option = document.createElement("option");
    option.value = job.id;
    option.textContent = `${jobName(job)} — ${dateTime(job.created_at)}`;
    select.append(option);
  }
  if (chosen) select.value = chosen;
}

async function loadHistory(reset = false) {
  try {
    const params = new URLSearchParams({ limit: "20" });
    if (!reset && state.historyCursor) params.set("cursor", state.historyCursor);
    const { jobs, cursor } = jobsFrom(await api.listJobs("?" + params));
    state.historyJobs = reset ? jobs : [...state.historyJobs, ...jobs];
    state.historyCursor = cursor;
    renderHistory();
  } catch {
    // The history is a convenience: the rest of the page works without it.
  }
}

// ---- language -----------------------------------------------------------------------------

function setupLanguage() {
  languageSelect($("lang"), async () => {
    applyLanguage();
    if (state.album) {
      try {
        state.album = await api.getAlbum(state.album.id, lang());
      } catch {
        // keep the one we have
      }
      renderAlbum($("album"), state.album, {
        onOpen: (id) => openJob(id),
        actions: albumShare(state.album),
      });
      return;
    }
    // The API translates suggestions: fetch the shown job again in the new language.
    if (state.current && state.current.status === "completed") {
      try {
        const job = await api.getJob(state.current.id, lang());
        state.current = job;
      } catch {
        // keep the one we have
      }
      renderReport($("report"), state.current, {
        reference: state.currentReference || null,
        genreLabel: state.current.genre ? genreLabel(state.current.genre) : null,
        actions: shareControls(api.shareLink("jobs", state.current.id)),
      });
      await showVersions(state.current);
    }
  });
}

function applyLanguage() {
  translate();
  renderQuota();
  if (state.files.length) setFiles(state.files);
  fillGenres();
  renderHistory();
  loadAlbums();
}

// ---- start --------------------------------------------------------------------------------

async function main() {
  setLang(lang());
  translate();
  api.onQuota((quota) => {
    state.quota = quota;
    renderQuota();
  });
  setupLanguage();
  setupDropzone();
  setupReference();
  $("genre").addEventListener("change", () => {
    state.genresChosen = true;
  });
  $("analyze-form").addEventListener("submit", onSubmit);
  $("retry").addEventListener("click", onRetry);
  $("history-refresh").addEventListener("click", () => {
    loadHistory(true);
    loadAlbums();
  });
  $("history-more").addEventListener("click", () => loadHistory(false));
  renderHistory();
  await loadGenres();
  try {
    await api.ensureToken();
  } catch (error) {
    showFormError(t("error.generic", { reason: reasonOf(error) }));
    return;
  }
  await loadHistory(true);
  loadSongs();
  loadAlbums();
  const match = location.hash.match(/^#job=([\w-]+)$/);
  if (match) await openJob(match[1]);
  const albumMatch = location.hash.match(/^#album=([\w-]+)$/);
  if (albumMatch) await openAlbum(albumMatch[1]);
  // Back/forward or an edited address: show the job it names.
  window.addEventListener("hashchange", () => {
    const next = location.hash.match(/^#job=([\w-]+)$/);
    if (next && (!state.current || state.current.id !== next[1])) openJob(next[1]);
  });
}

main();
