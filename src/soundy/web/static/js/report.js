// The report: score and parts, charts, suggestions, every metric against its target, the
// platform playback and codec check tables, and (reference mode) both tracks side by side.
// It reads the result JSON of docs/result.md (schema_version 1) plus the
// comparison keys (targets, score, suggestions, reference) and the measured playback and codec
// check.

import { bandChart, lineChart } from "./charts.js";
import { has, num, t } from "./i18n.js";

const COLORS = {
  momentary: "#8fb3ff",
  shortTerm: "#1f5fd6",
  target: "#c2410c",
  reference: "#7c3aed",
  level: "#1f5fd6",
  range: "rgba(22, 163, 74, 0.22)",
  rangeLine: "#15803d",
  correlation: "#0f766e",
  negative: "rgba(220, 38, 38, 0.10)",
};

const PART_KEYS = ["loudness", "peaks", "dynamics", "stereo", "tonal_balance"];
const BAND_ORDER = ["sub", "bass", "low_mid", "mid", "high_mid", "presence", "air"];

// Units shown after values, by the suffix of a metric key (docs/result.md: units are in the names).
const UNIT_BY_SUFFIX = [
  ["_lufs", "LUFS"],
  ["_lu", "LU"],
  ["_dbtp", "dBTP"],
  ["_dbfs", "dBFS"],
  ["_db_per_octave", "dB/oct"],
  ["_db", "dB"],
  ["_hz", "Hz"],
  ["_s", "s"],
];

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "style") Object.assign(node.style, value); // CSSOM: allowed by the CSP
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
/** The result's one range shape ({target, target_min, target_max}) as {target, min, max}. */
const rangeOf = (row) => ({ target: row.target, min: row.target_min, max: row.target_max });

function lastSegment(key) {
  return String(key).split(".").pop();
}

function unitOf(metric) {
  if (metric.unit) return metric.unit;
  const key = lastSegment(metric.metric || metric.key || "");
  for (const [suffix, unit] of UNIT_BY_SUFFIX) if (key.endsWith(suffix)) return unit;
  return "";
}

function digitsFor(unit, value) {
  if (unit === "Hz" || unit === "samples" || unit === "DR") return 0;
  if (Number.isInteger(value) && (Math.abs(value) >= 10 || unit === "")) return 0;
  if (unit === "" && Math.abs(value) <= 2) return 2;
  return 1;
}

/** A difference with its sign: "+1.5", "-0.3", "0.0" (no sign when it rounds to zero). */
function signed(value, unit, withUnit = false) {
  if (!isNum(value)) return "—";
  const text = withUnit ? formatValue(value, unit) : formatNumber(value, unit);
  return /^[0-9]/.test(text) && /[1-9]/.test(text) ? "+" + text : text;
}

/** The number alone, with the digits its unit calls for. */
function formatNumber(value, unit) {
  if (!isNum(value)) return "—";
  return num(value, digitsFor(unit, value));
}

export function formatValue(value, unit) {
  if (!isNum(value)) return value === null || value === undefined ? "—" : String(value);
  const text = num(value, digitsFor(unit, value));
  return unit ? text + " " + unit : text;
}

/** A metric's display name: the API's label, else the catalogue's, else the key made readable. */
export function metricLabel(metric) {
  const key = metric.metric || metric.key || "";
  if (key.startsWith("band.") || key.startsWith("spectrum.bands.")) {
    const band = lastSegment(key);
    if (has("band." + band)) return t("band." + band);
  }
  const last = lastSegment(key);
  if (has("metric." + last)) return t("metric." + last);
  if (metric.label) return metric.label;
  return last.replace(/_/g, " ");
}

function scoreClass(score) {
  if (!isNum(score)) return "score-none";
  // The same bands as the comparison's classification (good >= 75, fair >= 50).
  if (score >= 75) return "score-good";
  if (score >= 50) return "score-fair";
  return "score-poor";
}

function scoreRing(score) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 120 120");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("ring");
  const r = 52;
  const c = 2 * Math.PI * r;
  const bg = document.createElementNS(ns, "circle");
  Object.entries({ cx: 60, cy: 60, r, class: "ring-bg" }).forEach(([k, v]) => bg.setAttribute(k, v));
  const fg = document.createElementNS(ns, "circle");
  const frac = isNum(score) ? Math.max(0, Math.min(100, score)) / 100 : 0;
  Object.entries({
    cx: 60,
    cy: 60,
    r,
    class: "ring-fg",
    "stroke-dasharray": `${(c * frac).toFixed(1)} ${c.toFixed(1)}`,
    transform: "rotate(-90 60 60)",
  }).forEach(([k, v]) => fg.setAttribute(k, v));
  svg.append(bg, fg);
  return svg;
}

