// Small SVG charts drawn by the page itself (no library): a time-series line chart and a band
// chart with target ranges. Each chart redraws at its container's width, so text stays
// readable on a phone; each is an <svg role="img"> with a title and a text summary.

const NS = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceStep(span, count) {
  const raw = span / Math.max(count, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (raw <= m * power) return m * power;
  }
  return 10 * power;
}

function formatTime(seconds, minutes) {
  if (minutes) {
    const m = Math.floor(seconds / 60);
    const s = Math.round(seconds - m * 60);
    return m + ":" + String(s).padStart(2, "0");
  }
  return String(Math.round(seconds * 10) / 10);
}

/** A tick step in seconds that reads well as time: 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10 min… */
function timeStep(duration, count) {
  const raw = duration / Math.max(count, 1);
  for (const step of [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800]) {
    if (raw <= step) return step;
  }
  return niceStep(duration, count);
}

// Printing (and "Save as PDF") lays the page out at the paper's width without running resize
// callbacks first, so the charts would print scaled down from their screen width, text and
// all. While print media applies, every chart is drawn at PRINT_WIDTH_PX (an A4 or Letter
// page's text width at 96 px per inch) and the stylesheet fits it to the page.
const PRINT_WIDTH_PX = 660;
const printMedia = typeof matchMedia === "function" ? matchMedia("print") : null;
const drawn = new Set();

function redrawAll() {
  for (const render of drawn) render();
}
if (printMedia) {
  printMedia.addEventListener("change", redrawAll);
  window.addEventListener("beforeprint", redrawAll);
  window.addEventListener("afterprint", redrawAll);
}

/** Redraw `draw(width)` into `container` now and whenever its width changes (or printing
 * starts or ends). */
function responsive(container, draw) {
  let lastWidth = 0;
  const render = () => {
    if (!container.isConnected && lastWidth) {
      drawn.delete(render);
      return;
    }
    const printing = printMedia && printMedia.matches;
    const width = printing ? PRINT_WIDTH_PX : Math.max(280, Math.floor(container.clientWidth || 600));
    if (width === lastWidth) return;
    lastWidth = width;
    container.replaceChildren(draw(width));
  };
  render();
  drawn.add(render);
  if (typeof ResizeObserver !== "undefined") {
    const observer = new ResizeObserver(() => render());
    observer.observe(container);
  }
}

function legend(items) {
  const box = document.createElement("ul");
  box.className = "chart-legend";
  for (const item of items) {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch " + (item.kind || "line");
    swatch.style.setProperty("--swatch", item.color);
    if (item.dash) swatch.classList.add("dashed");
    li.append(swatch, document.createTextNode(item.label));
    box.append(li);
  }
  return box;
}

/**
 * A line chart over time.
 * opts: { title, summary, yLabel, yMin, yMax, floor (values below are drawn at it),
 *         series: [{label, values: (number|null)[], hop_s, color, width, dash}],
 *         lines: [{y, label, color, dash}], bands: [{from, to, color}] (shaded y ranges) }
 */
