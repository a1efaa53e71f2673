// The versions of a song (GET /api/songs/{song}): each version's score and whether it went up,
// and every measure of every version with what moved since the previous one.

import { dateTime, num, t } from "./i18n.js";
import { formatValue, h, metricLabel } from "./report.js";

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

function signed(value, unit) {
  if (!isNum(value)) return "";
  const text = formatValue(value, unit);
  return value > 0 && /[1-9]/.test(text) ? "+" + text : text;
}

function scoreCell(entry) {
  const up = entry.score_up;
  const arrow = up === true ? "▲" : up === false && isNum(entry.score_delta) && entry.score_delta <= -0.5 ? "▼" : "";
  const cls = up === true ? "score-up" : arrow ? "score-down" : "";
  return h(
    "td",
    { class: "num " + cls, "data-testid": "version-score" },
    isNum(entry.score) ? num(entry.score, 0) : "—",
    isNum(entry.score_delta) ? h("span", { class: "delta" }, ` ${arrow} ${signed(entry.score_delta, "")}`) : null,
  );
}

/** The versions card for `song` (the API's SongHistory); `currentId` is the job shown above. */
export function versionsCard(history, currentId, { onOpen = () => {} } = {}) {
  const versions = history.versions;
  const rows = versions.map(({ job, history: entry }) =>
    h(
      "tr",
      { "data-version": String(entry.version), class: job.id === currentId ? "current" : "" },
      h("th", { scope: "row", text: "v" + entry.version }),
      h("td", {}, h("span", { class: "job-name", text: job.filename }), h("span", { class: "job-date", text: dateTime(job.created_at) })),
      scoreCell(entry),
      h("td", { "data-testid": "version-summary", text: entry.summary || t("status." + job.status) }),
      h(
        "td",
        { class: "no-print" },
        job.id === currentId
          ? h("span", { class: "badge status-completed", text: t("versions.shown") })
          : h("button", { type: "button", class: "button secondary small", onclick: () => onOpen(job.id) }, t("history.open")),
      ),
    ),
  );
  // Every measure (rows) of every version (columns): the value and its move since the previous.
  const withResults = versions.filter((v) => v.history.changes.length);
  const metrics = withResults.length ? withResults[0].history.changes.map((c) => c.metric) : [];
  const matrix = metrics.map((metric) =>
    h(
      "tr",
      { "data-metric": metric },
      h("th", { scope: "row", text: metricLabel({ metric }) }),
      ...withResults.map(({ history: entry }) => {
        const change = entry.changes.find((c) => c.metric === metric);
        return h(
          "td",
          { class: "num" + (change.moved ? " moved" : ""), "data-version": String(entry.version) },
          formatValue(change.value, change.unit),
          isNum(change.delta) ? h("span", { class: "delta" }, " (" + signed(change.delta, change.unit) + ")") : null,
        );
      }),
    ),
  );
  return h(
    "section",
    { class: "card versions", "data-testid": "versions", "aria-labelledby": "versions-title" },
    h("h3", { id: "versions-title", text: t("versions.title", { song: history.song }) }),
    h("p", { class: "hint", text: t("versions.hint") }),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "history", "data-testid": "versions-list" },
        h("thead", {}, h("tr", {}, ...["", "history.file", "versions.score", "versions.what", ""].map((k) => h("th", { scope: "col", text: k ? t(k) : "" })))),
        h("tbody", {}, ...rows),
      ),
    ),
    metrics.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "versions-matrix", "data-testid": "versions-matrix" },
            h("caption", { text: t("versions.matrix") }),
            h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "" }), ...withResults.map(({ history: e }) => h("th", { scope: "col", class: "num", text: "v" + e.version })))),
            h("tbody", {}, ...matrix),
          ),
        )
      : null,
  );
}