/** The metrics to tabulate: score.metrics when the comparison gives them, else the raw ones. */
function metricRows(result) {
  const listed = result.score && Array.isArray(result.score.metrics) ? result.score.metrics : null;
  if (listed && listed.length) return listed;
  const rows = [];
  const raw = {
    loudness: ["integrated_lufs", "range_lu", "momentary_max_lufs", "short_term_max_lufs"],
    peaks: ["true_peak_dbtp", "sample_peak_dbfs", "clipped_samples"],
    dynamics: ["plr_db", "crest_db", "dr"],
    stereo: ["correlation", "width", "balance_db", "mono_loss_lu"],
    spectrum: ["centroid_hz", "tilt_db_per_octave"],
  };
  for (const [section, keys] of Object.entries(raw)) {
    for (const key of keys) {
      const value = result[section] ? result[section][key] : undefined;
      if (value !== undefined) rows.push({ metric: `${section}.${key}`, value });
    }
  }
  return rows;
}

/** The target range of a metric key (e.g. "integrated_lufs"): score.metrics, else targets. */
function targetFor(result, key) {
  const rows = [...(result.score?.metrics || []), ...(result.targets?.metrics || [])];
  const row = rows.find((m) => lastSegment(m.metric) === key);
  return row ? rangeOf(row) : null;
}

/** Target range per band key: the one it is judged against (score.metrics, turned by the
 * track's tilt, as its suggestion quotes), else targets.bands. */
function bandTargets(result) {
  const out = Object.fromEntries((result.targets?.bands || []).map((b) => [b.key, rangeOf(b)]));
  for (const m of result.score?.metrics || []) {
    if (m.metric.startsWith("spectrum.bands.")) out[lastSegment(m.metric)] = rangeOf(m);
  }
  return out;
}

function fmtHz(hz) {
  if (!isNum(hz)) return "";
  return hz >= 1000 ? num(hz / 1000, hz % 1000 ? 1 : 0) + "k" : num(hz, 0);
}

function chartCard(name, title, note) {
  const body = h("div", { class: "chart", "data-testid": "chart-" + name });
  const card = h(
    "figure",
    { class: "card chart-card" },
    h("figcaption", {}, h("h3", { text: title })),
    note ? h("p", { class: "hint", text: note }) : null,
    body,
  );
  return { card, body };
}

function seriesSummary(values, unit) {
  const finite = values.filter(isNum);
  if (!finite.length) return t("chart.empty");
  return `min ${num(Math.min(...finite))} ${unit}, max ${num(Math.max(...finite))} ${unit}`;
}

function loudnessChart(result, reference) {
  const s = result.series || {};
  const hop = s.hop_s || 0.1;
  const momentary = s.momentary_lufs || [];
  const short = s.short_term_lufs || [];
  const { card, body } = chartCard("loudness", t("chart.loudness"));
  if (!momentary.length && !short.length) {
    body.append(h("p", { class: "empty", text: t("chart.empty") }));
    return card;
  }
  const target = targetFor(result, "integrated_lufs");
  const finite = [...momentary, ...short].filter(isNum);
  const top = Math.max(0, Math.ceil((Math.max(...finite, target?.target ?? -60) + 2) / 6) * 6);
  const series = [
    { label: t("chart.loudness.momentary"), values: momentary, hop_s: hop, color: COLORS.momentary, width: 1 },
    { label: t("chart.loudness.short_term"), values: short, hop_s: hop, color: COLORS.shortTerm, width: 2 },
  ];
  const rs = reference && reference.series;
  if (rs && rs.short_term_lufs && rs.short_term_lufs.length) {
    series.push({
      label: t("chart.loudness.reference"),
      values: rs.short_term_lufs,
      hop_s: rs.hop_s || hop,
      color: COLORS.reference,
      width: 1.5,
      dash: true,
    });
  }
  const lines = [];
  if (target && isNum(target.target)) {
    lines.push({ y: target.target, label: t("chart.loudness.target", { value: num(target.target) }), color: COLORS.target });
  }
  lineChart(body, {
    title: t("chart.loudness"),
    summary: seriesSummary(short.length ? short : momentary, "LUFS"),
    yLabel: "LUFS",
    xLabel: t("chart.time"),
    yMin: Math.min(top - 48, -42),
    yMax: top,
    floor: Math.min(top - 48, -42),
    series,
    lines,
  });
  return card;
}

