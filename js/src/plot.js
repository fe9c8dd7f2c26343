// Canvas figures for the book's explorers: heat maps with colour bars, line, stem and dot
// plots, bars, axes with ticks in physical units and titles. Small on purpose: an explorer redraws
// its whole figure on every change and must stay inside one frame (16 ms), so what a change
// leaves alone (a panel's decorations, a heat map's pixels) is kept and copied, not drawn again.
// A classic script (not a module), so that it also loads from file://. Defines window.MusicnnPlot.
(function () {
  "use strict";
  const FONT = "11px sans-serif";
  const TITLE_FONT = "12px sans-serif";
  const INK = "#222222";  // as the context reads it back
  const MARGIN = { left: 62, right: 10, top: 22, bottom: 34 };
  const BAR = { gap: 8, width: 12, labels: 52 };  // colour bar beside a heat map

  // Up to ~n round numbers (1, 2, 2.5, 5 x 10^k) between lo and hi, both included when round.
  function ticks(lo, hi, n = 5) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / Math.max(n, 1);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
    const out = [];
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return out;
  }

  // Python's format(x, ".{p}g"): p significant digits, trailing zeros dropped.
  function formatG(x, p = 3) {
    if (!Number.isFinite(x)) return String(x);
    if (x === 0) return "0";
    const exponent = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(p)))));
    if (exponent < -4 || exponent >= p) {
      const [mantissa, exp] = x.toExponential(p - 1).split("e");
      const m = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, "") : mantissa;
      const e = Number(exp);
      return `${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
    }
    const fixed = x.toFixed(Math.max(p - 1 - exponent, 0));
    return fixed.includes(".") ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
  }

  // Tick labels that each carry their whole value, with the digits it takes to tell
  // neighbours apart (the book's WholeTicks for matplotlib figures).
  function formatTicks(values) {
    if (!values.length) return [];
    const largest = Math.max(...values.map(Math.abs)) || 1;
    let step = 0;
    for (let i = 1; i < values.length; i++) step = i === 1 ? values[1] - values[0] : Math.min(step, values[i] - values[i - 1]);
    let digits = step > 0 ? Math.ceil(Math.log10(largest / step)) + 1 : 3;
    digits = Math.max(digits, Math.floor(Math.log10(largest)) + 1, 1);
    return values.map((v) => formatG(v + 0, digits));
  }

  // A canvas sized in CSS pixels and drawn at the screen's resolution.
  function setup(canvas, width, height) {
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    return ctx;
  }

  // The plotting rectangle of a panel occupying `box`, leaving room for labels (and a colour bar).
  function inner(box, withBar) {
    const right = MARGIN.right + (withBar ? BAR.gap + BAR.width + BAR.labels : 0);
    return { x: box.x + MARGIN.left, y: box.y + MARGIN.top, w: box.w - MARGIN.left - right,
             h: box.h - MARGIN.top - MARGIN.bottom };
  }

  function text(ctx, s, x, y, align = "center", baseline = "middle", font = FONT, angle = 0) {
    if (s.includes("\n")) {  // lines centred on y, 12 px apart
      const parts = s.split("\n");
      parts.forEach((line, i) => text(ctx, line, x, y + (i - (parts.length - 1) / 2) * 12, align, baseline, font, angle));
      return;
    }
    // the state is set as it is needed, not saved and restored: a figure has ~100 labels
    if (ctx.font !== font) ctx.font = font;
    if (ctx.fillStyle !== INK) ctx.fillStyle = INK;
    ctx.textAlign = align;
    ctx.textBaseline = baseline;
    if (!angle) { ctx.fillText(s, x, y); return; }
    ctx.save();
    ctx.translate(x, y);
    ctx.rotate(angle);
    ctx.fillText(s, 0, 0);
    ctx.restore();
  }

  // The data -> canvas maps of a rectangle r whose data limits are xlim and ylim.
  function scales(r, o) {
    const sx = (v) => r.x + ((v - o.xlim[0]) / (o.xlim[1] - o.xlim[0])) * r.w;
    const sy = (v) => r.y + r.h - ((v - o.ylim[0]) / (o.ylim[1] - o.ylim[0])) * r.h;
    return { sx, sy };
  }

  // Frame, ticks, tick labels and axis labels of a rectangle r whose data limits are xlim and
  // ylim (the title is drawn apart: see panel). yticks may be given as [[value, label], ...].
  function axes(ctx, r, o) {
    const { sx, sy } = scales(r, o);
    ctx.strokeStyle = INK;
    ctx.lineWidth = 1;
    ctx.strokeRect(Math.round(r.x) + 0.5, Math.round(r.y) + 0.5, Math.round(r.w), Math.round(r.h));
    const xt = o.xticks || ticks(o.xlim[0], o.xlim[1], Math.max(2, Math.floor(r.w / 60))).map((v) => [v]);
    const xl = o.xticks ? xt.map((t) => t[1]) : formatTicks(xt.map((t) => t[0]));
    xt.forEach(([v], i) => {
      const x = Math.round(sx(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, r.y + r.h); ctx.lineTo(x, r.y + r.h + 4); ctx.stroke();
      text(ctx, xl[i], x, r.y + r.h + 6, "center", "top");
    });
    const lo = Math.min(...o.ylim), hi = Math.max(...o.ylim);
    const yt = o.yticks || ticks(lo, hi, Math.max(2, Math.floor(r.h / 35))).map((v) => [v]);
    const yl = o.yticks ? yt.map((t) => t[1]) : formatTicks(yt.map((t) => t[0]));
    yt.forEach(([v], i) => {
      const y = Math.round(sy(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(r.x - 4, y); ctx.lineTo(r.x, y); ctx.stroke();
      text(ctx, yl[i], r.x - 6, y, "right", "middle", o.ytickFont || FONT);
    });
    if (o.xlabel) text(ctx, o.xlabel, r.x + r.w / 2, r.y + r.h + 20, "center", "top");
    if (o.ylabel) text(ctx, o.ylabel, r.x - MARGIN.left + 2, r.y + r.h / 2, "center", "top", FONT, -Math.PI / 2);
  }

  // A panel's decorations (frame, ticks, labels, colour bar: some 30 labels, the costliest part
  // of a redraw) are drawn once on a transparent layer and copied while `key` (everything
  // they show) stays the same: a change of segment or model mostly leaves them as they were.
  // The layer spans the panel's box, and up to LEFT px to its left when its y tick labels are
  // words (they may reach there), on whole CSS pixels, so that a copy puts every pixel where
  // drawing it would. Only its margins are copied, around the plotting rectangle r (inside its
  // frame, which the layer holds, it is empty): blending costs by the pixel.
  const LEFT = 120;
  const layers = new WeakMap();  // figure canvas -> Map "x,y" -> {canvas, key}

  function decorate(ctx, box, r, wide, key, paint) {
    if (!layers.has(ctx.canvas)) layers.set(ctx.canvas, new Map());
    const slots = layers.get(ctx.canvas), place = `${box.x},${box.y}`;
    const ratio = window.devicePixelRatio || 1;
    const x0 = Math.floor(box.x) - (wide ? Math.min(LEFT, Math.max(0, Math.floor(box.x))) : 0), y0 = Math.floor(box.y);
    const x1 = Math.ceil(box.x + box.w), y1 = Math.ceil(box.y + box.h);
    let l = slots.get(place);
    if (!l) slots.set(place, (l = { canvas: document.createElement("canvas"), key: null }));
    if (l.key !== key) {
      const c = l.canvas, lctx = c.getContext("2d");
      if (c.width !== Math.round((x1 - x0) * ratio) || c.height !== Math.round((y1 - y0) * ratio)) {
        c.width = Math.round((x1 - x0) * ratio); c.height = Math.round((y1 - y0) * ratio);
      } else {
        lctx.setTransform(1, 0, 0, 1, 0, 0);
        lctx.clearRect(0, 0, c.width, c.height);
      }
      lctx.setTransform(ratio, 0, 0, ratio, -x0 * ratio, -y0 * ratio);
      paint(lctx);
      l.key = key;
    }
    // the empty inside of the frame: [hx0, hx1) x [hy0, hy1)
    const hx0 = Math.round(r.x) + 2, hy0 = Math.round(r.y) + 2, hx1 = Math.round(r.x) + Math.round(r.w) - 1, hy1 = Math.round(r.y) + Math.round(r.h) - 1;
    const copy = (ax, ay, bx, by) => {
      if (bx > ax && by > ay) ctx.drawImage(l.canvas, (ax - x0) * ratio, (ay - y0) * ratio, (bx - ax) * ratio, (by - ay) * ratio, ax, ay, bx - ax, by - ay);
    };
    copy(x0, y0, x1, hy0);  // above, below, left, right of the inside
    copy(x0, hy1, x1, y1);
    copy(x0, hy0, hx0, hy1);
    copy(hx1, hy0, x1, hy1);
  }

  // An id per colour map (lookup table), for the layers' keys.
  const lutIds = new WeakMap();
  let lutCount = 0;
  function lutId(lut) {
    if (!lutIds.has(lut)) lutIds.set(lut, lutCount++);
    return lutIds.get(lut);
  }

  // What a panel's axes show, as a string (see decorate).
  function axesKey(box, o, extra) {
    return JSON.stringify([box.x, box.y, box.w, box.h, o.xlim, o.ylim, o.xticks, o.yticks, o.xlabel, o.ylabel, o.ytickFont, extra]);
  }

  // A panel's axes (from their layer: see decorate; `more` draws what else the layer holds,
  // `extra` what else it shows, for its key) and its title; returns its data -> canvas maps.
  function panel(ctx, box, r, o, extra = null, more = null) {
    decorate(ctx, box, r, !!o.yticks, axesKey(box, o, extra), (lctx) => { axes(lctx, r, o); if (more) more(lctx); });
    if (o.title) text(ctx, o.title, r.x + r.w / 2, r.y - 6, "center", "bottom", TITLE_FONT);
    return scales(r, o);
  }

  // Colour of value v in a 256-entry RGB lookup table (flat array) scaled to [vmin, vmax].
  function lutIndex(v, vmin, vmax) {
    const t = vmax > vmin ? (v - vmin) / (vmax - vmin) : 0;
    return t <= 0 ? 0 : t >= 1 ? 255 : Math.min(255, Math.floor(t * 256));
  }

  const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  const packedLuts = new WeakMap();  // lut (256 x rgb) -> Uint32Array of 256 opaque pixels

  function packed(lut) {
    let out = packedLuts.get(lut);
    if (!out) {
      out = new Uint32Array(256);
      for (let i = 0; i < 256; i++) {
        const [r, g, b] = [lut[3 * i], lut[3 * i + 1], lut[3 * i + 2]];
        out[i] = LITTLE ? (255 << 24 | b << 16 | g << 8 | r) >>> 0 : (r << 24 | g << 16 | b << 8 | 255) >>> 0;
      }
      packedLuts.set(lut, out);
    }
    return out;
  }

  // A heat map's pixels (row 0 at the bottom) on a canvas the size of the data, one per panel
  // (figure canvas and place in it). They are kept while the panel's data and colours stay the
  // same, so a view that changes only other panels redraws this one with one drawImage; a new
  // view recolours the panel's canvas and image in place, as creating them costs more than
  // colouring their pixels.
  const panels = new WeakMap();  // figure canvas -> Map "x,y" -> {canvas, image, px, and what they show}

  function pixels(ctx, box, o) {
    if (!panels.has(ctx.canvas)) panels.set(ctx.canvas, new Map());
    const slots = panels.get(ctx.canvas), place = `${box.x},${box.y}`;
    let p = slots.get(place);
    if (p && p.data === o.data && p.vmin === o.vmin && p.vmax === o.vmax && p.lut === o.lut && p.rows === o.rows && p.cols === o.cols) return p.canvas;
    if (!p || p.rows !== o.rows || p.cols !== o.cols) {
      const canvas = p ? p.canvas : document.createElement("canvas");
      canvas.width = o.cols; canvas.height = o.rows;
      const image = canvas.getContext("2d").createImageData(o.cols, o.rows);
      p = { canvas, image, px: new Uint32Array(image.data.buffer) };
      slots.set(place, p);
    }
    // all in locals: the options' objects come in many shapes, and reading their fields in
    // the loop (megamorphic loads) took most of its time
    const px = p.px, lut = packed(o.lut), d = o.data, rows = o.rows, cols = o.cols;
    const lo = o.vmin, k = o.vmax > o.vmin ? 256 / (o.vmax - o.vmin) : 0;
    for (let row = 0; row < rows; row++) {
      const out = (rows - 1 - row) * cols, src = row * cols;
      for (let c = 0; c < cols; c++) {
        const v = d[src + c];
        if (v !== v) { px[out + c] = 0; continue; }  // NaN: transparent
        const j = (v - lo) * k;  // lutIndex, inlined
        px[out + c] = lut[j <= 0 ? 0 : j >= 255 ? 255 : j | 0];
      }
    }
    p.canvas.getContext("2d").putImageData(p.image, 0, 0);
    Object.assign(p, { data: o.data, vmin: o.vmin, vmax: o.vmax, lut: o.lut, rows: o.rows, cols: o.cols });
    return p.canvas;
  }

  function heatmap(ctx, box, o) {
    const r = inner(box, true);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(pixels(ctx, box, o), r.x, r.y, r.w, r.h);
    const [x0, x1, y0, y1] = o.extent;
    const a = { xlim: [x0, x1], ylim: [y0, y1], title: o.title, xlabel: o.xlabel, ylabel: o.ylabel, yticks: o.yticks,
                xticks: o.xticks, ytickFont: o.ytickFont };
    const s = panel(ctx, box, r, a, [o.vmin, o.vmax, lutId(o.lut), o.barLabel],
                    (lctx) => colorbar(lctx, { x: r.x + r.w + BAR.gap, y: r.y, w: BAR.width, h: r.h }, o));
    return { rect: r, ...s };
  }

  // A colour map as a 1 x 256 canvas, top = the largest value, once per map.
  const strips = new WeakMap();

  function strip(lut) {
    if (!strips.has(lut)) {
      const canvas = document.createElement("canvas");
      canvas.width = 1; canvas.height = 256;
      const bctx = canvas.getContext("2d"), image = bctx.createImageData(1, 256);
      new Uint32Array(image.data.buffer).set(packed(lut).slice().reverse());
      bctx.putImageData(image, 0, 0);
      strips.set(lut, canvas);
    }
    return strips.get(lut);
  }

  function colorbar(ctx, b, o) {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(strip(o.lut), b.x, b.y, b.w, b.h);
    ctx.strokeStyle = INK;
    ctx.strokeRect(Math.round(b.x) + 0.5, Math.round(b.y) + 0.5, Math.round(b.w), Math.round(b.h));
    const values = ticks(o.vmin, o.vmax, Math.max(2, Math.floor(b.h / 35)));
    const labels = formatTicks(values);
    values.forEach((v, i) => {
      const y = Math.round(b.y + b.h - ((v - o.vmin) / (o.vmax - o.vmin)) * b.h) + 0.5;
      ctx.beginPath(); ctx.moveTo(b.x + b.w, y); ctx.lineTo(b.x + b.w + 3, y); ctx.stroke();
      text(ctx, labels[i], b.x + b.w + 5, y, "left", "middle");
    });
    if (o.barLabel) text(ctx, o.barLabel, b.x + b.w + BAR.labels + 4, b.y + b.h / 2, "center", "bottom", FONT, -Math.PI / 2);
  }

  // Lines, stems or dots over shared axes. o: series [{x, y, color, kind, label, dash}],
  // xlim, ylim, title, xlabel, ylabel, yticks, zero (a grey line at 0), legend, flip (x <-> y)
  function lines(ctx, box, o) {
    const r = inner(box, false);
    const s = panel(ctx, box, r, o);
    if (o.zero) zero(ctx, r, s, o.flip);
    ctx.save();
    ctx.beginPath(); ctx.rect(r.x, r.y, r.w, r.h); ctx.clip();
    for (const line of o.series) {
      const X = (i) => (o.flip ? s.sx(line.y[i]) : s.sx(line.x[i]));
      const Y = (i) => (o.flip ? s.sy(line.x[i]) : s.sy(line.y[i]));
      ctx.strokeStyle = ctx.fillStyle = line.color || "#1f77b4";
      ctx.lineWidth = line.width || 1;
      ctx.setLineDash(line.dash || []);
      if (line.kind === "dots" || line.kind === "stem") {
        if (line.kind === "stem") {
          ctx.beginPath();
          for (let i = 0; i < line.y.length; i++) { ctx.moveTo(X(i), s.sy(0)); ctx.lineTo(X(i), Y(i)); }
          ctx.stroke();
        }
        ctx.beginPath();  // the dots as one path: one fill, not one per dot
        for (let i = 0; i < line.y.length; i++) {
          if (Number.isNaN(line.y[i])) continue;
          ctx.rect(X(i) - 1.5, Y(i) - 1.5, 3, 3);
        }
        ctx.fill();
      } else {
        ctx.beginPath();
        let pen = false;
        for (let i = 0; i < line.y.length; i++) {
          if (Number.isNaN(line.y[i])) { pen = false; continue; }
          if (pen) ctx.lineTo(X(i), Y(i)); else ctx.moveTo(X(i), Y(i));
          pen = true;
        }
        ctx.stroke();
      }
      ctx.setLineDash([]);
    }
    ctx.restore();
    if (o.legend) {
      let y = r.y + 8;
      for (const line of o.series.filter((l) => l.label)) {
        ctx.fillStyle = line.color; ctx.fillRect(r.x + r.w - 150, y - 1, 14, 3);
        text(ctx, line.label, r.x + r.w - 132, y, "left", "middle");
        y += 14;
      }
    }
    return { rect: r, ...s };
  }

  // Bars from `base` (default 0) to each value: vertical bars centred on positions `at`, or
  // horizontal ones (o.horizontal) with `at` on the y axis. o: at, values (NaN: no bar), width (in
  // data units), colors (one or one per bar), base, zero (a grey line at 0), and the axes' options.
  function bars(ctx, box, o) {
    const r = inner(box, false);
    const s = panel(ctx, box, r, o);
    const base = o.base || 0, half = (o.width || 0.8) / 2;
    let color = null;  // set only when it changes: parsing a colour costs more than a bar
    ctx.save();
    ctx.beginPath(); ctx.rect(r.x, r.y, r.w, r.h); ctx.clip();
    for (let i = 0; i < o.values.length; i++) {
      const v = o.values[i];
      if (!Number.isFinite(v)) continue;
      const c = Array.isArray(o.colors) ? o.colors[i] : o.colors || "#1f77b4";
      if (c !== color) ctx.fillStyle = color = c;
      const [lo, hi] = v < base ? [v, base] : [base, v];
      if (o.horizontal) {
        const x0 = s.sx(lo), y0 = s.sy(o.at[i] + half);
        ctx.fillRect(x0, y0, Math.max(s.sx(hi) - x0, 0.5), s.sy(o.at[i] - half) - y0);
      } else {
        const x0 = s.sx(o.at[i] - half), y0 = s.sy(hi);
        ctx.fillRect(x0, y0, Math.max(s.sx(o.at[i] + half) - x0, 1), Math.max(s.sy(lo) - y0, 0.5));
      }
    }
    if (o.zero) zero(ctx, r, s, o.horizontal);
    ctx.restore();
    return { rect: r, ...s };
  }

  // A grey line at 0 across r: horizontal, or vertical when `across` (values on the x axis),
  // clipped to r.
  function zero(ctx, r, s, across) {
    ctx.save();
    ctx.beginPath(); ctx.rect(r.x, r.y, r.w, r.h); ctx.clip();
    ctx.strokeStyle = "#999"; ctx.lineWidth = 0.7; ctx.beginPath();
    if (across) { ctx.moveTo(s.sx(0), r.y); ctx.lineTo(s.sx(0), r.y + r.h); } else { ctx.moveTo(r.x, s.sy(0)); ctx.lineTo(r.x + r.w, s.sy(0)); }
    ctx.stroke();
    ctx.restore();
  }

  // The range of values plus a 5 % margin (0.5 when flat), as the matplotlib explorers use.
  function valueRange(lo, hi) {
    const margin = 0.05 * (hi - lo) || 0.5;
    return [lo - margin, hi + margin];
  }

  window.MusicnnPlot = { ticks, formatG, formatTicks, setup, heatmap, lines, bars, text, valueRange, lutIndex, inner };
})();
