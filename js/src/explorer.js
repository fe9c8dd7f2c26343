// The book's explorers in the built pages: every view computed in the reader's browser.
//
// A chapter's explorer cell prints an island, <div class="musicnn-explorer" data-explorer=...>,
// naming its kind (unit, midend, input, taggram, segmentation, backend, collection), layers,
// recording and first view. This script replaces the cell's static figure with live controls
// and a canvas figure, computed from the data the build wrote once per book next to this file
// (<recording>.shared.js, <recording>.<model>.js, and for chapters 13 and 14
// <recording>.backend-<model>.js and collection.<key>.js; see musicnn_nb/explore/web.py and
// web_past.py).
// Classic scripts, so that the book also works opened from disk (file://).
//
// An Explorer reads all its data from a source: {part(name) -> Promise of {meta, arrays}, audio: url,
// media(file) -> Promise of the url of a file its data names (a collection example's MP3)}.
// In the book it is scriptSource (the files above); in Jupyter the same Explorer, of every
// kind, is the front end of a widget (js/src/widget.js) whose source is the kernel.
//
// The address remembers the view: #explore?model=MTT&segment=3&unit=cnn1/1x64/461&vmin=-5&vmax=5
// window.__explorer lists the explorers of the page (tests read .computed and call .setView).
(function () {
  "use strict";
  const P = window.MusicnnPlot;
  const REGISTRY = "musicnnExplore";
  // the folder of this file when the book loads it as a script; null inside a widget's module
  const HERE = document.currentScript ? document.currentScript.src.replace(/[^/]*$/, "") : null;
  const MODELS = ["MSD", "MTT"];
  const SETTLE_MS = 250;  // the address follows the view once it has been still this long
  const loading = {};

  function loadScript(url) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = url;
      s.onload = resolve;
      s.onerror = () => reject(new Error(`could not load ${url.split("/").pop()}`));
      document.head.appendChild(s);
    });
  }

  // zlib-compressed bytes, inflated with the browser's DecompressionStream.
  async function inflateBytes(packed) {
    const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // The buffer of `size` elements of `k` bytes whose bytes are stored grouped by their position in
  // the element (all first bytes, then all second bytes ...) from `offset` of `bytes`. Two- and
  // four-byte elements are put together as one word each (the platform's byte order, little-endian
  // as the data's), several times faster than writing them one byte at a time.
  function ungroup(bytes, offset, size, k) {
    const b = (j) => bytes.subarray(offset + j * size, offset + (j + 1) * size);
    if (k === 4) {
      const out = new Uint32Array(size), b0 = b(0), b1 = b(1), b2 = b(2), b3 = b(3);
      for (let i = 0; i < size; i++) out[i] = b0[i] | (b1[i] << 8) | (b2[i] << 16) | (b3[i] << 24);
      return out.buffer;
    }
    if (k === 2) {
      const out = new Uint16Array(size), b0 = b(0), b1 = b(1);
      for (let i = 0; i < size; i++) out[i] = b0[i] | (b1[i] << 8);
      return out.buffer;
    }
    const out = new Uint8Array(size * k);
    for (let j = 0; j < k; j++) for (let i = 0, o = offset + j * size; i < size; i++) out[i * k + j] = bytes[o + i];
    return out.buffer;
  }

  // The float32 values of a data part: zlib -> bytes grouped by position in the float (see
  // musicnn_nb/explore/web.py, Blob).
  async function inflate(packed) {
    const grouped = await inflateBytes(packed);
    return new Float32Array(ungroup(grouped, 0, grouped.length / 4, 4));
  }

  // A data part decoded into named Float32Array views: from its meta, its index of name ->
  // [offset, shape] and its packed bytes.
  async function decodePart(meta, index, packed) {
    const all = await inflate(packed);
    const arrays = {};
    for (const [n, [offset, shape]] of Object.entries(index)) {
      const size = shape.reduce((a, b) => a * b, 1);
      arrays[n] = { data: all.subarray(offset, offset + size), shape };
    }
    return { meta, arrays };
  }

  // The browser's own decoder where it has one (a few times faster on the megabytes of a part).
  function fromBase64(text) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
    const raw = atob(text), bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  // The typed arrays of a packed data part (chapters 13-14, musicnn_nb/explore/web_past.py):
  // each array's bytes grouped by position in the element, deflated; index name -> [dtype, offset, shape].
  const TYPED = { f4: Float32Array, f8: Float64Array, i2: Int16Array, i4: Int32Array, u1: Uint8Array };
  async function decodePacked(meta, index, packed) {
    const all = await inflateBytes(packed), arrays = {};
    for (const [name, [dtype, offset, shape]] of Object.entries(index)) {
      const T = TYPED[dtype], size = shape.reduce((a, b) => a * b, 1);
      arrays[name] = { data: new T(ungroup(all, offset, size, T.BYTES_PER_ELEMENT)), shape };
    }
    return { meta, arrays };
  }

  // A data part by name: the recording's ("shared", "MSD", "MTT") are float32 blobs; the back
  // end's ("backend-MSD", "backend-MTT") and the collection's ("collection") packed typed arrays.
  function decodeData(name, meta, index, packed) {
    return name === "collection" || name.startsWith("backend-") ? decodePacked(meta, index, packed) : decodePart(meta, index, packed);
  }

  // The built book's data, for an island's config: each part from its script beside this file
  // (loaded once per page, shared by the page's explorers; the collection's is named by its
  // key, the others by the recording), the audio the file beside them. The parts an explorer
  // needs for its first view are the page's own deferred scripts (they arrive while the page
  // is parsed, before this one runs: _ext/book_pages.py); any other is loaded when asked for.
  function scriptSource(config) {
    const { recording } = config;
    return {
      part(name) {
        const [key, file] = name === "collection" ? [`collection/${config.collection}`, `collection.${config.collection}.js`]
          : [`${recording}/${name}`, `${recording}.${name}.js`];
        if (!loading[key]) {
          const loaded = window[REGISTRY] && window[REGISTRY][key];
          loading[key] = (loaded ? Promise.resolve() : loadScript(`${HERE}${file}`)).then(() => {
            const raw = window[REGISTRY][key];
            delete window[REGISTRY][key];  // keep one decoded copy
            return decodeData(name, raw.meta, raw.index, fromBase64(raw.blob));
          });
        }
        return loading[key];
      },
      audio: `${HERE}${recording}${config.audio}`,
      media: async (file) => `${HERE}${file}`,
    };
  }

  function range(values) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < values.length; i++) { const v = values[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  }

  // Colour limits and map for data spanning [lo, hi] and the reader's choice: symmetric and
  // diverging for signed data on an automatic scale (the package's plots.color_limits).
  function colourScale(shared, lo, hi, view, fixed) {
    const signed = lo < 0 && 0 < hi;
    const auto = fixed || view.auto;
    if (signed && auto) { const b = Math.max(-lo, hi); lo = -b; hi = b; }
    const cmap = (!fixed && view.cmap !== "automatic" && view.cmap) || (signed ? shared.meta.diverging : shared.meta.sequential);
    return { vmin: auto ? lo : view.vmin, vmax: auto ? hi : view.vmax, lut: shared.meta.colormaps[cmap], cmap };
  }

  // ---------------------------------------------------------------- model data helpers
  function groupsOf(shared, layer) { return shared.meta.groups.filter((g) => g.layer === layer); }

  function unitInfo(shared, md, name) {
    const [layer, groupName, idx] = name.split("/");
    const g = groupsOf(shared, layer).find((x) => x.name === groupName);
    const index = Number(idx), k = index - g.first_row;
    const pick = (what) => md.arrays[`${what}/${g.name}/${layer}`].data[k];
    const kernelSize = g.rows * g.frames;
    return {
      name, layer, group: g, index, k,
      kernel: md.arrays[`kernel/${g.name}/${layer}`].data.subarray(k * kernelSize, (k + 1) * kernelSize),
      bias: pick("bias"), scale: pick("scale"), shift: pick("shift"), gamma: pick("gamma"), beta: pick("beta"),
      mean: pick("mean"), variance: pick("variance"), norm: md.meta.units[layer].norm[index],
    };
  }

  function unitSummary(u, model) {
    const g = (x) => P.formatG(x, 3);
    return `${u.name} (${model}): ‖K‖F = ${g(u.norm)}, b = ${g(u.bias)}, γ = ${g(u.gamma)}, β = ${g(u.beta)}, μ = ${g(u.mean)}, σ² = ${g(u.variance)}`;
  }

  const F = 187, BANDS = 96;

  // U of one segment (561 x 187), rows constant over the recording filled from one number.
  function uSegment(md, s) {
    if (!md.uCache) md.uCache = {};
    if (md.uCache[s]) return md.uCache[s];
    const out = new Float32Array(561 * F);
    const constant = md.arrays.U_constant.data;
    for (let r = 0; r < 561; r++) out.fill(constant[r], r * F, (r + 1) * F);
    const rows = md.meta.U_varying_rows, v = md.arrays.U_varying.data, n = rows.length;
    for (let i = 0; i < n; i++) out.set(v.subarray((s * n + i) * F, (s * n + i + 1) * F), rows[i] * F);
    return (md.uCache[s] = out);
  }

  // The range of one row of U over the whole recording.
  function uRowRange(md, row) {
    const i = md.meta.U_varying_rows.indexOf(row);
    if (i < 0) return [md.arrays.U_constant.data[row], md.arrays.U_constant.data[row]];
    const n = md.meta.U_varying_rows.length, v = md.arrays.U_varying.data, S = md.arrays.U_varying.shape[0];
    let lo = Infinity, hi = -Infinity;
    for (let s = 0; s < S; s++) { const [a, b] = range(v.subarray((s * n + i) * F, (s * n + i + 1) * F)); lo = Math.min(lo, a); hi = Math.max(hi, b); }
    return [lo, hi];
  }

  function segmentOf(md, name, s) {
    const a = md.arrays[name].data, size = a.length / md.arrays[name].shape[0];
    return a.subarray(s * size, (s + 1) * size);
  }

  function sum(a, b) { const out = new Float32Array(a.length); for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i]; return out; }

  // M̂_dB of one segment: the model's input batch-norm, an affine map of M_dB.
  function mHat(shared, md, s) {
    const [scale, shift] = md.arrays.input_bn.data;
    const m = segmentOf(shared, "M_dB", s), out = new Float32Array(m.length);
    for (let i = 0; i < m.length; i++) out[i] = m[i] * scale + shift;
    return out;
  }

  // K ⋆ x + b of unit u on x (n rows x F frames), as rows - R + 1 rows x F frames:
  // Σ_r Σ_j K[r, j] x[f + r, t + j − before] + b, with zero frames around x (TensorFlow's "same").
  // Four frames at a time with the input's window in registers: about four times faster than a
  // tap at a time over whole rows, which keeps a unit change inside one frame.
  function correlate(u, x, n, before) {
    const R = u.group.rows, T = u.group.frames, K = u.kernel, b = u.bias;
    const wide = Math.ceil(F / 4) * 4, W = wide + T - 1;  // padded row: before zeros, x's row, zeros
    const xp = new Float32Array(n * W);
    for (let r = 0; r < n; r++) xp.set(x.subarray(r * F, (r + 1) * F), r * W + before);
    const out = new Float32Array((n - R + 1) * F), row = new Float64Array(wide);
    for (let f = 0; f <= n - R; f++) {
      for (let t = 0; t < wide; t += 4) {
        let a0 = b, a1 = b, a2 = b, a3 = b;
        for (let r = 0; r < R; r++) {
          const p = (f + r) * W + t, k0 = r * T;
          let x0 = xp[p], x1 = xp[p + 1], x2 = xp[p + 2];
          for (let j = 0; j < T; j++) {
            const k = K[k0 + j], x3 = xp[p + j + 3];
            a0 += k * x0; a1 += k * x1; a2 += k * x2; a3 += k * x3;
            x0 = x1; x1 = x2; x2 = x3;
          }
        }
        row[t] = a0; row[t + 1] = a1; row[t + 2] = a2; row[t + 3] = a3;
      }
      out.set(row.subarray(0, F), f * F);
    }
    return out;
  }

  // A CNN_1 unit on one M̂_dB segment: K ⋆ M̂ + b, Y, Ŷ, its row of U and the winning row.
  function cnn1Unit(u, x) {
    const T = u.group.frames, outRows = BANDS - u.group.rows + 1;
    const pre = correlate(u, x, BANDS, T > 7 ? Math.floor((T - 1) / 2) : 3);
    const Y = new Float32Array(pre.length), Yh = new Float32Array(pre.length);
    for (let i = 0; i < pre.length; i++) { const y = pre[i] > 0 ? pre[i] : 0; Y[i] = y; Yh[i] = y * u.scale + u.shift; }
    const row = new Float32Array(F), winner = new Float32Array(F);
    let tied = 0;
    for (let t = 0; t < F; t++) {
      let best = -Infinity, arg = 0, low = Infinity;
      for (let f = 0; f < outRows; f++) { const v = Yh[f * F + t]; if (v > best) { best = v; arg = f; } if (v < low) low = v; }
      row[t] = best;
      winner[t] = best === low ? NaN : arg;
      if (best === low) tied++;
    }
    return { pre, Y, Y_hat: Yh, U_row: row, winner, rows: outRows, tied };
  }

  // A CNN_2-4 unit on its layer's input (rows x 187): pre-activation, V, V̂ over time.
  function midendUnit(u, x) {
    const pre = correlate(u, x, u.group.rows, 3), V = new Float32Array(F), Vh = new Float32Array(F);
    for (let t = 0; t < F; t++) { const v = pre[t] > 0 ? pre[t] : 0; V[t] = v; Vh[t] = v * u.scale + u.shift; }
    return { pre_activation: pre, V, V_hat: Vh };
  }

  // The frames' times in a segment, once per recording.
  function times(shared) {
    if (!shared.times) { const dt = shared.meta.frame_seconds; shared.times = Float32Array.from({ length: F }, (_, i) => i * dt); }
    return shared.times;
  }
  function timeExtent(shared) { const dt = shared.meta.frame_seconds; return [-dt / 2, (F - 0.5) * dt]; }
  function segmentTitle(shared, s) { return `segment ${s}, from ${shared.meta.segment_start_s[s].toFixed(2)} s`; }
  function melTicks(shared, n = 4) {
    const hz = shared.meta.mel_hz;
    return Array.from({ length: n }, (_, i) => Math.round((i * (hz.length - 1)) / (n - 1)))
      .map((b) => [b, `${b}\n${Math.round(hz[b]).toLocaleString("en")} Hz`]);
  }
  const SEGMENT_TIME = "time in segment (s)";
  const TOP = 52;  // room for the two-line title and the segment label

  // Panels flowing left to right in `cols` equal columns, each `span` columns wide: their boxes
  // and the figure's height. Three columns on a wide page, two on a narrow one.
  function flow(width, spans, rowH, top = TOP) {
    const cols = width >= 1000 ? 3 : 2, colW = width / cols, boxes = [];
    let col = 0, row = 0;
    for (const span of spans) {
      const s = Math.min(span, cols);
      if (col + s > cols) { col = 0; row++; }
      boxes.push({ x: col * colW, y: top + row * rowH, w: s * colW, h: rowH });
      col += s;
    }
    return { boxes, height: top + (row + 1) * rowH };
  }

  function heading(ctx, width, u, model, shared, s) {
    const [name, params] = unitSummary(u, model).split(": ");
    P.text(ctx, name, width / 2, 10, "center", "middle", "bold 13px sans-serif");
    P.text(ctx, params, width / 2, 27, "center", "middle", "12px sans-serif");
    P.text(ctx, segmentTitle(shared, s), 4, 42, "left", "middle");
  }

  // ---------------------------------------------------------------- the kinds of explorer
  // Each kind: the controls it offers, layout(width) -> panel boxes and figure height,
  // compute(explorer, model data, view) -> computed values, draw(explorer, ctx, computed, view).
  const KINDS = {};

  KINDS.unit = {
    controls: ["model", "segment", "unit", "scale"],
    layout: (width) => flow(width, [1, 1, 1, 1, 1, 1], 300),
    compute(ex, md, v) {
      const u = unitInfo(ex.shared, md, v.unit);
      const out = cnn1Unit(u, mHat(ex.shared, md, v.segment));
      const [plo, phi] = md.arrays[`pre_range/${u.group.name}/cnn1`].data.subarray(2 * u.k, 2 * u.k + 2);
      const ylo = Math.max(plo, 0), yhi = Math.max(phi, 0);
      const h = [ylo * u.scale + u.shift, yhi * u.scale + u.shift].sort((a, b) => a - b);
      return { ...out, unit: u, ranges: { pre: [plo, phi], Y: [ylo, yhi], Y_hat: h }, uRange: range([...uRowRange(md, u.index), 0]) };
    },
    draw(ex, ctx, c, v) {
      const shared = ex.shared, u = c.unit, g = u.group, oneD = g.rows === 1;
      const [kernelBox, preBox, yBox, yHatBox, uBox, winBox] = ex.layout.boxes;
      heading(ctx, ex.width, u, v.model, shared, v.segment);
      const lag = (j) => (j - Math.floor((g.frames - 1) / 2)) * shared.meta.frame_seconds;
      if (oneD) {
        const x = Float32Array.from({ length: g.frames }, (_, j) => lag(j));
        const [lo, hi] = range(u.kernel);
        P.lines(ctx, kernelBox, { series: [{ x, y: u.kernel }], xlim: [x[0], x[x.length - 1]], ylim: P.valueRange(lo, hi),
          zero: true, title: `kernel K${u.index}`, xlabel: "time lag (s)", ylabel: "weight" });
      } else {
        const [lo, hi] = range(u.kernel);
        const sc = colourScale(shared, lo, hi, v, true);
        const dt = shared.meta.frame_seconds;
        P.heatmap(ctx, kernelBox, { data: u.kernel, rows: g.rows, cols: g.frames, extent: [lag(0) - dt / 2, lag(g.frames - 1) + dt / 2, -0.5, g.rows - 0.5],
          ...sc, title: `kernel K${u.index}`, xlabel: "time lag (s)", ylabel: "kernel row (mel band offset)" });
      }
      const rowLabel = oneD ? "mel band" : `output row (bands f…f+${g.rows - 1})`;
      const maps = [["pre", "K ⋆ M̂dB + b", preBox], ["Y", "Y = ReLU(K ⋆ M̂dB + b)", yBox], ["Y_hat", "Ŷ after batch-norm", yHatBox]];
      c.scales = {};
      for (const [key, title, box] of maps) {
        const sc = colourScale(shared, ...c.ranges[key], v, false);
        c.scales[key] = sc;
        P.heatmap(ctx, box, { data: key === "pre" ? c.pre : c[key], rows: c.rows, cols: F, extent: [...timeExtent(shared), -0.5, c.rows - 0.5],
          ...sc, title, xlabel: SEGMENT_TIME, ylabel: rowLabel, yticks: oneD ? melTicks(shared) : null });
      }
      const t = times(shared), xlim = [-shared.meta.frame_seconds, t[F - 1] + shared.meta.frame_seconds];
      P.lines(ctx, uBox, { series: [{ x: t, y: c.U_row, kind: "stem", color: "#1f77b4" }], xlim, ylim: P.valueRange(...c.uRange),
        zero: true, title: "row of U: max over frequency of Ŷ", xlabel: SEGMENT_TIME, ylabel: `[U]${u.index},t` });
      P.lines(ctx, winBox, { series: [{ x: t, y: c.winner, kind: "dots", color: "#1f77b4" }], xlim, ylim: [-0.5, c.rows - 0.5],
        title: `winning row (${c.tied} tied frames left out)`, xlabel: SEGMENT_TIME, ylabel: rowLabel, yticks: oneD ? melTicks(shared) : null });
    },
  };

  const MATH = { U: "U", V1_hat: "V̂1", V12_hat: "V̂1+V̂2", V2_hat: "V̂2", V3_hat: "V̂3" };
  const LAYER_IO = { cnn2: ["U", "V1_hat"], cnn3: ["V1_hat", "V2_hat"], cnn4: ["V12_hat", "V3_hat"] };

  function layerInput(md, name, s) {
    if (name === "U") return uSegment(md, s);
    if (name === "V12_hat") return sum(segmentOf(md, "V1_hat", s), segmentOf(md, "V2_hat", s));
    return segmentOf(md, name, s);
  }

  function wholeRange(md, name) {
    md.ranges = md.ranges || {};
    if (!md.ranges[name]) {
      if (name === "U") md.ranges[name] = range([...range(md.arrays.U_constant.data), ...range(md.arrays.U_varying.data)]);
      else if (name === "V12_hat") md.ranges[name] = range(sum(md.arrays.V1_hat.data, md.arrays.V2_hat.data));
      else md.ranges[name] = range(md.arrays[name].data);
    }
    return md.ranges[name];
  }

  KINDS.midend = {
    controls: ["model", "segment", "unit", "scale"],
    layout: (width) => flow(width, [1, 1, 1, 1, 2], 300),
    compute(ex, md, v) {
      const u = unitInfo(ex.shared, md, v.unit);
      const [source, out] = LAYER_IO[u.layer];
      const input = layerInput(md, source, v.segment);
      const series = midendUnit(u, input);
      const energy = new Float32Array(u.group.rows);
      for (let r = 0; r < u.group.rows; r++) { let e = 0; for (let j = 0; j < 7; j++) e += u.kernel[r * 7 + j] ** 2; energy[r] = Math.sqrt(e); }
      const sr = md.arrays[`series_range/${u.layer}`].data.subarray(u.index * 6, u.index * 6 + 6);
      return { ...series, unit: u, source, out, input, output: segmentOf(md, out, v.segment), energy,
               seriesRange: range([...sr, 0]) };
    },
    draw(ex, ctx, c, v) {
      const shared = ex.shared, u = c.unit, md = ex.models[v.model];
      const [kernelBox, inputBox, outputBox, rowsBox, seriesBox] = ex.layout.boxes;
      heading(ctx, ex.width, u, v.model, shared, v.segment);
      const rows = u.group.rows, dt = shared.meta.frame_seconds;
      const [klo, khi] = range(u.kernel);
      P.heatmap(ctx, kernelBox, { data: u.kernel, rows, cols: 7, extent: [-3.5 * dt, 3.5 * dt, -0.5, rows - 0.5],
        ...colourScale(shared, klo, khi, v, true), title: `kernel of ${u.name}`, xlabel: "time lag (s)", ylabel: `input row (${MATH[c.source]})` });
      const [elo, ehi] = range([...c.energy, 0]);
      P.lines(ctx, rowsBox, { series: [{ x: Float32Array.from({ length: rows }, (_, i) => i), y: c.energy }], flip: true,
        xlim: P.valueRange(elo, ehi), ylim: [-0.5, rows - 0.5], title: "where the kernel puts its weight",
        xlabel: "kernel norm per input row", ylabel: `input row (${MATH[c.source]})` });
      c.scales = {};
      for (const [key, data, name, box, title, label] of [["input", c.input, c.source, inputBox, `input: ${MATH[c.source]}`, "row"],
                                                           ["output", c.output, c.out, outputBox, `output ${MATH[c.out]} (unit ${u.index} marked)`, "unit"]]) {
        const sc = colourScale(shared, ...wholeRange(md, name), v, false);
        c.scales[key] = sc;
        const n = data.length / F;
        const h = P.heatmap(ctx, box, { data, rows: n, cols: F, extent: [...timeExtent(shared), -0.5, n - 0.5], ...sc,
          title, xlabel: SEGMENT_TIME, ylabel: label });
        if (key === "output") {
          ctx.save(); ctx.setLineDash([4, 3]); ctx.strokeStyle = "#000"; ctx.lineWidth = 0.8; ctx.beginPath();
          ctx.moveTo(h.rect.x, h.sy(u.index)); ctx.lineTo(h.rect.x + h.rect.w, h.sy(u.index)); ctx.stroke(); ctx.restore();
        }
      }
      const t = times(shared);
      P.lines(ctx, seriesBox, { series: [
        { x: t, y: c.pre_activation, color: "#1f77b4", label: "pre-activation" },
        { x: t, y: c.V, color: "#ff7f0e", label: "V (after ReLU)" },
        { x: t, y: c.V_hat, color: "#2ca02c", label: "V̂ (after batch-norm)" }],
        xlim: [-dt, t[F - 1] + dt], ylim: P.valueRange(...c.seriesRange), zero: true, legend: true,
        title: `${u.name} over time`, xlabel: SEGMENT_TIME, ylabel: "value" });
    },
  };

  KINDS.input = {
    controls: ["model", "segment", "scale"],
    layout: (width) => ({ boxes: [0, 1].map((i) => ({ x: (i * width) / 2, y: 10, w: width / 2, h: 340 })), height: 360 }),
    compute(ex, md, v) {
      const shared = ex.shared;
      shared.mRange = shared.mRange || range(shared.arrays.M_dB.data);
      const [a, b] = md.arrays.input_bn.data;
      const hatRange = [shared.mRange[0] * a + b, shared.mRange[1] * a + b].sort((x, y) => x - y);
      return { M_dB: segmentOf(shared, "M_dB", v.segment), M_hat: mHat(shared, md, v.segment), ranges: { M_dB: shared.mRange, M_hat: hatRange } };
    },
    draw(ex, ctx, c, v) {
      const shared = ex.shared;
      c.scales = {};
      [["M_dB", `M_dB, ${segmentTitle(shared, v.segment)}`, "log10(10000·mel power + 1)"],
       ["M_hat", `M̂_dB (${v.model} input batch-norm), segment ${v.segment}`, "normalised value"]].forEach(([key, title, barLabel], i) => {
        const sc = colourScale(shared, ...c.ranges[key], v, false);
        c.scales[key] = sc;
        P.heatmap(ctx, ex.layout.boxes[i], { data: c[key], rows: BANDS, cols: F, extent: [...timeExtent(shared), -0.5, BANDS - 0.5],
          ...sc, title, xlabel: SEGMENT_TIME, ylabel: "mel band", yticks: melTicks(shared, 6), barLabel });
      });
    },
  };

  KINDS.taggram = {
    controls: ["model", "segment", "scale"],
    layout: (width) => (width >= 1000
      ? { boxes: [{ x: 60, y: 10, w: width - 480, h: 680 }, { x: width - 340, y: 10, w: 340, h: 360 }], height: 700 }
      : { boxes: [{ x: 60, y: 10, w: width - 60, h: 680 }, { x: 60, y: 700, w: width - 60, h: 320 }], height: 1030 }),
    compute(ex, md, v) {
      const g = md.arrays.taggram, S = g.shape[0], tags = md.meta.tags;
      if (!md.taggramImage) {  // tags x segments, once per model (its pixels are then cached too)
        md.taggramImage = new Float32Array(tags.length * S);
        for (let s = 0; s < S; s++) for (let k = 0; k < tags.length; k++) md.taggramImage[k * S + s] = g.data[s * tags.length + k];
      }
      const row = g.data.subarray(v.segment * tags.length, (v.segment + 1) * tags.length);
      const top = Array.from(row, (w, k) => [tags[k], w]).sort((a, b) => b[1] - a[1]).slice(0, 10);
      return { taggram: md.taggramImage, segments: S, top };
    },
    draw(ex, ctx, c, v) {
      const shared = ex.shared, tags = ex.models[v.model].meta.tags, S = c.segments;
      const sc = v.auto ? { vmin: 0, vmax: 1 } : { vmin: v.vmin, vmax: v.vmax };
      const cmap = v.cmap !== "automatic" ? v.cmap : shared.meta.sequential;
      c.scales = { taggram: { ...sc, cmap } };
      const starts = shared.meta.segment_start_s;
      const h = P.heatmap(ctx, ex.layout.boxes[0], { data: c.taggram, rows: tags.length, cols: S, extent: [-0.5, S - 0.5, -0.5, tags.length - 0.5],
        ...sc, lut: shared.meta.colormaps[cmap], title: `${v.model} taggram of ${shared.meta.file}`, xlabel: "segment start (s)",
        yticks: tags.map((t, i) => [i, t]), ytickFont: "8px sans-serif", xticks: starts.map((s, i) => [i, s.toFixed(1)]),
        barLabel: "tag weight (sigmoid output)" });
      ctx.strokeStyle = "cyan"; ctx.lineWidth = 2;
      ctx.strokeRect(h.sx(v.segment - 0.5), h.rect.y, h.sx(v.segment + 0.5) - h.sx(v.segment - 0.5), h.rect.h);
      const n = c.top.length, y = Float32Array.from({ length: n }, (_, i) => n - 1 - i);
      const box = ex.layout.boxes[1];
      const r = P.lines(ctx, box, { series: [], xlim: [0, Math.max(1e-6, ...c.top.map((t) => t[1])) * 1.05], ylim: [-0.6, n - 0.4],
        yticks: c.top.map((t, i) => [n - 1 - i, t[0]]), title: `top ${n} tags in ${segmentTitle(shared, v.segment)}`, xlabel: "tag weight" });
      ctx.fillStyle = "#1f77b4";
      c.top.forEach((t, i) => { const yy = r.sy(y[i] + 0.4); ctx.fillRect(r.sx(0), yy, r.sx(t[1]) - r.sx(0), r.sy(y[i] - 0.4) - yy); });
    },
  };

  KINDS.segmentation = {
    controls: ["model", "segment", "scale"],
    layout: (width) => ({ boxes: [{ x: 0, y: 10, w: width, h: 230 }, { x: 0, y: 260, w: width, h: 490 }], height: 760 }),
    compute(ex, md, v) {
      const s = v.segment, U = uSegment(md, s), V1 = segmentOf(md, "V1_hat", s), V2 = segmentOf(md, "V2_hat", s), V3 = segmentOf(md, "V3_hat", s);
      const V12 = sum(V1, V2), V123 = sum(V12, V3);
      const W = new Float32Array(753 * F);
      W.set(U, 0); W.set(V1, 561 * F); W.set(V12, 625 * F); W.set(V123, 689 * F);
      if (!md.wRange) {
        const all = [];
        for (let k = 0; k < ex.shared.meta.n_segments; k++) {
          const v12 = sum(segmentOf(md, "V1_hat", k), segmentOf(md, "V2_hat", k));
          all.push(...range(uSegment(md, k)), ...range(segmentOf(md, "V1_hat", k)), ...range(v12), ...range(sum(v12, segmentOf(md, "V3_hat", k))));
        }
        md.wRange = range(all);
      }
      return { W, wRange: md.wRange };
    },
    draw(ex, ctx, c, v) {
      const shared = ex.shared, S = shared.meta.n_segments, dt = shared.meta.frame_seconds;
      if (!shared.whole) {  // the recording's spectrogram: the segments side by side
        const whole = new Float32Array(BANDS * F * S), m = shared.arrays.M_dB.data;
        for (let s = 0; s < S; s++) for (let b = 0; b < BANDS; b++) whole.set(m.subarray((s * BANDS + b) * F, (s * BANDS + b + 1) * F), b * F * S + s * F);
        shared.whole = { data: whole, range: range(m) };
      }
      const starts = shared.meta.segment_start_s, end = starts[S - 1] + shared.meta.segment_seconds;
      const top = P.heatmap(ctx, ex.layout.boxes[0], { data: shared.whole.data, rows: BANDS, cols: F * S, extent: [-dt / 2, end - dt / 2, -0.5, BANDS - 0.5],
        ...colourScale(shared, ...shared.whole.range, { auto: true, cmap: "automatic" }, true), title: `the recording cut into ${S} segments of ${shared.meta.segment_seconds.toFixed(2)} s`,
        xlabel: "time (s)", ylabel: "mel band", yticks: melTicks(shared, 4), barLabel: "M_dB" });
      ctx.strokeStyle = "cyan"; ctx.lineWidth = 2;
      ctx.strokeRect(top.sx(starts[v.segment]), top.rect.y + 1, top.sx(starts[v.segment] + shared.meta.segment_seconds) - top.sx(starts[v.segment]), top.rect.h - 2);
      const sc = colourScale(shared, ...c.wRange, v, false);
      c.scales = { W: sc };
      const h = P.heatmap(ctx, ex.layout.boxes[1], { data: c.W, rows: 753, cols: F, extent: [...timeExtent(shared), -0.5, 752.5], ...sc,
        title: `W of ${segmentTitle(shared, v.segment)} (${v.model}): 753 rows × ${F} frames`, xlabel: SEGMENT_TIME, ylabel: "row of W", barLabel: "value" });
      ctx.strokeStyle = "#000";
      for (const [row, dash] of [[204, [2, 2]], [408, [2, 2]], [459, [2, 2]], [510, [2, 2]], [561, []], [625, []], [689, []]]) {
        ctx.setLineDash(dash); ctx.beginPath(); ctx.moveTo(h.rect.x, h.sy(row - 0.5)); ctx.lineTo(h.rect.x + h.rect.w, h.sy(row - 0.5)); ctx.stroke();
      }
      ctx.setLineDash([]);
    },
  };

  // ---------------------------------------------------------------- past the series (chapters 13-14)
  // Their data (musicnn_nb/explore/web_past.py) comes from the same source as the recording's:
  // part("backend-MSD"), part("backend-MTT"), part("collection"). A kind may add hooks to the
  // Explorer: load(ex, source) -> its data from a source (again when the recording changes),
  // defaults(first) -> its entries of the default view, build(ex, label) -> extra controls,
  // resolve(ex, view), fromAddress(ex, query, view) -> what it refuses or null, address(view,
  // query), sync(ex, view), audio(ex, view) -> the player's source or null (no player).

  const W_ROWS = 753, BACKEND_ROWS = 12, BACKEND_NAMED = 5, MOMENT_S = 1.0;

  // Row r of W on segment s: U's rows, then V̂1, V̂1+V̂2, V̂1+V̂2+V̂3 (float32 sums, as the package).
  function wRow(md, s, r) {
    if (r < 561) return uSegment(md, s).subarray(r * F, (r + 1) * F);
    const blocks = r < 625 ? ["V1_hat"] : r < 689 ? ["V1_hat", "V2_hat"] : ["V1_hat", "V2_hat", "V3_hat"];
    const i = r < 625 ? r - 561 : r < 689 ? r - 625 : r - 689, out = new Float32Array(F);
    for (const b of blocks) { const x = segmentOf(md, b, s); for (let t = 0; t < F; t++) out[t] += x[i * F + t]; }
    return out;
  }

  // The model's tags, the segment's largest weight first: [[tag, weight, index], ...].
  function tagsByWeight(md, s) {
    const w = segmentOf(md, "taggram", s);
    return md.meta.tags.map((t, k) => [t, w[k], k]).sort((a, b) => b[1] - a[1] || a[2] - b[2]);
  }

  // The split of tag k's logit over the rows of W on segment s (int16 codes times their step).
  function contributionsOf(bd, s, k) {
    const c = bd.arrays.contributions, tags = c.shape[1], n = c.shape[2], at = s * tags + k, step = bd.arrays.step.data[at];
    return Float64Array.from(c.data.subarray(at * n, (at + 1) * n), (q) => q * step);
  }

  function topRows(values, n) {
    return Array.from(values.keys()).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b).slice(0, n);
  }

  function signed(x, digits) { return `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(digits)}`; }

  KINDS.backend = {
    controls: ["model", "segment"],
    layout: (width) => ({ boxes: [{ x: 0, y: TOP + 14, w: width, h: 340 }, { x: 0, y: TOP + 364, w: width, h: 230 }], height: TOP + 604 }),
    async load(ex, source) {
      const parts = await Promise.all(MODELS.map((m) => source.part(`backend-${m}`)));
      return { past: Object.fromEntries(MODELS.map((m, i) => [m, parts[i]])) };
    },
    defaults: (first) => ({ tag: first.tag ?? null, row: first.row ?? null }),
    build(ex, label) {
      const ui = ex.ui, change = (partial) => ex.setView({ ...ex.view, ...partial }, { fromControl: true });
      ui.tag = el("select", { "aria-label": "tag" });
      ui.row = el("select", { "aria-label": "row of W" });
      ui.tag.addEventListener("change", () => change({ tag: ui.tag.value, row: null }));  // a new tag: its top row
      ui.row.addEventListener("change", () => change({ row: Number(ui.row.value) }));
      ui.unitLink = el("a", { class: "mx-link" });  // the row's unit in the explorer of its chapter
      return [label("tag", ui.tag), label("row of W", ui.row), ui.unitLink];
    },
    // The view with a tag of the model (default: the segment's top tag) and a row (default: the tag's top row).
    resolve(ex, v) {
      const md = ex.models[v.model], tags = md.meta.tags;
      const tag = tags.includes(v.tag) ? v.tag : tagsByWeight(md, v.segment)[0][0];
      const row = Number.isInteger(v.row) && v.row >= 0 && v.row < W_ROWS ? v.row
        : topRows(contributionsOf(ex.past[v.model], v.segment, tags.indexOf(tag)), 1)[0];
      return [{ ...v, tag, row }, null];
    },
    fromAddress(ex, q, v) {
      if (q.has("tag")) { if (!ex.models[v.model].meta.tags.includes(q.get("tag"))) return `tag "${q.get("tag")}"`; v.tag = q.get("tag"); }
      if (q.has("row")) { const r = q.get("row"); if (!/^\d+$/.test(r) || Number(r) >= W_ROWS) return `row "${r}" of W`; v.row = Number(r); }
      return null;
    },
    address(v, q) { q.set("tag", v.tag); q.set("row", String(v.row)); },
    compute(ex, md, v) {
      const bd = ex.past[v.model], s = v.segment, tags = md.meta.tags, k = tags.indexOf(v.tag), at = s * tags.length + k;
      const contributions = contributionsOf(bd, s, k), series = wRow(md, s, v.row);
      let winner = 0, mean = 0;
      for (let t = 0; t < F; t++) { if (series[t] > series[winner]) winner = t; mean += series[t]; }
      return { contributions, series, winner, mean: mean / F, top: topRows(contributions, BACKEND_ROWS),
               stage: bd.meta.stages.find((x) => v.row >= x.first_row && v.row < x.stop_row),
               constant: bd.arrays.constant.data[at], logit: bd.arrays.logit.data[at], weight: segmentOf(md, "taggram", s)[k] };
    },
    draw(ex, ctx, c, v) {
      const shared = ex.shared, bd = ex.past[v.model], [topBox, rowBox] = ex.layout.boxes;
      let total = 0, span = 0;
      for (const x of c.contributions) { total += x; span = Math.max(span, Math.abs(x)); }
      span = span || 1;
      P.text(ctx, `${v.model}, ${segmentTitle(shared, v.segment)}: “${v.tag}” (weight ${c.weight.toFixed(2)})`, ex.width / 2, 10, "center", "middle", "bold 13px sans-serif");
      P.text(ctx, `logit ${c.logit.toFixed(2)} = constant ${c.constant.toFixed(2)} + Σ rows ${total.toFixed(2)}, each row relative to ${bd.meta.baseline}`, ex.width / 2, 27, "center", "middle", "12px sans-serif");
      let x = 62;  // the stages' colours, in one line
      for (const st of bd.meta.stages) {
        ctx.fillStyle = st.color; ctx.fillRect(x, 40, 12, 10);
        P.text(ctx, st.label, x + 16, 45, "left", "middle");
        ctx.font = "11px sans-serif"; x += 28 + ctx.measureText(st.label).width;
      }
      const colors = new Array(W_ROWS);
      for (const st of bd.meta.stages) colors.fill(st.color, st.first_row, st.stop_row);
      const h = P.bars(ctx, topBox, { at: Float64Array.from({ length: W_ROWS }, (_, i) => i), values: c.contributions, width: 1, colors, zero: true,
        xlim: [-5, W_ROWS + 4], ylim: [-1.25 * span, 1.25 * span], title: "each row of W's contribution (its maximum and mean together)",
        xlabel: "row of W", ylabel: "contribution to the logit" });
      ctx.save(); ctx.strokeStyle = "#000"; ctx.lineWidth = 0.6; ctx.setLineDash([1, 3]);
      for (const st of bd.meta.stages.slice(1)) { const px = h.sx(st.first_row - 0.5); ctx.beginPath(); ctx.moveTo(px, h.rect.y); ctx.lineTo(px, h.rect.y + h.rect.h); ctx.stroke(); }
      ctx.setLineDash([]); ctx.strokeStyle = "rgba(0,0,0,0.4)"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(h.sx(v.row), h.rect.y); ctx.lineTo(h.sx(v.row), h.rect.y + h.rect.h); ctx.stroke(); ctx.restore();
      for (const r of c.top.slice(0, BACKEND_NAMED)) {
        const up = c.contributions[r] >= 0;
        P.text(ctx, String(r), h.sx(r), h.sy(c.contributions[r]) + (up ? -3 : 3), "center", up ? "bottom" : "top");
      }
      const t = times(shared), dt = shared.meta.frame_seconds, [lo, hi] = range(c.series);
      const unit = bd.meta.row_units[v.row], contribution = c.contributions[v.row];
      const r = P.lines(ctx, rowBox, { series: [{ x: t, y: c.series, color: c.stage.color }, { x: [t[0], t[F - 1]], y: [c.mean, c.mean], color: c.stage.color, dash: [2, 3] }],
        xlim: [-dt, t[F - 1] + dt], ylim: [P.valueRange(lo, hi)[0], hi + 0.15 * (hi - lo || 1)], title: `row ${v.row} of W (${unit}, ${c.stage.label}): contribution ${signed(contribution, 3)}; ▼ the frame that wins its maximum, dotted: its mean`,
        xlabel: SEGMENT_TIME, ylabel: "value" });
      const px = r.sx(t[c.winner]), py = r.sy(c.series[c.winner]);
      ctx.fillStyle = "#000"; ctx.beginPath(); ctx.moveTo(px - 5, py - 10); ctx.lineTo(px + 5, py - 10); ctx.lineTo(px, py - 2); ctx.fill();
    },
    sync(ex, v) {
      const md = ex.models[v.model], bd = ex.past[v.model], c = ex.computed, ui = ex.ui;
      const tags = `${v.model} ${v.segment}`, rows = c.top.includes(v.row) ? c.top : [...c.top, v.row];
      if (ui.tag.dataset.list !== tags) {  // the option lists change with these only
        ui.tag.replaceChildren(...tagsByWeight(md, v.segment).map(([t, w]) => el("option", { value: t, text: `${t} (${w.toFixed(2)})` })));
        ui.tag.dataset.list = tags;
      }
      ui.tag.value = v.tag;
      if (ui.row.dataset.list !== `${tags} ${v.tag} ${rows}`) {
        ui.row.replaceChildren(...rows.map((r) => el("option", { value: String(r), text: `${r}: ${bd.meta.row_units[r]} (${signed(c.contributions[r], 3)})` })));
        ui.row.dataset.list = `${tags} ${v.tag} ${rows}`;
      }
      ui.row.value = String(v.row);
      const unit = bd.meta.row_units[v.row], page = (ex.config.unit_pages || {})[unit.split("/")[0]];
      ui.unitLink.hidden = !page;
      if (page) {
        ui.unitLink.textContent = `open ${unit} in its chapter's explorer`;
        ui.unitLink.href = `${page}#explore?model=${v.model}&segment=${v.segment}&unit=${unit}`;
      }
    },
    // The second of the book's recording around the frame that wins the row's maximum.
    audio(ex, v) {
      const shared = ex.shared, centre = shared.meta.segment_start_s[v.segment] + ex.computed.winner * shared.meta.frame_seconds;
      const start = Math.max(0, centre - MOMENT_S / 2);
      return ex.source.audio && `${ex.source.audio}#t=${start.toFixed(3)},${(start + MOMENT_S).toFixed(3)}`;
    },
  };

  // Each of the collection's examples plays from its own small MP3 (meta.audio names them:
  // "{k}" is the example's index in meta.examples), so the player never seeks: it works over
  // any server, with or without range requests, and from disk. Clicking a panel, or its "#k"
  // button, chooses that example and plays it.
  function playExample(ex, k) {
    ex.setView({ ...ex.view, example: k }, { fromControl: true }).then(() => { ex.flushAudio(); ex.ui.audio.play().catch(() => {}); });
  }

  // The example whose panel holds a click on the figure, or 0.
  function exampleAt(ex, event) {
    const r = ex.ui.canvas.getBoundingClientRect(), x = (event.clientX - r.left) * ex.width / r.width;
    const y = (event.clientY - r.top) * ex.layout.height / r.height, n = ex.computed.examples.length;
    return ex.layout.boxes.slice(0, n).findIndex((b) => x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) + 1;
  }

  // Example e's M_dB (its codes times their step), decoded once: the same array each time
  // it is shown, so its panel's pixels are coloured again only when it or the scale changes.
  function exampleMdB(cd, e) {
    const mdb = cd.arrays.M_dB;
    if (!mdb) return null;
    cd.decoded = cd.decoded || new Map();
    if (!cd.decoded.has(e)) {
      const size = mdb.shape[1] * mdb.shape[2], step = cd.meta.m_db.top / cd.meta.m_db.levels;
      const codes = mdb.data.subarray(e * size, (e + 1) * size), values = new Float32Array(size);
      for (let k = 0; k < size; k++) values[k] = codes[k] * step;
      cd.decoded.set(e, values);
    }
    return cd.decoded.get(e);
  }

  KINDS.collection = {
    controls: ["model", "unit", "scale"],
    layout(width) {  // the examples in three columns on a wide page, two on a narrow one
      const cols = width >= 1000 ? 3 : 2, rows = 6 / cols, w = width / cols, h = 250, boxes = [];
      for (let i = 0; i < 6; i++) boxes.push({ x: (i % cols) * w, y: TOP + Math.floor(i / cols) * h, w, h });
      const y = TOP + rows * h + 10;
      boxes.push({ x: 0, y, w: width / 2, h: 300 }, { x: width / 2 + 60, y, w: width / 2 - 60, h: 300 });  // room for tag names
      return { boxes, height: y + 310, cols };
    },
    async load(ex, source) {
      const collection = await source.part("collection"), file = collection.meta.audio;
      const clips = file ? await Promise.all(collection.meta.examples.map((_, k) => source.media(file.replace("{k}", k)))) : null;
      return { collection, clips };
    },
    defaults: (first) => ({ example: first.example ?? 1 }),
    build(ex) {
      const meta = ex.collection.meta, ui = ex.ui;
      if (!meta.audio) return [el("span", { class: "mx-note", text: meta.audio_note })];
      ui.example = Array.from({ length: meta.top }, (_, i) => el("button", { type: "button", class: "mx-toggle", "data-example": String(i + 1),
        text: `#${i + 1}`, "aria-label": `play example ${i + 1}` }));
      ui.example.forEach((b) => b.addEventListener("click", () => playExample(ex, Number(b.dataset.example))));
      ex.island.addEventListener("click", (event) => {
        const k = event.target === ui.canvas ? exampleAt(ex, event) : 0;
        if (k) playExample(ex, k);
      });
      return [el("span", { text: "play example " }), ...ui.example];
    },
    fromAddress(ex, q, v) {
      if (!q.has("example")) return null;
      const k = q.get("example");
      if (!ex.collection.meta.audio || !/^\d+$/.test(k) || Number(k) < 1 || Number(k) > ex.collection.meta.top) return `example "${k}"`;
      v.example = Number(k);
      return null;
    },
    address(v, q) { q.set("example", String(v.example)); },
    compute(ex, md, v) {
      const cd = ex.collection, j = cd.meta.units.indexOf(v.unit), n = cd.meta.top, m = v.model;
      const pick = (name, width) => cd.arrays[`${name}/${m}`].data.subarray(j * width, (j + 1) * width);
      const mdb = cd.arrays.M_dB, maxima = pick("top_max", n), frames = pick("top_frame", n);
      const examples = Array.from(pick("top", n), (e, i) => ({ ...cd.meta.examples[e], index: e, max: maxima[i], frame: frames[i], M_dB: exampleMdB(cd, e) }));
      const bins = cd.arrays[`hist/${m}`].shape[1];
      return { examples, hist: pick("hist", bins), histRange: Array.from(pick("hist_range", 2)), open: cd.arrays[`open/${m}`].data[j],
               tags: Array.from(pick("tags", 10), (k) => cd.meta.tags[m][k]), r: pick("tag_r", 10),
               bands: mdb ? mdb.shape[1] : 0, cols: mdb ? mdb.shape[2] : 0 };
    },
    draw(ex, ctx, c, v) {
      const cd = ex.collection, shared = ex.shared, boxes = ex.layout.boxes, dt = cd.meta.m_db.frame_seconds, pool = cd.meta.m_db.pool;
      P.text(ctx, `${v.unit} (${v.model}) over ${cd.meta.n_segments.toLocaleString("en")} segments of ${cd.meta.n_files} recordings`, ex.width / 2, 10, "center", "middle", "bold 13px sans-serif");
      P.text(ctx, cd.meta.audio ? `its ${c.examples.length} strongest segments: M_dB (${pool} × ${pool} means), the frame of the unit's maximum dashed; click one to play it`
        : `its ${c.examples.length} strongest segments (no M_dB: the collection's audio is not available)`, ex.width / 2, 27, "center", "middle", "12px sans-serif");
      const sc = colourScale(shared, 0, 4, v, false), hz = cd.meta.m_db.mel_hz;
      c.scales = { M_dB: sc };
      const yticks = [0, 32, 64, 95].map((b) => [(b - (pool - 1) / 2) / pool, `${b}\n${Math.round(hz[b]).toLocaleString("en")} Hz`]);
      // The examples share one time axis, time in their segment (where the segment starts is in
      // the title): their maxima compare at a glance, and the panels' frames, ticks and labels
      // stay the same from one unit to the next, so they are drawn once (plot.js's layers), not
      // on every change (that was half of a change's work).
      c.examples.forEach((e, i) => {
        const title = `#${i + 1} ${e.label.slice(0, 20)} at ${e.start_s.toFixed(1)} s: max ${e.max.toFixed(2)}`;
        if (!e.M_dB) {
          P.text(ctx, title, boxes[i].x + boxes[i].w / 2, boxes[i].y + 20, "center", "middle", "bold 12px sans-serif");
          P.text(ctx, `from ${e.start_s.toFixed(1)} s, the maximum at ${(e.start_s + e.frame * dt).toFixed(2)} s`, boxes[i].x + boxes[i].w / 2, boxes[i].y + 40, "center", "middle");
          return;
        }
        const h = P.heatmap(ctx, boxes[i], { data: e.M_dB, rows: c.bands, cols: c.cols, extent: [-dt / 2, (c.cols * pool - 0.5) * dt, -0.5, c.bands - 0.5],
          ...sc, title, xlabel: SEGMENT_TIME, ylabel: "mel band", yticks, barLabel: i % ex.layout.cols === ex.layout.cols - 1 ? "M_dB" : "" });
        const px = h.sx(e.frame * dt);
        ctx.save(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.2; ctx.setLineDash([4, 3]);
        ctx.beginPath(); ctx.moveTo(px, h.rect.y); ctx.lineTo(px, h.rect.y + h.rect.h); ctx.stroke(); ctx.restore();
        if (cd.meta.audio && i + 1 === v.example) {  // the example in the player
          ctx.save(); ctx.strokeStyle = "#1f77b4"; ctx.lineWidth = 3;
          ctx.strokeRect(h.rect.x - 2, h.rect.y - 2, h.rect.w + 4, h.rect.h + 4); ctx.restore();
        }
      });
      const [lo, hi] = c.histRange, bins = c.hist.length, width = (hi - lo) / bins;
      let most = 1;
      for (const n of c.hist) most = Math.max(most, n);
      const decades = Math.ceil(Math.log10(most) + 1e-9);
      P.bars(ctx, boxes[6], { at: Float64Array.from({ length: bins }, (_, i) => lo + (i + 0.5) * width), values: Float64Array.from(c.hist, (n) => (n > 0 ? Math.log10(n) : NaN)),
        width, base: -0.2, xlim: [lo - width, hi + width], ylim: [-0.2, Math.max(decades, Math.log10(most) + 0.2)],
        yticks: Array.from({ length: decades + 1 }, (_, d) => [d, String(10 ** d)]),
        title: `rectifier open on ${Math.round(c.open * 100)}% of frames; per-segment maxima`, xlabel: `maximum of the unit's row over a segment (${cd.meta.n_segments.toLocaleString("en")} segments)`, ylabel: "segments (log scale)" });
      const n = c.tags.length;
      P.bars(ctx, boxes[7], { at: Float64Array.from({ length: n }, (_, i) => n - 1 - i), values: c.r, horizontal: true, width: 0.8, zero: true,
        colors: Array.from(c.r, (r) => (r > 0 ? "#d62728" : "#1f77b4")), xlim: [-1, 1], ylim: [-0.6, n - 0.4],
        yticks: c.tags.map((t, i) => [n - 1 - i, t]), title: `tags it goes with (${n} strongest correlations)`, xlabel: "correlation of its mean with the tag's weight" });
    },
    sync(ex, v) {
      if (ex.ui.example) ex.ui.example.forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.example) === v.example)));
    },
    // The chosen example's own MP3, or no player when there is none.
    audio: (ex, v) => (ex.clips ? ex.clips[ex.computed.examples[v.example - 1].index] : null),
  };

  // ---------------------------------------------------------------- the explorer
  function el(tag, attrs = {}, children = []) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) { if (k === "text") e.textContent = v; else e.setAttribute(k, v); }
    for (const c of children) e.append(c);
    return e;
  }

  class Explorer {
    // `island` the element to draw in, `config` as web.island_html writes it, `source` the data
    // (see the top of this file). config.address === false: the page's address is left alone.
    constructor(island, config, source) {
      this.island = island;
      this.config = config;
      this.source = source;
      this.linked = config.address !== false;
      this.kind = KINDS[config.kind];
      this.models = {};
      this.computed = null;
      this.drawCount = 0;
    }

    async start() {
      const first = this.config.view;
      // the first model's part is fetched alongside the shared part, not after it
      [this.shared] = await Promise.all([this.source.part("shared"), this.model(first.model || "MSD")]);
      this.defaultView = { model: first.model || "MSD", segment: first.segment || 0, unit: first.unit || null,
                           auto: first.vmin == null && first.vmax == null, vmin: first.vmin ?? -10, vmax: first.vmax ?? 10,
                           cmap: first.cmap || "automatic", group: "all", nontrivial: true };
      if (this.kind.defaults) Object.assign(this.defaultView, this.kind.defaults(first));
      await this.model(this.defaultView.model);
      if (this.kind.load) Object.assign(this, await this.kind.load(this, this.source));
      if (this.defaultView.unit) this.defaultView.nontrivial = this.nontrivial(this.defaultView.model, this.defaultView.unit);
      this.build();
      const [view, problem] = this.linked ? await this.fromAddress() : [{ ...this.defaultView }, null];
      await this.setView(view, { keepAddress: !problem });
      if (problem) this.say(problem);
      if (this.linked) window.addEventListener("hashchange", async () => {
        const [v, p] = await this.fromAddress();
        if (!p) await this.setView(v, { keepAddress: true }); else this.say(p);
      });
    }

    model(name) {
      const source = this.source;  // a part that arrives after a change of recording is dropped
      return source.part(name).then((md) => { if (source === this.source) this.models[name] = md; return md; });
    }

    // Show another recording (a new data source) in the same view, its segment clamped; the
    // controls and view stay as they were when its data cannot be read.
    async useSource(source) {
      let shared, md, own;
      try {
        [shared, md, own] = await Promise.all([source.part("shared"), source.part(this.view.model),
                                               this.kind.load ? this.kind.load(this, source) : {}]);
      } catch (error) { this.say(`The new recording's data could not be read (${error.message}): the view stays.`); return false; }
      Object.assign(this, { source, shared, models: { [this.view.model]: md }, lists: null }, own);
      if (this.ui.segment) this.ui.segment.max = String(shared.meta.n_segments - 1);
      await this.setView({ ...this.view, segment: Math.min(this.view.segment, shared.meta.n_segments - 1) });
      return true;
    }

    layerOf(unit) { return unit.split("/")[0]; }

    nontrivial(model, unit) {
      const md = this.models[model], [layer, , idx] = unit.split("/");
      return md.meta.units[layer].nontrivial.includes(Number(idx));
    }

    units(model, layer, group, nontrivialOnly) {
      const md = this.models[model], keep = new Set(md.meta.units[layer].nontrivial);
      const out = [];
      for (const g of groupsOf(this.shared, layer)) {
        if (group !== "all" && g.name !== group) continue;
        for (let i = g.first_row; i < g.first_row + g.size; i++) if (!nontrivialOnly || keep.has(i)) out.push(`${layer}/${g.name}/${i}`);
      }
      return out;
    }

    // Whether `name` is a unit this explorer shows; the unit's canonical name or null.
    checkUnit(name) {
      if (typeof name !== "string") return null;
      const parts = name.split("/");
      if (parts.length !== 3 || !this.config.layers.includes(parts[0]) || !/^\d+$/.test(parts[2])) return null;
      const g = groupsOf(this.shared, parts[0]).find((x) => x.name === parts[1]);
      const i = Number(parts[2]);
      return g && i >= g.first_row && i < g.first_row + g.size ? name : null;
    }

    // The view the page's address names, or the default view and why the address was refused.
    async fromAddress() {
      const hash = decodeURIComponent(location.hash || "");
      if (!hash.startsWith("#explore?")) return [{ ...this.defaultView }, null];
      const q = new URLSearchParams(hash.slice("#explore?".length));
      const v = { ...this.defaultView };
      const refuse = (what) => [{ ...this.defaultView }, `The address asks for ${what}, which this explorer does not have: showing the default view.`];
      if (q.has("model")) { if (!MODELS.includes(q.get("model"))) return refuse(`model "${q.get("model")}"`); v.model = q.get("model"); }
      if (q.has("segment")) {
        const s = q.get("segment");
        if (!/^\d+$/.test(s) || Number(s) >= this.shared.meta.n_segments) return refuse(`segment "${s}"`);
        v.segment = Number(s);
      }
      if (q.has("unit")) {
        if (!this.kind.controls.includes("unit") || !this.checkUnit(q.get("unit"))) return refuse(`unit "${q.get("unit")}"`);
        v.unit = q.get("unit");
      }
      if (q.has("vmin") || q.has("vmax")) {
        const lo = Number(q.get("vmin")), hi = Number(q.get("vmax"));
        if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) return refuse(`colour limits "${q.get("vmin")}" to "${q.get("vmax")}"`);
        Object.assign(v, { auto: false, vmin: lo, vmax: hi });
      }
      if (q.has("cmap")) { if (!(q.get("cmap") in this.shared.meta.colormaps)) return refuse(`colour map "${q.get("cmap")}"`); v.cmap = q.get("cmap"); }
      await this.model(v.model);
      if (v.unit) { v.group = "all"; v.nontrivial = v.nontrivial && this.nontrivial(v.model, v.unit); }
      const refused = this.kind.fromAddress && this.kind.fromAddress(this, q, v);
      if (refused) return refuse(refused);
      return [v, null];
    }

    address(v) {
      const q = new URLSearchParams({ model: v.model, segment: String(v.segment) });
      if (v.unit) q.set("unit", v.unit);
      if (!v.auto) { q.set("vmin", String(v.vmin)); q.set("vmax", String(v.vmax)); }
      if (v.cmap !== "automatic") q.set("cmap", v.cmap);
      if (this.kind.address) this.kind.address(v, q);
      return `#explore?${q.toString().replace(/%2F/g, "/")}`;
    }

    build() {
      const c = this.kind.controls, cfg = this.config;
      const ui = (this.ui = {});
      const row = (...kids) => el("div", { class: "mx-row" }, kids);
      const label = (text, control) => el("label", {}, [text + " ", control]);
      const rows = [];
      if (c.includes("model")) {
        ui.model = MODELS.map((m) => el("button", { type: "button", class: "mx-toggle", "data-model": m, text: m }));
        rows.push(row(el("span", { text: "model " }), ...ui.model));
      }
      if (c.includes("segment")) {
        ui.segment = el("input", { type: "range", min: "0", max: String(this.shared.meta.n_segments - 1), step: "1", "aria-label": "segment" });
        ui.segmentText = el("span", { class: "mx-value" });
        rows.push(row(label("segment", ui.segment), ui.segmentText));
      }
      if (c.includes("unit")) {
        const kids = [];
        if (cfg.layers.length > 1) { ui.layer = el("select", { "aria-label": "layer" }, cfg.layers.map((l) => el("option", { value: l, text: l }))); kids.push(label("layer", ui.layer)); }
        ui.group = el("select", { "aria-label": "kernels" });
        ui.nontrivial = el("input", { type: "checkbox" });
        ui.unit = el("select", { "aria-label": "unit" });
        kids.push(label("kernels", ui.group), label("non-trivial units only", ui.nontrivial), label("unit", ui.unit));
        rows.push(row(...kids));
      }
      if (c.includes("scale")) {
        ui.auto = el("input", { type: "checkbox" });
        ui.vmin = el("input", { type: "text", size: "7", "aria-label": "colour minimum" });
        ui.vmax = el("input", { type: "text", size: "7", "aria-label": "colour maximum" });
        ui.cmap = el("select", { "aria-label": "colours" }, ["automatic", ...Object.keys(this.shared.meta.colormaps)].map((m) => el("option", { value: m, text: m })));
        rows.push(row(label("automatic colour scale", ui.auto), label("min", ui.vmin), label("max", ui.vmax), label("colours", ui.cmap)));
      }
      if (this.kind.build) rows.push(row(...this.kind.build(this, label)));
      ui.message = el("div", { class: "mx-message", role: "status" });
      ui.canvas = el("canvas", { class: "mx-figure", role: "img" });
      ui.audio = el("audio", { controls: "", preload: "metadata", class: "mx-audio" });
      ui.link = el("a", { class: "mx-link", text: "link to this view" });
      ui.link.hidden = !this.linked;
      const box = el("div", { class: "mx-explorer" }, [el("div", { class: "mx-controls" }, rows), ui.message,
        el("div", { class: "mx-scroll" }, [ui.canvas]), el("div", { class: "mx-row" }, [ui.audio, ui.link])]);
      this.island.replaceChildren(box);
      // the cell's other outputs (static figure, saved controls, player) stand in when scripts do not run
      const cell = this.island.closest(".cell_output");
      if (cell) for (const other of cell.children) if (!other.contains(this.island)) other.style.display = "none";
      this.wire();
    }

    wire() {
      const ui = this.ui;
      const change = (partial) => this.setView({ ...this.view, ...partial }, { fromControl: true });
      if (ui.model) ui.model.forEach((b) => b.addEventListener("click", () => change({ model: b.dataset.model })));
      if (ui.segment) ui.segment.addEventListener("input", () => change({ segment: Number(ui.segment.value) }));
      if (ui.layer) ui.layer.addEventListener("change", () => {
        const options = this.units(this.view.model, ui.layer.value, "all", this.view.nontrivial);
        if (options.length) change({ unit: options[0], group: "all" }); else this.refuse("No unit of this layer passes the filter: the current unit stays.");
      });
      // kept for the lists' other <select>s, which sync swaps in
      this.listens = { group: () => change({ group: ui.group.value }), unit: () => change({ unit: ui.unit.value }) };
      if (ui.group) ui.group.addEventListener("change", this.listens.group);
      if (ui.nontrivial) ui.nontrivial.addEventListener("change", () => change({ nontrivial: ui.nontrivial.checked }));
      if (ui.unit) ui.unit.addEventListener("change", this.listens.unit);
      if (ui.auto) ui.auto.addEventListener("change", () => change({ auto: ui.auto.checked }));
      if (ui.cmap) ui.cmap.addEventListener("change", () => change({ cmap: ui.cmap.value }));
      // played within a frame of a change: the view's source, from its start
      ui.audio.addEventListener("play", () => { if (this.flushAudio()) ui.audio.play().catch(() => {}); });
      const limits = () => {
        const lo = ui.vmin.value.trim(), hi = ui.vmax.value.trim();
        const a = Number(lo), b = Number(hi);
        if (lo === "" || hi === "" || !Number.isFinite(a) || !Number.isFinite(b)) {
          this.refuse(`Colour limits must be numbers: "${lo}" to "${hi}" is refused; the view keeps its scale.`);
        } else if (a >= b) {
          this.refuse(`The colour minimum (${lo}) must be below the maximum (${hi}); the view keeps its scale.`);
        } else change({ auto: false, vmin: a, vmax: b });
      };
      if (ui.vmin) { ui.vmin.addEventListener("change", limits); ui.vmax.addEventListener("change", limits); }
    }

    refuse(message) {
      this.sync();
      this.say(message);
    }

    say(message) { this.ui.message.textContent = message; this.ui.message.hidden = !message; }

    // Complete a view: a layer and unit list consistent with the filters; null and a reason if none is.
    resolve(v) {
      if (this.kind.resolve) return this.kind.resolve(this, v);
      if (!this.kind.controls.includes("unit")) return [v, null];
      const options = this.units(v.model, this.layerOf(v.unit), v.group, v.nontrivial);
      if (!options.length) return [null, "No unit passes these filters: the current unit stays."];
      return [{ ...v, unit: options.includes(v.unit) ? v.unit : options[0] }, null];
    }

    async setView(next, { keepAddress = false, fromControl = false } = {}) {
      const started = performance.now();
      if (!this.models[next.model]) {
        try { await this.model(next.model); } catch (error) { this.sync(); this.say(`${error.message}: the view stays on ${this.view.model}.`); return; }
      }
      const [v, problem] = this.resolve(next);
      if (!v) { this.sync(); this.say(problem); return; }
      // a change of colour scale or map only redraws: what compute returns does not depend on them
      const md = this.models[v.model], { auto, vmin, vmax, cmap, ...rest } = v, key = JSON.stringify(rest);
      if (!this.computed || this.computedFrom !== md || this.computedKey !== key) {
        this.computed = this.kind.compute(this, md, v);
        Object.assign(this, { computedFrom: md, computedKey: key });
      }
      this.view = v;
      this.draw();
      this.drawCount++;
      this.sync();
      if (fromControl) this.say("");
      const href = this.address(v);
      this.ui.link.href = href;
      if (this.linked && (fromControl || keepAddress)) this.settle("address", () => {
        if (location.hash !== href && (fromControl || location.hash.startsWith("#explore?"))) history.replaceState(null, "", href);
      });
      this.lastDrawMs = performance.now() - started;
    }

    // Run fn once the view has been still for SETTLE_MS (only the latest fn of each `what`): the
    // address follows the view then rather than on every change, as replaceState takes
    // milliseconds (more than a frame leaves) and a dragged slider needs only its last view.
    // (The player follows at once: a reader may press play right after a change.)
    settle(what, fn) {
      this.settling = this.settling || {};
      clearTimeout(this.settling[what]);
      this.settling[what] = setTimeout(fn, SETTLE_MS);
    }

    // Draw the computed view at the width the page gives the explorer (at most 1180 px). The
    // width is read once, then followed by a ResizeObserver (which redraws when it changes):
    // reading it on every redraw would force a layout of the page, which the control's change
    // has just invalidated, and cost milliseconds.
    draw() {
      const measure = () => Math.max(560, Math.min(1180, Math.floor(this.island.clientWidth || 1180)));
      if (!this.resizes) {
        this.width = measure();
        this.resizes = new ResizeObserver(() => {
          const width = measure();
          if (width !== this.width) { this.width = width; if (this.computed) this.draw(); }
        });
        this.resizes.observe(this.island);
      }
      this.layout = this.kind.layout(this.width);
      const ctx = P.setup(this.ui.canvas, this.width, this.layout.height);
      this.kind.draw(this, ctx, this.computed, this.view);
    }

    // Make the controls show this.view (never triggers a redraw).
    sync() {
      const v = this.view, ui = this.ui;
      if (!v) return;
      if (ui.model) ui.model.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.model === v.model)));
      if (ui.segment) { ui.segment.value = String(v.segment); ui.segmentText.textContent = `${v.segment} of ${this.shared.meta.n_segments} (${segmentTitle(this.shared, v.segment).split(", ")[1]})`; }
      if (ui.unit) {
        const layer = this.layerOf(v.unit);
        if (ui.layer) ui.layer.value = layer;
        const lists = [v.model, layer, v.group, v.nontrivial].join();
        if (this.lists !== lists) {  // the option lists change with these only
          this.lists = lists;
          // each list is a <select> of its own, made once per recording: a change of model swaps
          // one element for another, where swapping some 60 options in one costs milliseconds
          if (this.optionsOf !== this.shared) Object.assign(this, { optionsOf: this.shared, selects: {} });
          const swap = (name, key, names) => {
            let select = this.selects[key];
            if (!select) {
              select = this.selects[key] = el("select", { "aria-label": ui[name].getAttribute("aria-label") },
                                              names.map((n) => el("option", { value: n, text: n })));
              select.addEventListener("change", this.listens[name]);
            }
            if (ui[name] !== select) { ui[name].replaceWith(select); ui[name] = select; }
          };
          swap("group", layer, ["all", ...groupsOf(this.shared, layer).map((g) => g.name)]);
          swap("unit", lists, this.units(v.model, layer, v.group, v.nontrivial));
        }
        ui.group.value = v.group;
        ui.nontrivial.checked = v.nontrivial;
        ui.unit.value = v.unit;
      }
      if (ui.auto) {
        ui.auto.checked = v.auto;
        const sc = this.computed && this.computed.scales && Object.values(this.computed.scales)[0];
        ui.vmin.value = String(v.auto && sc ? Number(sc.vmin.toPrecision(4)) : v.vmin);
        ui.vmax.value = String(v.auto && sc ? Number(sc.vmax.toPrecision(4)) : v.vmax);
        ui.cmap.value = v.cmap;
      }
      if (this.kind.sync) this.kind.sync(this, v);
      const shared = this.shared, start = shared.meta.segment_start_s[v.segment];
      const src = this.kind.audio ? this.kind.audio(this, v)
        : this.source.audio && `${this.source.audio}#t=${start.toFixed(3)},${(start + shared.meta.segment_seconds).toFixed(3)}`;
      if (!src) this.ui.audio.remove();  // an explorer without a player
      else this.follow(src);
    }

    // The player takes a new source once the frame showing the view is painted: the view comes
    // first, as a source costs the player milliseconds (it is made anew). Its first source, a
    // reader's press on play and playExample do not wait (flushAudio).
    follow(src) {
      this.audioSrc = src;
      if (!this.ui.audio.hasAttribute("src")) this.flushAudio();
      else if (!this.audioPending) {
        this.audioPending = true;
        requestAnimationFrame(() => setTimeout(() => this.flushAudio(), 0));
      }
    }

    // Give the player the view's source now, if it lacks it; whether it did.
    flushAudio() {
      this.audioPending = false;
      const audio = this.ui.audio, stale = Boolean(this.audioSrc) && audio.getAttribute("src") !== this.audioSrc;
      if (stale) audio.setAttribute("src", this.audioSrc);
      return stale;
    }
  }

  const STYLE = `.mx-explorer{font:13px sans-serif;margin:.5em 0}.mx-row{display:flex;flex-wrap:wrap;gap:.3em 1.2em;align-items:center;margin:.25em 0}
.mx-toggle{border:1px solid #888;background:#f4f4f4;padding:.15em .8em;cursor:pointer}.mx-toggle[aria-pressed=true]{background:#1f77b4;color:#fff}
.mx-message{color:#b00020;min-height:1.2em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.mx-scroll{overflow-x:auto}.mx-audio{height:2em}.mx-note{color:#555}`;

  function addStyle() {
    if (!document.getElementById("mx-style")) document.head.append(el("style", { id: "mx-style", text: STYLE }));
  }

  // `ready`: settled once every explorer of the page has drawn its first view (or failed to); the
  // page starts MathJax then (_ext/book_pages.py), so that its start-up does not hold the explorers up.
  window.MusicnnExplorer = { Explorer, decodeData, addStyle, ready: Promise.resolve() };
  window.__explorer = window.__explorer || [];
  function startAll() {
    const islands = document.querySelectorAll(".musicnn-explorer");
    if (!islands.length) return;
    addStyle();
    const started = [];
    for (const island of islands) {
      const config = JSON.parse(island.dataset.explorer);
      const ex = new Explorer(island, config, scriptSource(config));
      window.__explorer.push(ex);
      ex.ready = ex.start().catch((error) => {
        island.textContent = `This explorer could not start (${error.message}); the static figure below is the default view.`;
        island.style.color = "#b00020";
        console.warn(error);
      });
      started.push(ex.ready);
    }
    window.MusicnnExplorer.ready = Promise.all(started);
  }
  if (HERE === null) return;  // inside a widget's module: js/src/widget.js starts its explorer
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll); else startAll();
})();