function spectrumChart(result, reference) {
  const { card, body } = chartCard("spectrum", t("chart.spectrum"));
  const bands = (result.spectrum && result.spectrum.bands) || [];
  if (!bands.length) {
    body.append(h("p", { class: "empty", text: t("chart.empty") }));
    return card;
  }
  const targets = bandTargets(result);
  const refBands = {};
  for (const b of (reference && reference.spectrum && reference.spectrum.bands) || []) {
    refBands[b.key] = b.level_db;
  }
  const ordered = [...bands].sort(
    (a, b) => (BAND_ORDER.indexOf(a.key) + 99) % 99 - (BAND_ORDER.indexOf(b.key) + 99) % 99,
  );
  const rows = ordered.map((b) => ({
    key: b.key,
    label: has("band." + b.key) ? t("band." + b.key) : b.key,
    short: has("band.short." + b.key) ? t("band.short." + b.key) : b.key,
    hz: `${fmtHz(b.low_hz)}–${fmtHz(b.high_hz)}`,
    lowHz: fmtHz(b.low_hz),
    level: b.level_db,
    target: targets[b.key]?.target ?? null,
    min: targets[b.key]?.min ?? null,
    max: targets[b.key]?.max ?? null,
    reference: refBands[b.key] ?? null,
  }));
  bandChart(body, {
    title: t("chart.spectrum"),
    summary: rows.map((r) => `${r.label} ${num(r.level)} dB`).join(", "),
    yLabel: "dB",
    bands: rows,
    labels: {
      level: t("chart.spectrum.level"),
      range: t("chart.spectrum.target"),
      reference: t("chart.spectrum.reference"),
    },
    colors: { level: COLORS.level, range: COLORS.range, target: COLORS.rangeLine, reference: COLORS.reference },
  });
  return card;
}

function correlationChart(result, reference) {
  const { card, body } = chartCard("correlation", t("chart.correlation"));
  const s = result.series || {};
  const values = s.correlation || [];
  if (!values.length || !values.some(isNum)) {
    const mono = result.file && result.file.channels === 1;
    body.append(h("p", { class: "empty", text: mono ? t("chart.correlation.mono") : t("chart.empty") }));
    return card;
  }
  const hop = s.correlation_hop_s || s.hop_s || 0.1;
  const series = [{ label: t("chart.correlation.series"), values, hop_s: hop, color: COLORS.correlation, width: 1.5 }];
  const rs = reference && reference.series;
  if (rs && rs.correlation && rs.correlation.length) {
    series.push({
      label: t("chart.spectrum.reference"),
      values: rs.correlation,
      hop_s: rs.correlation_hop_s || rs.hop_s || hop,
      color: COLORS.reference,
      dash: true,
    });
  }
  lineChart(body, {
    title: t("chart.correlation"),
    summary: seriesSummary(values, ""),
    yLabel: "r",
    xLabel: t("chart.time"),
    yMin: -1,
    yMax: 1,
    series,
    bands: [{ from: -1, to: 0, color: COLORS.negative }],
  });
  return card;
}

function severityBadge(severity) {
  const sev = severity || "ok";
  return h("span", { class: "badge sev-" + sev, text: has("severity." + sev) ? t("severity." + sev) : sev });
}

/** "min … max unit", "≤ max", "≥ min" or the target; the unit only when `showUnit`. */
function targetText(m, unit, showUnit = true) {
  const { target, min, max } = rangeOf(m);
  const suffix = showUnit && unit ? " " + unit : "";
  if (isNum(min) && isNum(max)) return `${formatNumber(min, unit)} … ${formatNumber(max, unit)}${suffix}`;
  if (isNum(max) && !isNum(target)) return `≤ ${formatNumber(max, unit)}${suffix}`;
  if (isNum(min) && !isNum(target)) return `≥ ${formatNumber(min, unit)}${suffix}`;
  if (isNum(target)) return formatNumber(target, unit) + suffix;
  return "—";
}

