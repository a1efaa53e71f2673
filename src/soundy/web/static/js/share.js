// A shared report, read-only, without a client token: one job's (/r/{token}, data from
// GET /api/shared/{token}) or one album's (/r/albums/{token}, GET /api/shared/albums/{token}).
// A wrong or revoked link says so. `?lang=en|pt-BR` in the address picks the language (the
// link `soundy share create --lang` prints), as the language switch does.

import { renderAlbum } from "./album.js";
import { lang, languageSelect, setLang, t, translate } from "./i18n.js";
import { renderReport } from "./report.js";

const $ = (id) => document.getElementById(id);
const albumLink = location.pathname.startsWith("/r/albums/");
const token = decodeURIComponent(
  location.pathname.replace(albumLink ? /^\/r\/albums\// : /^\/r\//, "").replace(/\/$/, ""),
);

async function load() {
  const path = albumLink ? "/api/shared/albums/" : "/api/shared/";
  const response = await fetch(
    path + encodeURIComponent(token) + "?lang=" + encodeURIComponent(lang()),
    { headers: { Accept: "application/json" }, cache: "no-store" },
  );
  if (response.status === 404) return { missing: true };
  if (!response.ok) throw new Error("HTTP " + response.status);
  return response.json();
}

async function show() {
  const status = $("share-status");
  let body;
  try {
    body = await load();
  } catch (error) {
    status.removeAttribute("data-i18n");
    status.textContent = t("share.error", { reason: error.message });
    return;
  }
  if (body.missing) {
    $("report").hidden = true;
    $("album").hidden = true;
    status.hidden = false;
    status.textContent = t("share.gone");
    status.dataset.i18n = "share.gone";
    return;
  }
  status.hidden = true;
  if (albumLink) {
    renderAlbum($("album"), body, { readOnly: true });
    return;
  }
  const job = body.job;
  const genreLabel = job.result?.targets?.label || job.genre;
  renderReport($("report"), job, { reference: body.reference, genreLabel, readOnly: true });
}

function main() {
  setLang(new URLSearchParams(location.search).get("lang") || lang());
  translate();
  languageSelect($("lang"), () => {
    translate();
    show();
  });
  $("print").addEventListener("click", () => window.print());
  show();
}

main();