export function lineChart(container, opts) {
  const figure = document.createElement("div");
  figure.className = "chart-body";
  container.replaceChildren(figure);
  const legendItems = [
    ...opts.series.map((s) => ({ label: s.label, color: s.color, dash: s.dash })),
    ...(opts.lines || []).map((l) => ({ label: l.label, color: l.color, dash: true })),
  ];
  container.append(legend(legendItems));
  const duration = Math.max(
    1e-6,
    ...opts.series.map((s) => (s.values.length ? s.values.length * s.hop_s : 0)),
  );
  responsive(figure, (width) => {
    const height = width < 480 ? 200 : 240;
    const m = { top: 22, right: 12, bottom: 34, left: 44 };
    const w = width - m.left - m.right;
    const h = height - m.top - m.bottom;
    const { yMin, yMax } = opts;
    const x = (t) => m.left + (t / duration) * w;
    const y = (v) => m.top + (1 - (Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin)) * h;
    const svg = el("svg", {
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": opts.title + ". " + (opts.summary || ""),
      class: "chart-svg",
    });
    svg.append(el("title", {}, opts.title));
    for (const band of opts.bands || []) {
      svg.append(
        el("rect", {
          x: m.left,
          width: w,
          y: y(band.to),
          height: Math.max(0, y(band.from) - y(band.to)),
          fill: band.color,
        }),
      );
    }
    // y grid and labels
    const yStep = niceStep(yMax - yMin, height < 220 ? 4 : 5);
    for (let v = Math.ceil(yMin / yStep) * yStep; v <= yMax + 1e-9; v += yStep) {
      svg.append(el("line", { x1: m.left, x2: m.left + w, y1: y(v), y2: y(v), class: "grid" }));
      svg.append(
        el("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, +v.toFixed(2)),
      );
    }
    // x ticks
    const xStep = timeStep(duration, Math.max(2, Math.floor(w / 80)));
    const minutes = duration >= 90;
    for (let tt = 0; tt <= duration + 1e-9; tt += xStep) {
      svg.append(el("line", { x1: x(tt), x2: x(tt), y1: m.top + h, y2: m.top + h + 4, class: "axis" }));
      svg.append(
        el("text", { x: x(tt), y: m.top + h + 16, "text-anchor": "middle", class: "tick" }, formatTime(tt, minutes)),
      );
    }
    svg.append(
      el("text", { x: m.left + w, y: height - 3, "text-anchor": "end", class: "axis-label" }, opts.xLabel || ""),
    );
    svg.append(
      el("text", { x: 4, y: 12, class: "axis-label", "text-anchor": "start" }, opts.yLabel || ""),
    );
    svg.append(el("rect", { x: m.left, y: m.top, width: w, height: h, class: "frame" }));
    // series: one path, broken where a value is missing
    for (const s of opts.series) {
      let d = "";
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === null || v === undefined || !Number.isFinite(v)) {
          pen = false;
          return;
        }
        const value = opts.floor !== undefined ? Math.max(v, opts.floor) : v;
        const px = x((i + 0.5) * s.hop_s).toFixed(1);
        const py = y(value).toFixed(1);
        d += (pen ? "L" : "M") + px + " " + py;
        pen = true;
      });
      if (d) {
        svg.append(
          el("path", {
            d,
            fill: "none",
            stroke: s.color,
            "stroke-width": s.width || 1.5,
            "stroke-dasharray": s.dash ? "5 4" : undefined,
            "stroke-linejoin": "round",
          }),
        );
      }
    }
    for (const line of opts.lines || []) {
      svg.append(
        el("line", {
          x1: m.left,
          x2: m.left + w,
          y1: y(line.y),
          y2: y(line.y),
          stroke: line.color,
          "stroke-width": 1.5,
          "stroke-dasharray": "6 4",
        }),
      );
    }
    return svg;
  });
}

/**
 * Levels per band against target ranges.
 * opts: { title, summary, yLabel, bands: [{key, label, level, min, max, target, reference}],
 *         colors: {level, range, target, reference} }
 */