function metricsTable(result) {
  const rows = metricRows(result);
  const body = h("tbody");
  for (const m of rows) {
    const unit = unitOf(m);
    const status = m.status || null;
    body.append(
      h(
        "tr",
        { class: "sev-row sev-" + (m.severity || "none"), "data-metric": m.metric },
        h("th", { scope: "row", text: metricLabel(m) }),
        h("td", { class: "num", text: formatValue(m.value, unit) }),
        h("td", { class: "num", text: targetText(m, unit, false) }),
        h(
          "td",
          {},
          m.severity ? severityBadge(m.severity) : null,
          status && has("mstatus." + status) ? h("span", { class: "status", text: " " + t("mstatus." + status) }) : null,
        ),
      ),
    );
  }
  return h(
    "section",
    { class: "card", "aria-labelledby": "metrics-title", "data-testid": "metrics" },
    h("h3", { id: "metrics-title", text: t("report.metrics") }),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "metrics" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col", text: t("report.metric") }),
            h("th", { scope: "col", class: "num", text: t("report.value") }),
            h("th", { scope: "col", class: "num", text: t("report.target") }),
            h("th", { scope: "col", text: t("report.status") }),
          ),
        ),
        body,
      ),
    ),
  );
}

function suggestionsCard(result) {
  const list = Array.isArray(result.suggestions) ? result.suggestions : [];
  const ul = h("ol", { class: "suggestions" });
  for (const s of list) {
    const unit = s.unit || unitOf(s);
    const numbers = [];
    if (isNum(s.current)) numbers.push(`${t("report.value")}: ${formatValue(s.current, unit)}`);
    if (isNum(s.target) || isNum(s.target_min) || isNum(s.target_max)) {
      numbers.push(`${t("report.target")}: ${targetText(s, unit)}`);
    }
    if (isNum(s.delta)) numbers.push(`Δ ${signed(s.delta, unit, true)}`);
    if (s.source) numbers.push(`${t("report.source")}: ${s.source}`);
    ul.append(
      h(
        "li",
        { class: "suggestion sev-" + (s.severity || "info"), "data-testid": "suggestion" },
        h("div", { class: "suggestion-head" }, severityBadge(s.severity), h("strong", { text: metricLabel(s) })),
        s.message ? h("p", { text: s.message }) : null,
        s.action ? h("p", { class: "action", text: "→ " + s.action }) : null,
        numbers.length ? h("p", { class: "numbers", text: numbers.join(" · ") }) : null,
      ),
    );
  }
  return h(
    "section",
    { class: "card", "aria-labelledby": "suggestions-title", "data-testid": "suggestions" },
    h("h3", { id: "suggestions-title", text: t("report.suggestions") }),
    list.length ? ul : h("p", { class: "empty", text: t("report.suggestions.none") }),
  );
}

function nearestCard(result) {
  const rows = Array.isArray(result.nearest_genres) ? result.nearest_genres : [];
  if (!rows.length) return null;
  const chosen = result.targets?.genre;
  const list = h("ol", { class: "nearest" });
  for (const n of rows) {
    list.append(
      h(
        "li",
        { "data-genre": n.genre, class: n.genre === chosen ? "chosen" : null },
        h("strong", { text: n.label }),
        ` ${formatNumber(n.distance_db, "dB")} dB`,
      ),
    );
  }
  return h(
    "section",
    { class: "card", "aria-labelledby": "nearest-title", "data-testid": "nearest-genres" },
    h("h3", { id: "nearest-title", text: t("report.nearest") }),
    h("p", { class: "hint", text: t("report.nearest.hint") }),
    list,
  );
}

function tableCard(testid, title, hint, headers, rows) {
  return h(
    "section",
    { class: "card", "aria-labelledby": testid + "-title", "data-testid": testid },
    h("h3", { id: testid + "-title", text: title }),
    h("p", { class: "hint", text: hint }),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h("tr", {}, ...headers.map(([text, cls]) => h("th", { scope: "col", class: cls || "", text }))),
        ),
        h("tbody", {}, ...rows),
      ),
    ),
  );
}

function limiterText(limiter) {
  if (!limiter) return "";
  if (!(limiter.active_fraction > 0)) return t("report.limiter.idle");
  return t("report.limiter.text", {
    fraction: num(limiter.active_fraction * 100, 0),
    max: num(limiter.max_reduction_db, 1),
    median: num(limiter.median_reduction_db, 1),
  });
}

