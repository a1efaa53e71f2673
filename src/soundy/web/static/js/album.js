// The album report (several files analysed as one release): the track order as a loudness
// chart, each track against the album's median track, the outliers, and the album's playback
// gain against each track's own. It reads GET /api/albums/{id} (docs/api.md, docs/result.md).

import { barChart } from "./charts.js";
import { num, t } from "./i18n.js";
import { h } from "./report.js";

const MEASURES = [
  { key: "integrated_lufs", measure: "loudness", digits: 1, unit: "LU" },
  { key: "plr_db", measure: "plr", digits: 1, unit: "dB" },
  { key: "tilt_db_per_octave", measure: "tilt", digits: 2, unit: "dB/oct" },
  { key: "width", measure: "width", digits: 2, unit: "" },
];

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

function signed(value, digits = 1) {
  if (!isNum(value)) return "—";
  const text = num(value, digits);
  return /[1-9]/.test(text) && value > 0 ? "+" + text : text;
}

function loudnessChart(report) {
  const tracks = report.tracks;
  const median = report.album.median.integrated_lufs;
  const body = h("div", { class: "chart", "data-testid": "chart-album-loudness" });
  const card = h(
    "figure",
    { class: "card chart-card" },
    h("figcaption", {}, h("h3", { text: t("album.chart") })),
    h("p", { class: "hint", text: t("album.chart.hint") }),
    body,
  );
  const summary = tracks
    .map((tr) => `${tr.index + 1}. ${tr.name}: ${num(tr.values.integrated_lufs)} LUFS`)
    .join("; ");
  return {
    card,
    draw: () =>
      barChart(body, {
        title: t("album.chart"),
        summary,
        unit: "LUFS",
        floor: -24,
        color: "#1f5fd6",
        highlightColor: "#c2410c",
        barLabel: t("album.chart.track"),
        highlightLabel: t("album.chart.outlier"),
        bars: tracks.map((tr) => ({
          label: tr.name,
          value: tr.values.integrated_lufs,
          text: isNum(tr.values.integrated_lufs) ? num(tr.values.integrated_lufs) : "",
          highlight: tr.outliers.includes("loudness"),
        })),
        lines: [{ label: t("album.chart.median", { value: num(median) }), value: median, color: "#15803d" }],
      }),
  };
}

function tracksTable(report, album, onOpen) {
  // onOpen null (a shared album): no track opens, the reader has only the album's link.
  const head = h(
    "tr",
    {},
    h("th", { scope: "col", text: "#" }),
    h("th", { scope: "col", text: t("album.track") }),
    h("th", { scope: "col", class: "num", text: "LUFS" }),
    ...MEASURES.map((m) => h("th", { scope: "col", class: "num", text: t("album.dev." + m.measure) })),
    h("th", { scope: "col", class: "num", text: t("album.gain.alone") }),
    h("th", { scope: "col", class: "num", text: t("album.gain.album") }),
    h("th", { scope: "col", class: "num", text: t("album.gain.diff") }),
    h("th", { scope: "col", text: "" }),
  );
  const rows = report.tracks.map((tr) => {
    const spotify = tr.playback.find((p) => p.rule === "spotify") || {};
    const entry = album.tracks.find((x) => x.report_index === tr.index);
    const open = entry && onOpen
      ? h(
          "button",
          { type: "button", class: "button secondary small", onclick: () => onOpen(entry.job_id), "aria-label": `${t("history.open")}: ${tr.name}` },
          t("history.open"),
        )
      : null;
    return h(
      "tr",
      { "data-index": String(tr.index), class: tr.outliers.length ? "sev-row sev-warning" : "" },
      h("td", { text: String(tr.index + 1) }),
      h("th", { scope: "row", text: tr.name }),
      h("td", { class: "num", text: num(tr.values.integrated_lufs) }),
      ...MEASURES.map((m) =>
        h(
          "td",
          {
            class: "num" + (tr.outliers.includes(m.measure) ? " outlier" : ""),
            "data-measure": m.measure,
          },
          signed(tr.deviation[m.key], m.digits),
          tr.outliers.includes(m.measure) ? h("span", { class: "badge sev-warning", text: t("album.outlier") }) : null,
        ),
      ),
      h("td", { class: "num", text: signed(spotify.track_gain_db) }),
      h("td", { class: "num", text: signed(spotify.album_gain_db) }),
      h("td", { class: "num", "data-testid": "album-diff", text: signed(spotify.album_minus_track_db) }),
      h("td", { class: "no-print" }, open),
    );
  });
  const failed = album.tracks
    .filter((x) => x.report_index === null)
    .map((x) =>
      h("li", {}, t("album.failed", { position: x.position, name: x.filename || x.job_id, reason: (x.error && x.error.message) || t("stage.failed") })),
    );
  return h(
    "section",
    { class: "card" },
    h("h3", { text: t("album.tracks") }),
    h("p", { class: "hint", text: t("album.tracks.hint") }),
    h("div", { class: "table-wrap" }, h("table", { class: "album-tracks", "data-testid": "album-tracks" }, h("thead", {}, head), h("tbody", {}, ...rows))),
    failed.length ? h("ul", { class: "album-failed", "data-testid": "album-failed" }, ...failed) : null,
  );
}