export function bandChart(container, opts) {
  const figure = document.createElement("div");
  figure.className = "chart-body";
  container.replaceChildren(figure);
  const hasRange = opts.bands.some((b) => b.min !== null && b.min !== undefined);
  const hasRef = opts.bands.some((b) => b.reference !== null && b.reference !== undefined);
  const items = [{ label: opts.labels.level, color: opts.colors.level, kind: "box" }];
  if (hasRange) items.push({ label: opts.labels.range, color: opts.colors.range, kind: "box" });
  if (hasRef) items.push({ label: opts.labels.reference, color: opts.colors.reference, kind: "box" });
  container.append(legend(items));
  const values = opts.bands
    .flatMap((b) => [b.level, b.min, b.max, b.target, b.reference])
    .filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  const step = 5;
  const yMax = values.length ? Math.ceil((Math.max(...values) + 2) / step) * step : 0;
  // At most `opts.spanDb` dB of range: a silent band (e.g. -120 dB) sits on the floor
  // instead of squashing the others.
  const lowest = values.length ? Math.floor((Math.min(...values) - 2) / step) * step : -40;
  const yMin = Math.max(lowest, yMax - (opts.spanDb || 60));
  responsive(figure, (width) => {
    const height = width < 480 ? 220 : 250;
    const m = { top: 22, right: 8, bottom: 40, left: 44 };
    const w = width - m.left - m.right;
    const h = height - m.top - m.bottom;
    const y = (v) => m.top + (1 - (Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin)) * h;
    const slot = w / opts.bands.length;
    const svg = el("svg", {
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": opts.title + ". " + (opts.summary || ""),
      class: "chart-svg",
    });
    svg.append(el("title", {}, opts.title));
    const yStep = niceStep(yMax - yMin, 5);
    for (let v = Math.ceil(yMin / yStep) * yStep; v <= yMax + 1e-9; v += yStep) {
      svg.append(el("line", { x1: m.left, x2: m.left + w, y1: y(v), y2: y(v), class: "grid" }));
      svg.append(
        el("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, +v.toFixed(1)),
      );
    }
    svg.append(el("text", { x: 4, y: 12, class: "axis-label" }, opts.yLabel || ""));
    const base = y(yMin);
    opts.bands.forEach((b, i) => {
      const cx = m.left + slot * (i + 0.5);
      const barW = Math.min(34, slot * (hasRef ? 0.32 : 0.5));
      if (b.min !== null && b.min !== undefined && b.max !== null && b.max !== undefined) {
        const rw = Math.min(slot * 0.86, barW * (hasRef ? 2.6 : 1.8));
        svg.append(
          el("rect", {
            x: cx - rw / 2,
            width: rw,
            y: y(b.max),
            height: Math.max(2, y(b.min) - y(b.max)),
            fill: opts.colors.range,
            rx: 2,
          }),
        );
      }
      if (b.target !== null && b.target !== undefined) {
        const rw = Math.min(slot * 0.86, barW * (hasRef ? 2.6 : 1.8));
        svg.append(
          el("line", {
            x1: cx - rw / 2,
            x2: cx + rw / 2,
            y1: y(b.target),
            y2: y(b.target),
            stroke: opts.colors.target,
            "stroke-width": 2,
            "stroke-dasharray": "4 3",
            "data-band": b.key,
            "data-target": b.target,
          }),
        );
      }
      const bars = hasRef
        ? [
            [b.level, cx - barW / 2 - 1, opts.colors.level],
            [b.reference, cx + barW / 2 + 1, opts.colors.reference],
          ]
        : [[b.level, cx, opts.colors.level]];
      for (const [value, bx, color] of bars) {
        if (value === null || value === undefined || !Number.isFinite(value)) continue;
        // A level marker (bar top) rather than a bar from an arbitrary floor: dB relative to
        // the total have no natural zero. A thin stem keeps the eye on the column.
        svg.append(el("rect", { x: bx - 1, width: 2, y: y(value), height: base - y(value), fill: color, opacity: 0.35 }));
        svg.append(el("rect", { x: bx - barW / 2, width: barW, y: y(value) - 3, height: 6, fill: color, rx: 2 }));
      }
      // Narrow columns (phones) get the short band name and the lower edge only.
      const narrow = slot < 78;
      svg.append(
        el("text", { x: cx, y: m.top + h + 16, "text-anchor": "middle", class: "tick" }, narrow ? b.short || b.label : b.label),
      );
      const hz = narrow ? b.lowHz : b.hz;
      if (hz) {
        svg.append(
          el("text", { x: cx, y: m.top + h + 30, "text-anchor": "middle", class: "tick small" }, hz),
        );
      }
    });
    svg.append(el("rect", { x: m.left, y: m.top, width: w, height: h, class: "frame" }));
    return svg;
  });
}

/**
 * A bar per item in order (e.g. an album's tracks by loudness), drawn up from `floor`.
 * opts: {title, summary, unit, floor, bars: [{label, value, highlight}], lines: [{label, value,
 *        color}], color, highlightColor}
 */
export function barChart(container, opts) {
  const figure = document.createElement("div");
  figure.className = "chart-body";
  container.replaceChildren(figure);
  container.append(
    legend([
      { label: opts.barLabel, color: opts.color, kind: "box" },
      ...(opts.highlightLabel ? [{ label: opts.highlightLabel, color: opts.highlightColor, kind: "box" }] : []),
      ...(opts.lines || []).map((l) => ({ label: l.label, color: l.color, dash: true })),
    ]),
  );
  const values = [...opts.bars.map((b) => b.value), ...(opts.lines || []).map((l) => l.value)].filter(
    (v) => typeof v === "number" && Number.isFinite(v),
  );
  const top = Math.ceil((Math.max(opts.floor + 1, ...values) + 1) / 2) * 2;
  const floor = Math.min(opts.floor, Math.floor(Math.min(...values, opts.floor) - 1));
  responsive(figure, (width) => {
    const height = width < 480 ? 220 : 260;
    const m = { top: 22, right: 12, bottom: 44, left: 44 };
    const w = width - m.left - m.right;
    const h = height - m.top - m.bottom;
    const y = (v) => m.top + (1 - (Math.min(Math.max(v, floor), top) - floor) / (top - floor)) * h;
    const slot = w / Math.max(1, opts.bars.length);
    const svg = el("svg", {
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": opts.title + ". " + (opts.summary || ""),
      class: "chart-svg",
    });
    svg.append(el("title", {}, opts.title));
    const step = niceStep(top - floor, height < 240 ? 4 : 5);
    for (let v = Math.ceil(floor / step) * step; v <= top + 1e-9; v += step) {
      svg.append(el("line", { x1: m.left, x2: m.left + w, y1: y(v), y2: y(v), class: "grid" }));
      svg.append(el("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, +v.toFixed(1)));
    }
    opts.bars.forEach((bar, i) => {
      const x = m.left + i * slot + slot * 0.15;
      const ok = typeof bar.value === "number" && Number.isFinite(bar.value);
      const group = el("g", { class: "bar", "data-index": i, "data-value": ok ? bar.value : "" });
      if (ok) {
        group.append(
          el("rect", {
            x,
            width: slot * 0.7,
            y: y(bar.value),
            height: Math.max(1, y(floor) - y(bar.value)),
            fill: bar.highlight ? opts.highlightColor : opts.color,
            rx: 3,
          }),
        );
        group.append(
          el("text", { x: x + slot * 0.35, y: y(bar.value) - 4, "text-anchor": "middle", class: "tick" }, bar.text || ""),
        );
      }
      const name = bar.label.length > 16 && slot < 140 ? bar.label.slice(0, 14) + "…" : bar.label;
      group.append(
        el("text", { x: x + slot * 0.35, y: m.top + h + 16, "text-anchor": "middle", class: "tick" }, `${i + 1}`),
      );
      group.append(
        el("text", { x: x + slot * 0.35, y: m.top + h + 30, "text-anchor": "middle", class: "tick small" }, name),
      );
      svg.append(group);
    });
    for (const line of opts.lines || []) {
      if (typeof line.value !== "number") continue;
      svg.append(
        el("line", {
          x1: m.left, x2: m.left + w, y1: y(line.value), y2: y(line.value),
          stroke: line.color, "stroke-width": 2, "stroke-dasharray": "6 4",
        }),
      );
    }
    svg.append(el("text", { x: 4, y: 12, class: "axis-label" }, opts.unit || ""));
    return svg;
  });
}