/** Each platform and mode simulated on the track (result.playback, docs/result.md). */
function playbackCard(result) {
  const rows = Array.isArray(result.playback) ? result.playback : [];
  if (!rows.length) return null;
  const body = rows.map((r) =>
    h(
      "tr",
      { "data-platform": r.platform, "data-mode": r.mode },
      h("th", { scope: "row", text: r.platform }),
      h("td", { text: has("mode." + r.mode) ? t("mode." + r.mode) : r.mode }),
      h("td", {
        class: "num",
        text: isNum(r.target_lufs) ? formatNumber(r.target_lufs, "LUFS") : t("report.no_normalisation"),
      }),
      h("td", { class: "num " + (isNum(r.gain_db) && r.gain_db < 0 ? "neg" : "") }, signed(r.gain_db, "dB")),
      h("td", { class: "num", text: formatNumber(r.loudness_after_lufs, "LUFS") }),
      h("td", { class: "num", text: formatNumber(r.true_peak_after_dbtp, "dBTP") }),
      h("td", { "data-testid": "limiter", text: limiterText(r.limiter) }),
      h("td", { title: r.source || "", text: t("evidence." + r.evidence) }),
    ),
  );
  return tableCard("playback", t("report.playback"), t("report.playback.hint"), [
    [t("report.platform")],
    [t("report.mode")],
    [t("report.level") + " (LUFS)", "num"],
    [t("report.gain") + " (dB)", "num"],
    [t("report.loudness_after") + " (LUFS)", "num"],
    [t("report.tp_after") + " (dBTP)", "num"],
    [t("report.limiter")],
    [t("report.evidence")],
  ], body);
}

// How each codec of codec_check[].codec is written (soundy.compare.codec.CODEC_LABELS).
const CODEC_LABELS = { aac: "AAC", mp3: "MP3", opus: "Opus", vorbis: "Ogg Vorbis" };
const codecLabel = (codec) => CODEC_LABELS[codec] || String(codec);

/** The codec check (result.codec_check), when the analysis asked for it, and the deliveries it
 * could not encode (result.codec_check_skipped), each with what would check it. */
function codecCard(result) {
  const rows = Array.isArray(result.codec_check) ? result.codec_check : [];
  const skipped = Array.isArray(result.codec_check_skipped) ? result.codec_check_skipped : [];
  if (!rows.length && !skipped.length) return null;
  const body = rows.map((r) =>
    h(
      "tr",
      { "data-platform": r.platform, "data-codec": r.codec },
      h("th", { scope: "row", text: r.platform }),
      h("td", { text: `${codecLabel(r.codec)} ${r.bitrate_kbps} kbit/s` }),
      h(
        "td",
        { class: "num " + (isNum(r.true_peak_dbtp) && r.true_peak_dbtp > -1 ? "neg" : "") },
        signed(r.true_peak_dbtp, "dBTP"),
      ),
      h("td", { class: "num" }, signed(r.true_peak_change_db, "dB")),
      h("td", { class: "num " + (r.clipped_samples_after_gain > 0 ? "neg" : ""), text: num(r.clipped_samples_after_gain, 0) }),
      h("td", { class: "num" }, signed(r.loudness_change_lu, "LU")),
    ),
  );
  const card = tableCard("codec-results", t("report.codec"), t("report.codec.hint"), [
    [t("report.platform")],
    [t("report.codec.codec")],
    [t("report.codec.peak") + " (dBTP)", "num"],
    [t("report.codec.peak_change") + " (dB)", "num"],
    [t("report.codec.clipped"), "num"],
    [t("report.codec.loudness") + " (LU)", "num"],
  ], body);
  for (const s of skipped) {
    const params = {
      platform: s.platform,
      codec: codecLabel(s.codec),
      bitrate: s.bitrate_kbps,
      encoder: s.encoder,
      package: s.package,
      reason: s.reason,
    };
    card.append(
      h("p", {
        class: "hint codec-skipped",
        "data-testid": "codec-skipped",
        "data-codec": s.codec,
        text: t(s.package ? "report.codec.skipped" : "report.codec.skipped.reason", params),
      }),
    );
  }
  return card;
}

