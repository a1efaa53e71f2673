// The shared report (/r/{token}): the report of one job, read-only, without a client token.
// Its data is GET /api/shared/{token}; a wrong or revoked link says so.

import { lang, languageSelect, setLang, t, translate } from "./i18n.js";
import { renderReport } from "./report.js";

const $ = (id) => document.getElementById(id);
const token = decodeURIComponent(location.pathname.replace(/^\/r\//, "").replace(/\/$/, ""));

async function load() {
  const response = await fetch(
    "/api/shared/" + encodeURIComponent(token) + "?lang=" + encodeURIComponent(lang()),
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
    status.hidden = false;
    status.textContent = t("share.gone");
    status.dataset.i18n = "share.gone";
    return;
  }
  status.hidden = true;
  const job = body.job;
  const genreLabel = job.result?.targets?.label || job.genre;
  renderReport($("report"), job, { reference: body.reference, genreLabel, readOnly: true });
}

function main() {
  setLang(lang());
  translate();
  languageSelect($("lang"), () => {
    translate();
    show();
  });
  $("print").addEventListener("click", () => window.print());
  show();
}

main();