/** Render the album (GET /api/albums/{id} with its report, or GET /api/shared/albums/{token})
 * into `container`. `onOpen(jobId)` opens a track's own report (null: the tracks do not open);
 * `actions`: an element shown in the head instead of the print button (the owner's share
 * controls, which print too); `readOnly`: neither (a shared page prints from its top bar). */
export function renderAlbum(container, album, { onOpen = null, actions = null, readOnly = false } = {}) {
  const report = album.report;
  if (!report) {
    container.replaceChildren(h("p", { class: "card", text: t("album.pending") }));
    container.hidden = false;
    return;
  }
  const a = report.album;
  const title = album.name || t("album.untitled", { count: a.tracks });
  const head = h(
    "section",
    { class: "card" },
    h("h2", { id: "album-title", text: t("album.title") + ": " + title }),
    h(
      "p",
      { class: "meta", "data-testid": "album-summary" },
      t("album.summary", {
        count: a.tracks,
        minutes: num(a.duration_s / 60, 1),
        lufs: num(a.integrated_lufs),
        spread: num(a.loudness_spread_lu),
        peak: num(a.true_peak_dbtp),
      }),
    ),
    readOnly
      ? null
      : actions
        ? h("div", { class: "report-actions no-print" }, actions)
        : h("button", { type: "button", class: "button secondary small no-print", "data-testid": "print", onclick: () => window.print() }, t("share.print")),
  );
  const chart = loudnessChart(report);
  const outliers = report.outliers.length
    ? h("ul", { class: "suggestions", "data-testid": "album-outliers" }, ...report.outliers.map((o) =>
        h("li", { class: "suggestion sev-warning", "data-index": String(o.index), "data-measure": o.measure }, o.message)))
    : h("p", { class: "empty", "data-testid": "album-outliers", text: t("album.no_outliers") });
  const playback = h(
    "ul",
    { class: "suggestions", "data-testid": "album-playback" },
    ...report.playback.map((p) =>
      h(
        "li",
        { class: "suggestion sev-info", "data-rule": p.rule },
        h("strong", { text: p.label + ": " }),
        p.message,
        h("span", { class: "numbers" }, " " + t("album.evidence." + p.evidence)),
      ),
    ),
  );
  container.replaceChildren(
    head,
    chart.card,
    tracksTable(report, album, onOpen),
    h("div", { class: "grid-2" },
      h("section", { class: "card" }, h("h3", { text: t("album.outliers") }), outliers),
      h("section", { class: "card" }, h("h3", { text: t("album.playback") }), playback)),
  );
  container.hidden = false;
  chart.draw();
}