const SIDE_BY_SIDE = [
  ["loudness", "integrated_lufs"],
  ["loudness", "range_lu"],
  ["loudness", "short_term_max_lufs"],
  ["peaks", "true_peak_dbtp"],
  ["dynamics", "plr_db"],
  ["dynamics", "crest_db"],
  ["dynamics", "dr"],
  ["stereo", "correlation"],
  ["stereo", "width"],
  ["stereo", "mono_loss_lu"],
  ["spectrum", "centroid_hz"],
  ["spectrum", "tilt_db_per_octave"],
];

function referenceCard(result, reference) {
  const ref = result.reference || {};
  const refName = (reference && reference.file && reference.file.name) || ref.name || ref.file_name || "";
  const body = h("tbody");
  // Units go with the measure's name so the number columns stay narrow on a phone.
  const addRow = (label, a, b, unit) => {
    const diff = isNum(a) && isNum(b) ? a - b : null;
    body.append(
      h(
        "tr",
        {},
        h("th", { scope: "row", text: unit ? `${label} (${unit})` : label }),
        h("td", { class: "num", text: formatNumber(a, unit) }),
        h("td", { class: "num", text: formatNumber(b, unit) }),
        h("td", { class: "num", text: signed(diff, unit) }),
      ),
    );
  };
  if (reference) {
    for (const [section, key] of SIDE_BY_SIDE) {
      const a = result[section] ? result[section][key] : null;
      const b = reference[section] ? reference[section][key] : null;
      if (a === undefined && b === undefined) continue;
      addRow(metricLabel({ metric: key }), a, b, unitOf({ metric: key }));
    }
    const refBands = Object.fromEntries(((reference.spectrum || {}).bands || []).map((b) => [b.key, b.level_db]));
    for (const b of (result.spectrum || {}).bands || []) {
      addRow(has("band." + b.key) ? t("band." + b.key) : b.key, b.level_db, refBands[b.key] ?? null, "dB");
    }
  } else if (Array.isArray(ref.metrics)) {
    // No reference result at hand: the comparison's own per-metric differences.
    for (const m of ref.metrics) {
      addRow(metricLabel(m), m.current, m.reference, unitOf(m));
    }
  }
  const similarity = ref.similarity;
  return h(
    "section",
    { class: "card", "aria-labelledby": "ref-title", "data-testid": "reference" },
    h("h3", { id: "ref-title", text: t("report.reference") }),
    isNum(similarity) ? h("p", { class: "similarity", text: `${t("report.similarity")}: ${num(similarity, 0)}/100` }) : null,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col", text: t("report.metric") }),
            h("th", { scope: "col", class: "num", text: t("report.this_track") }),
            h(
              "th",
              { scope: "col", class: "num" },
              t("report.reference_track"),
              refName ? h("span", { class: "file-ref", text: refName }) : null,
            ),
            h("th", { scope: "col", class: "num", text: t("report.difference") }),
          ),
        ),
        body,
      ),
    ),
  );
}

function musicalText(musical) {
  if (!musical) return "";
  const parts = [];
  const pct = (x) => (isNum(x) ? ` (${Math.round(x * 100)} %)` : "");
  if (isNum(musical.tempo_bpm)) {
    // The half and double readings with their confidence (those at 0 % left out): an octave
    // slip shows as a doubt.
    const others = (musical.tempo_candidates || [])
      .filter((c) => c.relation !== "detected" && isNum(c.bpm) && c.confidence >= 0.005)
      .map((c) => `${num(c.bpm, 0)}${pct(c.confidence)}`);
    const alternatives = others.length ? `, ${t("report.tempo_or", { bpm: others.join(" / ") })}` : "";
    parts.push(`${num(musical.tempo_bpm, 0)} BPM${pct(musical.tempo_confidence)}${alternatives}`);
  }
  if (musical.key) {
    const relative = musical.key_relative ? ` (${t("report.key_relative", { key: musical.key_relative })})` : "";
    parts.push(`${t("report.key")}: ${musical.key}${relative}`);
  }
  return parts.join(" · ");
}

function durationText(seconds) {
  if (!isNum(seconds)) return "—";
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return m + ":" + String(s === 60 ? 59 : s).padStart(2, "0");
}

/**
 * Render `job` (with job.result) into `container`. `reference` is the reference track's result
 * when the job compared against one (fetched by the caller), else null. `actions`: an element
 * the caller adds under the title (the owner's share controls); the shared page has none.
 */
export function renderReport(container, job, { reference = null, genreLabel = null, actions = null } = {}) {
  const result = job.result || {};
  const file = result.file || {};
  const score = result.score || {};
  const overall = score.overall;
  const parts = score.parts || {};
  const context = [];
  if (reference || result.reference) {
    const refName = (reference && reference.file && reference.file.name) || "";
    context.push(t("report.vs_reference", { name: refName }));
  } else if (job.genre || result.targets?.genre) {
    context.push(t("report.vs_genre", { genre: genreLabel || result.targets?.label || job.genre || result.targets?.genre }));
  }
  const stage = result.targets?.stage || job.analysis_stage;
  if (stage && has("report.stage." + stage)) context.push(t("report.stage." + stage));
  const destination = job.destination || result.targets?.destination;
  if (destination) {
    const key = "form.destination." + destination;
    context.push(t("report.destination", { destination: has(key) ? t(key).split(" (")[0] : destination }));
  }
  const download = h("button", { type: "button", class: "button secondary small", "data-testid": "download" }, t("report.download"));
  download.addEventListener("click", () => {
    const blob = new Blob([JSON.stringify(result, null, 2)], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: `soundy-${(file.name || "result").replace(/[^\w.-]+/g, "_")}-${job.id}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });

  const partsList = h("ul", { class: "parts" });
  for (const key of [...PART_KEYS, ...Object.keys(parts).filter((k) => !PART_KEYS.includes(k))]) {
    if (!(key in parts)) continue;
    const value = parts[key];
    const label = has("report.part." + key) ? t("report.part." + key) : key;
    partsList.append(
      h(
        "li",
        { class: scoreClass(value) },
        h("span", { class: "part-label", text: label }),
        h(
          "span",
          { class: "part-bar", role: "meter", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": isNum(value) ? String(Math.round(value)) : "0" },
          h("span", { class: "part-fill", style: { width: `${isNum(value) ? Math.max(0, Math.min(100, value)) : 0}%` } }),
        ),
        h("span", { class: "part-value", text: isNum(value) ? num(value, 0) : "—" }),
      ),
    );
  }

  const head = h(
    "section",
    { class: "card report-head" },
    h(
      "div",
      { class: "report-title" },
      h("h2", { id: "report-title", text: t("report.title") + ": " + (file.name || job.id) }),
      h(
        "p",
        { class: "meta" },
        t("report.file", {
          format: String(file.format || "?").toUpperCase(),
          duration: durationText(file.duration_s),
          rate: isNum(file.sample_rate) ? file.sample_rate : "?",
          channels: isNum(file.channels) ? file.channels : "?",
        }),
      ),
      context.length ? h("p", { class: "meta", "data-testid": "context" }, context.join(" · ")) : null,
      musicalText(result.musical)
        ? h("p", { class: "meta", "data-testid": "musical", text: musicalText(result.musical) })
        : null,
      h("div", { class: "report-actions no-print" }, download, actions),
    ),
    isNum(overall)
      ? h(
          "div",
          { class: "score " + scoreClass(overall), "data-testid": "score" },
          scoreRing(overall),
          h(
            "div",
            { class: "score-text" },
            h("span", { class: "score-value", text: num(overall, 0) }),
            h("span", { class: "score-label", text: t("report.score") }),
          ),
          score.classification
            ? h("p", {
                class: "classification",
                text: has("class." + score.classification) ? t("class." + score.classification) : score.classification,
              })
            : null,
        )
      : null,
    partsList.childElementCount
      ? h("div", { class: "parts-box" }, h("h3", { text: t("report.parts") }), partsList)
      : null,
  );

  const charts = h(
    "div",
    { class: "charts", "aria-label": t("report.charts"), role: "group" },
  );
  container.replaceChildren(
    ...[
      head,
      reference || result.reference ? referenceCard(result, reference) : null,
      charts,
      h("div", { class: "grid-2" }, suggestionsCard(result), metricsTable(result)),
      nearestCard(result),
      playbackCard(result),
      codecCard(result),
    ].filter(Boolean),
  );
  // Charts measure their container: draw them after they are in the document.
  container.hidden = false;
  charts.replaceChildren(
    loudnessChart(result, reference),
    spectrumChart(result, reference),
    correlationChart(result, reference),
  );
}
