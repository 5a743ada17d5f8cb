// swinviz: the instant click (see app/instant.py). A click on the model's image redraws the
// attention figure in the page from the numbers the server sent with it (layout.meta.click),
// or, with its tab open, asks the server for the information-flow figure itself (askFlow); the
// server learns the query afterwards, through Gradio's event for the click.
(function () {
  "use strict";
  if (window.swinviz) return;
  const S = (window.swinviz = { packs: new Map(), drew: null, at: null, timings: [], last: null });
  // The one switch of the in-page path (app.instant.INSTANT_CLICKS, or ?instant=0 in the
  // page's address): off, the page neither redraws nor asks for anything itself; every click
  // goes to the server as it is (an empty click message), which draws both figures.
  S.instant = window.swinvizInstant !== false
    && new URLSearchParams(window.location.search).get("instant") !== "0";
  // Gradio 6.31's upload progress bar (every upload to the image) reads the upload's progress
  // through its client's fetch-based stand-in for an EventSource and closes it when the upload
  // is done and when the bar goes; that stand-in's close() is a stub that only warns "Method
  // not implemented." (the server ends that stream itself: nothing is left open). The page
  // cannot reach the stand-in, so exactly that warning is not passed on; any other goes out.
  const warn = console.warn;
  console.warn = function (...args) {
    if (args.length === 1 && args[0] === "Method not implemented.") return;
    return warn.apply(this, args);
  };
  const TYPES = { u16: Uint16Array, f32: Float32Array, i32: Int32Array, u8: Uint8Array };

  let F16 = null; // float16 bits -> value
  function f16table() {
    if (F16) return F16;
    F16 = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
      F16[h] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity)
        : s * (1 + f / 1024) * 2 ** (e - 15);
    }
    return F16;
  }

  async function decodeArray(spec) {
    const bin = atob(spec.b);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    const buf = await new Response(stream).arrayBuffer();
    if (spec.t === "f16") { // two byte planes: high bytes, then low bytes
      const u8 = new Uint8Array(buf), n = spec.n, T = f16table(), out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = T[(u8[i] << 8) | u8[n + i]];
      return out;
    }
    return new TYPES[spec.t](buf);
  }

  async function decodePack(meta) {
    const out = Object.assign({}, meta);
    for (const [k, v] of Object.entries(meta)) {
      if (v && typeof v === "object" && "b" in v && "t" in v) out[k] = await decodeArray(v);
    }
    const [Hp, Wp] = out.pad;
    const N = out.M * out.M;
    out.N = N;
    if (out.attn_scale) { // uint16 per query row (all heads chosen)
      const q = out.attn, sc = out.attn_scale, a = new Float32Array(q.length);
      for (let i = 0; i < q.length; i++) a[i] = q[i] * sc[Math.floor(i / N)];
      out.attn = a;
    }
    out.wot = [out.order0, out.order1].map((order) => {
      const wot = new Int32Array(Hp * Wp).fill(-1); // flat position -> w * N + k
      for (let i = 0; i < order.length; i++) wot[order[i]] = i;
      return wot;
    });
    return out;
  }

  function figureDiv(kind) {
    return document.querySelector("#fig-" + kind + " .js-plotly-plot");
  }

  function visible(el) {
    return !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  }

  // One of the page's own routes (app.instant.PAGE_*_PATH, given by page_head) under the
  // app's root (a Space, a mounted app).
  function routeUrl(name) {
    const root = (window.gradio_config && window.gradio_config.root) || "";
    return root.replace(/\/+$/, "") + window.swinvizPaths[name];
  }

  function packUrl(where) { // the pack route, with the figure's fields
    const fields = new URLSearchParams({ run: where.run, block: where.block,
      head: where.head === null ? "" : where.head, row: where.row, col: where.col });
    return routeUrl("pack") + "?" + fields;
  }

  // The figure's click pack: fetched apart from the figure (app.clicks.page_pack), once, after
  // the figure is drawn; the figure names where ("pack"). A failed fetch leaves the figure
  // without a pack: its clicks go to the server.
  function fetchPack(meta) {
    if (meta.order0 || !meta.pack) return Promise.resolve(meta);
    return fetch(packUrl(meta.pack)).then((r) => r.json().then((body) => {
      if (!r.ok) throw new Error(body && body.error ? body.error : "HTTP " + r.status);
      return Object.assign({}, meta, body);
    }));
  }

  // The pack of the attention figure now drawn (fetched and decoded once per figure).
  function packOf(gd) {
    const meta = gd && gd.layout && gd.layout.meta && gd.layout.meta.click;
    // the contract + the pack (or where to fetch it)
    if (!meta || meta.v !== 1 || !meta.traces || !(meta.order0 || meta.pack)) return null;
    const id = meta.key + "|" + meta.block + "|" + meta.head;
    if (!S.packs.has(id)) {
      S.packs.clear();
      S.pending = null; // a new figure from the server shows the session's query
      const entry = { id: id, ready: null, promise: null, failed: null };
      entry.promise = fetchPack(meta).then(decodePack).then((p) => { entry.ready = p; return p; });
      entry.promise.catch((e) => {
        entry.failed = String(e && e.message || e);
        console.warn("swinviz: no click pack; clicks go to the server:", entry.failed);
      });
      S.packs.set(id, entry);
    }
    return S.packs.get(id);
  }

  function cellsOutline(inside, H, W, cell) {
    // swinviz.figures.style.cells_outline: horizontal edges, then vertical ones, row-major.
    const xs = [], ys = [];
    const at = (r, c) => r >= 0 && r < H && c >= 0 && c < W && inside[r * W + c] === 1;
    for (let r = 0; r <= H; r++) for (let c = 0; c < W; c++) {
      if (at(r, c) !== at(r - 1, c)) { xs.push(c * cell, (c + 1) * cell, null); ys.push(r * cell, r * cell, null); }
    }
    for (let r = 0; r < H; r++) for (let c = 0; c <= W; c++) {
      if (at(r, c) !== at(r, c - 1)) { xs.push(c * cell, c * cell, null); ys.push(r * cell, (r + 1) * cell, null); }
    }
    return [xs, ys];
  }

  function reshape(flat, rows, cols) {
    const out = [];
    for (let i = 0; i < rows; i++) out.push(Array.from(flat.slice(i * cols, (i + 1) * cols)));
    return out;
  }

  // Every query-dependent number of the attention figure for token (r, c).
  function attentionData(P, r, c) {
    const [Hp, Wp] = P.pad;
    const { M, N, nH, p, block: sb, head } = P;
    const order = [P.order0, P.order1], regions = [P.regions0, P.regions1];
    const hb = head === null ? 0 : head;
    const selRow = (w, h, k) => {
      const base = ((w * nH + h) * N + k) * N;
      return Float64Array.from(P.attn.subarray(base, base + N));
    };
    const blocks = [0, 1].map((b) => {
      const wk = P.wot[b][r * Wp + c];
      const w = Math.floor(wk / N), k = wk % N;
      let row;
      if (b === sb) {
        if (head === null) {
          row = new Float64Array(N);
          for (let h = 0; h < nH; h++) { const x = selRow(w, h, k); for (let j = 0; j < N; j++) row[j] += x[j]; }
          for (let j = 0; j < N; j++) row[j] /= nH;
        } else row = selRow(w, head, k);
      } else {
        row = new Float64Array(N);
        const base = (w * N + k) * N;
        for (let j = 0; j < N; j++) row[j] = P.other[base + j];
      }
      const grid = new Array(Hp * Wp).fill(null);
      const inside = new Uint8Array(Hp * Wp);
      const keys = order[b].subarray(w * N, (w + 1) * N);
      for (let j = 0; j < N; j++) { grid[keys[j]] = row[j]; inside[keys[j]] = 1; }
      const reg = regions[b].subarray(w * N, (w + 1) * N);
      const masked = Array.from(reg, (x) => P.has_mask[b] && x !== reg[k]);
      return { w, k, row, grid, inside, keys, reg, masked };
    });
    let pmax = 0;
    for (const B of blocks) for (const v of B.row) pmax = Math.max(pmax, v);
    return { blocks, pmax: pmax || 1.0, hb, Hp, Wp, M, N, nH, p, sb };
  }

  // The figure's redraw contract (layout.meta.click, swinviz.figures.attention.click): each
  // trace's [role, place in the role's list], by trace index
  function rolesOf(C, n) {
    const of = new Array(n).fill(null);
    for (const [role, idx] of Object.entries(C.traces)) idx.forEach((i, at) => { of[i] = [role, at]; });
    return of;
  }

  // a text's template with its placeholders (`names`) filled from `vals`
  function fill(template, names, vals) {
    let text = template;
    for (const name of names) text = text.split("{" + name + "}").join(String(vals[name]));
    return text;
  }

  function redrawAttention(gd, P, r, c) {
    const D = attentionData(P, r, c);
    const { Hp, Wp, M, N, nH, p, sb } = D;
    const Bs = D.blocks[sb];
    const wq = Bs.w, kq = Bs.k;
    const C = gd.layout.meta.click;
    const roles = rolesOf(C, gd.data.length);
    // (b) the query's logit parts, (c) its window's attention for every head
    const sBase = (wq * N + kq) * N, lo = P.scores_lo[wq * N + kq], st = P.scores_step[wq * N + kq];
    const sc = Array.from({ length: N }, (_, j) => lo + P.scores[sBase + j] * st);
    const bi = Array.from(P.bias.subarray(kq * N, (kq + 1) * N));
    const att = (h, k) => {
      const base = ((wq * nH + h) * N + k) * N;
      return Array.from(P.attn.subarray(base, base + N));
    };
    const rBase = (wq * N + kq) * N, rs = P.rows_scale[wq * N + kq];
    const attnB = Array.from(P.rows.subarray(rBase, rBase + N), (x) => x * rs);
    const mask = Array.from(Bs.reg, (x) => (P.has_mask[sb] && x !== Bs.reg[kq] ? -100 : 0));
    const parts = { scores: sc, bias: bi, mask: mask, attn: attnB };
    let amax = 0;
    for (const v of sc) amax = Math.max(amax, Math.abs(v));
    for (const v of bi) amax = Math.max(amax, Math.abs(v));
    amax = amax || 1.0;
    const attMax = Math.max(...attnB) || 1.0;
    const tok = (pos) => [Math.floor(pos / Wp), pos % Wp];
    const slotCd = [];
    for (let i = 0; i < M; i++) {
      const row = [];
      for (let j = 0; j < M; j++) {
        const s = i * M + j, [kr, kc] = tok(Bs.keys[s]);
        row.push([i, j, kr, kc, Bs.reg[s]]);
      }
      slotCd.push(row);
    }
    // (c), made only when the query's window is not the one drawn: every head's N x N matrix,
    // their common top, and each slot's token
    let cParts = null;
    const windowHeads = () => {
      if (cParts) return cParts;
      const heads = [];
      let top = 0;
      for (let h = 0; h < nH; h++) {
        const mat = [];
        for (let k = 0; k < N; k++) { const x = att(h, k); for (const v of x) top = Math.max(top, v); mat.push(x); }
        heads.push(mat);
      }
      cParts = { heads: heads, top: top || 1.0, tokens: Array.from(Bs.keys, (key) => tok(key)) };
      return cParts;
    };
    const matCd = () => {
      const T = windowHeads().tokens;
      return T.map((a) => T.map((b) => [a[0], a[1], b[0], b[1]]));
    };
    // the tiled heatmaps of (c) and of (b) with all heads, where the figure has them
    const tiledT = C.traces.window_heads.length ? gd.data[C.traces.window_heads[0]] : null;
    const tiledB = C.traces.heads.length ? gd.data[C.traces.heads[0]] : null;
    // one heatmap of nH tiles n x n, head h's at tiles[h] = [y0, x0], empty (null, hover data
    // zeros) between them, as swinviz.figures.attention._tiled; cell(h, i, j) gives the value
    // and the hover fields after the head
    const placeTiles = (tiles, n, fields, cell) => {
      let Y = 0, X = 0;
      for (const [y0, x0] of tiles) { Y = Math.max(Y, y0 + n); X = Math.max(X, x0 + n); }
      const z = Array.from({ length: Y }, () => new Array(X).fill(null));
      const cd = Array.from({ length: Y }, () => Array.from({ length: X }, () => new Array(1 + fields).fill(0)));
      let top = 0;
      tiles.forEach(([y0, x0], h) => {
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
          const [v, hover] = cell(h, i, j);
          top = Math.max(top, v);
          z[y0 + i][x0 + j] = v;
          cd[y0 + i][x0 + j] = [h].concat(hover);
        }
      });
      return { z: z, customdata: cd, zmax: top || 1.0 };
    };
    // (c) as one tiled heatmap (more than one head), as swinviz.figures.attention.tiled_heads
    const tiledHeads = (meta) => {
      const { heads, tokens } = windowHeads();
      return placeTiles(meta.tiles, N, 6, (h, i, j) => [heads[h][i][j],
        [i, tokens[i][0], tokens[i][1], j, tokens[j][0], tokens[j][1]]]);
    };
    // (b) with all heads (more than one): every head's row of the query in one tiled
    // heatmap (attention.tiled_rows)
    const tiledRows = (meta) => {
      const rows = Array.from({ length: nH }, (_, h) => att(h, kq));
      return placeTiles(meta.tiles, M, 5, (h, i, j) => [rows[h][i * M + j], slotCd[i][j]]);
    };
    const qy = Math.floor(kq / M), qx = kq % M;
    const masked0 = C.traces.masked.length ? gd.data[C.traces.masked[0]] : null;
    const data = [];
    // trace i of the figure drawn -> its place in `data`; each role's traces in `data`
    const moved = new Array(gd.data.length).fill(null);
    const traces = {};
    for (const role of Object.keys(C.traces)) traces[role] = [];
    const put = (i, role, at, t) => {
      if (role !== null) traces[role][at === null ? traces[role].length : at] = data.length;
      if (i !== null) moved[i] = data.length;
      data.push(t);
    };
    gd.data.forEach((t, i) => {
      const [role, b] = roles[i] || [null, null];
      const same = (x) => put(i, role, b, x);
      if (role === "masked") return; // re-added after each outline when the query needs it
      if (role === "attention") {
        same(Object.assign({}, t, { z: reshape(D.blocks[b].grid, Hp, Wp), zmax: D.pmax }));
      } else if (role === "outline") {
        const B = D.blocks[b];
        const [xs, ys] = cellsOutline(B.inside, Hp, Wp, p);
        same(Object.assign({}, t, { x: xs, y: ys }));
        const mx = [], my = [];
        B.masked.forEach((isM, j) => { if (isM) { const [kr, kc] = tok(B.keys[j]); mx.push((kc + 0.5) * p); my.push((kr + 0.5) * p); } });
        if (mx.length) {
          const base = masked0 || { type: "scatter", mode: "markers", hoverinfo: "skip", showlegend: false,
            name: "masked keys", marker: { symbol: "x-thin", size: Math.max(5, Math.floor(360 / Math.max(Hp, Wp))), line: { color: "white", width: 1.5 } } };
          put(null, "masked", null, Object.assign({}, base, { x: mx, y: my, xaxis: t.xaxis, yaxis: t.yaxis }));
        }
      } else if (role === "keys") {
        const B = D.blocks[b];
        const xs = [], ys = [], cd = [];
        for (let j = 0; j < N; j++) {
          const [kr, kc] = tok(B.keys[j]);
          xs.push((kc + 0.5) * p); ys.push((kr + 0.5) * p);
          cd.push([kr, kc, B.w, j, B.reg[j], B.row[j], B.masked[j] ? -100 : -0]);
        }
        same(Object.assign({}, t, { x: xs, y: ys, customdata: cd }));
      } else if (role === "query") { // its hover text: a template (below)
        same(Object.assign({}, t, { x: [(c + 0.5) * p], y: [(r + 0.5) * p] }));
      } else if (role === "head") {
        // all heads chosen: (b) shows every head's attention row of the query (b: the head)
        let top = 0;
        for (let h = 0; h < nH; h++) for (const v of att(h, kq)) top = Math.max(top, v);
        same(Object.assign({}, t, { z: reshape(att(b, kq), M, M), customdata: slotCd,
          zmax: top || 1.0 }));
      } else if (role === "heads") {
        same(Object.assign({}, t, tiledRows(t.meta)));
      } else if (role === "query_slots") {
        // the query's slot outlined in every tile of (b) (attention.query_slots)
        const xs = [], ys = [];
        for (const [y0, x0] of tiledB.meta.tiles) {
          const x = x0 + qx, y = y0 + qy;
          xs.push(x - 0.5, x + 0.5, x + 0.5, x - 0.5, x - 0.5, null);
          ys.push(y - 0.5, y - 0.5, y + 0.5, y + 0.5, y - 0.5, null);
        }
        xs.pop();
        ys.pop();
        same(Object.assign({}, t, { x: xs, y: ys }));
      } else if (role in parts) {
        const extra = role === "scores" || role === "bias" ? { zmin: -amax, zmax: amax }
          : role === "attn" ? { zmax: attMax } : {};
        same(Object.assign({}, t, { z: reshape(parts[role], M, M), customdata: slotCd }, extra));
      } else if (role === "query_slot") {
        same(Object.assign({}, t, { x: [qx - 0.5, qx + 0.5, qx + 0.5, qx - 0.5, qx - 0.5],
          y: [qy - 0.5, qy - 0.5, qy + 0.5, qy + 0.5, qy - 0.5] }));
      } else if (role === "window_head") {
        // (c) depends on the query's window only: the same window keeps its traces as they are
        if (C.window === wq) same(t);
        else {
          const W = windowHeads();
          same(Object.assign({}, t, { z: W.heads[b], customdata: matCd(), zmax: W.top }));
        }
      } else if (role === "window_heads") {
        same(C.window === wq ? t : Object.assign({}, t, tiledHeads(t.meta)));
      } else if (role === "query_row") {
        // the query slot's row in (c): its outline in a head's own panel, or in the tiled
        // heatmap a mark left and right of each tile (as attention.query_rows)
        let ys = [kq - 0.5, kq - 0.5, kq + 0.5, kq + 0.5, kq - 0.5];
        if (tiledT) {
          ys = [];
          for (const [y0] of tiledT.meta.tiles) ys.push(y0 + kq, y0 + kq, null, y0 + kq, y0 + kq, null);
          ys.pop();
        }
        same(Object.assign({}, t, { y: ys }));
      } else same(t);
    });
    // the texts that name the query: the figure's templates, filled (layout.meta.click.texts)
    const fix = (x) => x.toFixed(3);
    const vals = { row: r, col: c, window: wq, slot: kq, window0: D.blocks[0].w, slot0: D.blocks[0].k,
      window1: D.blocks[1].w, slot1: D.blocks[1].k, scores_mean: fix(P.scores_mean[wq * N + kq]),
      bias_mean: fix(P.bias_mean[kq]) };
    const annotations = (gd.layout.annotations || []).slice();
    const layout = Object.assign({}, gd.layout, { annotations: annotations });
    for (const T of C.texts) {
      const text = fill(T.template, T.values, vals), at = T.path;
      if ("annotation" in at) {
        const a = annotations[at.annotation];
        if (a && a.text !== text) annotations[at.annotation] = Object.assign({}, a, { text: text });
      } else if ("title" in at) {
        if (layout.title && layout.title.text) layout.title = Object.assign({}, layout.title, { text: text });
      } else if ("trace" in at && moved[at.trace] !== null) {
        const j = moved[at.trace], t = data[j];
        if ("item" in at) {
          const items = (t[at.key] || []).slice();
          items[at.item] = text;
          data[j] = Object.assign({}, t, { [at.key]: items });
        } else if (t[at.key] !== text) data[j] = Object.assign({}, t, { [at.key]: text });
      }
    }
    // the contract of the figure drawn now: its traces' places, its texts' traces there
    const texts = C.texts.map((T) => ("trace" in T.path
      ? Object.assign({}, T, { path: Object.assign({}, T.path, { trace: moved[T.path.trace] }) }) : T));
    const click = Object.assign({}, C, { window: wq, traces: traces, texts: texts });
    layout.meta = Object.assign({}, layout.meta, { query: [r, c], click: click });
    if (S.last) S.last.built = performance.now() - S.last.t0;
    return reactAtSize(gd, data, layout, () => { if (S.last) S.last.sync = performance.now() - S.last.t0; });
  }

  // Plotly.react at the size the figure has now (autosize would measure the page again, ~10%
  // of a redraw); autosize is put back afterwards, so the figure still follows the window.
  // `between` runs once the synchronous part of the redraw is done.
  function reactAtSize(gd, data, layout, between) {
    const size = gd._fullLayout || {};
    const given = layout.height;
    const fixed = !!(size.width && size.height);
    if (fixed) Object.assign(layout, { autosize: false, width: size.width, height: given || size.height });
    const reacting = window.Plotly.react(gd, data, layout);
    if (between) between();
    return Promise.resolve(reacting).then(() => {
      if (fixed && gd.layout) {
        gd.layout.autosize = true;
        delete gd.layout.width;
        if (!given) delete gd.layout.height;
      }
    });
  }

  // ImagePreview's click position (Gradio 6.31), then app.picture.click_to_token.
  function clickToken(img, ev, P) {
    const rect = img.getBoundingClientRect();
    const [H, W] = P.grid;
    // while the server's next image loads (its src just changed) the natural size reads 0:
    // the image is the run's grid of tokens of `disp` pixels (app.instant.click_geometry)
    const nw = img.naturalWidth || W * P.disp, nh = img.naturalHeight || H * P.disp;
    const s = Math.min(rect.width / nw, rect.height / nh, 1);
    const ox = (rect.width - nw * s) / 2, oy = (rect.height - nh * s) / 2;
    const x = Math.round((ev.clientX - rect.left - ox) / s), y = Math.round((ev.clientY - rect.top - oy) / s);
    if (x < 0 || x >= nw || y < 0 || y >= nh) return null;
    const r = Math.min(Math.max(Math.floor(y / P.disp), 0), H - 1);
    const c = Math.min(Math.max(Math.floor(x / P.disp), 0), W - 1);
    return [r, c];
  }

  // A figure's layout.meta.page (app.plotting.add_page_meta: the run's name, the template,
  // where the clickable image's tokens are), shown or not
  function pageMeta(gd) {
    const m = gd && gd.layout && gd.layout.meta && gd.layout.meta.page;
    return m && typeof m.run === "string" && m.grid ? m : null;
  }

  // The information-flow figure shown, when the page can ask the server for another token's
  // figure itself
  function flowPage() {
    if (!flowOpen()) return null;
    const gd = figureDiv("flow"), m = pageMeta(gd);
    return m ? { gd: gd, meta: m } : null;
  }

  // the flow figure, shown or not, is still the one of this run, template and language
  function flowStillOf(run, template, lang) {
    const m = pageMeta(figureDiv("flow"));
    return !!m && m.run === run && m.template === template && m.lang === lang;
  }

  function flowUrl() {
    return routeUrl("flow");
  }

  // Ask for token rc's flow figure at the click itself (app.clicks.page_flow) and draw it
  // when it comes, unless another click came since, or the figure is now another run's or
  // template's; Gradio's event for the click then leaves that figure out ("|flowpage"). An
  // answer that finds the flow tab closed waits for it (`shown`).
  function askFlow(flow, rc, last) {
    const m = flow.meta, seq = ++S.flowSeq, click = S.clickSeq;
    const body = JSON.stringify({ run: m.run, row: rc[0], col: rc[1], template: m.template,
      lang: m.lang });
    const current = () => seq === S.flowSeq && flowStillOf(m.run, m.template, m.lang);
    return fetch(flowUrl(), { method: "POST", headers: { "Content-Type": "application/json" }, body: body })
      .then((res) => res.text().then((text) => [res.ok, text]))
      .then(([ok, text]) => {
        if (!current()) return;
        if (!flowPage()) { // another tab is open: drawn when the flow tab opens again
          S.flowParked = { ok: ok, text: text, rc: rc, last: last, click: click, run: m.run,
            template: m.template, lang: m.lang };
          return;
        }
        if (ok) return S.flowFigure(text, last);
        flowFailed(rc, text);
      })
      .catch((e) => {
        console.error("swinviz: the flow figure's request failed", e);
        if (current() && flowPage()) flowFailed(rc, "");
      });
  }

  // the figure shown stays as it was, and its title says why
  function flowFailed(rc, text) {
    let msg = "";
    try { msg = JSON.parse(text).error || ""; } catch (e) { /* not the server's JSON */ }
    const now = flowPage();
    if (!now) return;
    window.Plotly.relayout(now.gd, { "title.text": "The information flow into token (" + rc[0] + ", " +
      rc[1] + ") could not be drawn: " + (msg || "the server did not answer.") });
  }

  // Stop this click here; the function returned hands it on to Gradio (whose select event
  // tells the server) once the page has drawn what it draws itself, with what it drew: Gradio's
  // own work for a click (sending it, its status updates) would otherwise delay the drawing.
  // A click that a later one overtook is not handed on: the server learns the latest query
  // last, even where an earlier click's flow figure came back later.
  function holdClick(ev) {
    const seq = S.clickSeq;
    ev.stopImmediatePropagation();
    let done = false;
    const at = S.at, seq0 = S.seq, aim = aimOf(ev);
    return (drew, asked) => {
      if (done || seq !== S.clickSeq) return;
      done = true;
      setTimeout(() => replayWhenLoaded(ev, aim, () => {
        S.drew = drew;
        S.flowAsked = asked;
        S.at = at;
        S.add = false;
        S.seq = seq0;
      }), 0);
    };
  }

  // Where click `ev` fell on its image, read at the click itself.
  function aimOf(ev) {
    const rect = ev.target.getBoundingClientRect();
    return { target: ev.target, dx: ev.clientX - rect.left, dy: ev.clientY - rect.top };
  }

  // Hand click `ev` on to Gradio: the same point of the image (`aim`, `aimOf`), wherever the
  // image is now (a tab opened since may have scrolled the page), once the image has loaded.
  // Gradio reads the image's natural size and drops a click on an image still loading (each
  // click's answer replaces the image: a quick shift-click lost that way was never told to the
  // server). `set` puts the click's own state back just before.
  function replayWhenLoaded(ev, aim, set) {
    const { target, dx, dy } = aim;
    const img = target.isConnected ? target : document.querySelector("#query-image img") || target;
    let sent = false;
    const send = () => {
      if (sent) return;
      sent = true;
      const now = (img.isConnected ? img : document.querySelector("#query-image img") || img);
      const box = now.getBoundingClientRect();
      const x = box.left + dx, y = box.top + dy;
      const again = new MouseEvent("click", { bubbles: true, cancelable: true, composed: true,
        view: window, clientX: x, clientY: y, screenX: ev.screenX + x - ev.clientX,
        screenY: ev.screenY + y - ev.clientY, button: ev.button, buttons: ev.buttons,
        detail: ev.detail, shiftKey: ev.shiftKey });
      again.swinvizReplay = true;
      set();
      now.dispatchEvent(again);
    };
    if (img.complete && img.naturalWidth) send();
    else {
      img.addEventListener("load", send, { once: true });
      setTimeout(send, HAND_ON_MS); // an image that never loads: hand it on anyway
    }
  }

  const HAND_ON_MS = 2000; // a flow request still unanswered then: Gradio gets the click anyway

  // {run, row, col}: the token this click picks on the run the page shows, from a figure that
  // knows the image's token grid (the shown one first), or null when none does. The server
  // takes it over the click's coordinates: Gradio may send a held click again with an earlier
  // click's coordinates (trigger_mode "always_last"), but it asks PICK_JS for the message anew.
  function pageAt(img, ev) {
    const metas = ["attention", "flow"].map((k) => figureDiv(k))
      .sort((a, b) => visible(b) - visible(a)).map(pageMeta).filter((m) => m);
    // while Gradio puts a figure from the server in place neither may have its meta for a
    // moment: the last one seen (a stale run's is ignored by the server)
    if (metas.length) S.meta = metas[0];
    const meta = metas.length ? metas[0] : S.meta;
    const rc = meta ? clickToken(img, ev, meta) : null;
    return rc ? { run: meta.run, row: rc[0], col: rc[1] } : null;
  }

  // A click of the image that Gradio gets now, not after the page's own drawing: Gradio drops
  // a click on an image still loading (the last click's answer replaced it, and a quick second
  // click, or an arrow key right after the first, falls in that moment), so there it waits for
  // the load (`replayWhenLoaded`) and carries this click's own state.
  function passOn(ev, img) {
    if (img.complete && img.naturalWidth) return; // Gradio reads it now
    ev.stopImmediatePropagation();
    const own = { drew: S.drew, flowAsked: S.flowAsked, at: S.at, add: S.add, seq: S.seq };
    replayWhenLoaded(ev, aimOf(ev), () => Object.assign(S, own));
  }

  function onClick(ev) {
    if (ev.swinvizReplay) return; // handed on to Gradio (holdClick)
    const img = ev.target && ev.target.closest && ev.target.closest("#query-image img");
    // a shift-click adds the patch to the query set (or takes it out): the server draws the
    // summed figure, and the query, with its flow figure, stays
    if (img) {
      S.add = !!ev.shiftKey;
      S.seq = ++S.order; // the server orders the clicks it answers side by side by this
    }
    if (!S.instant) { // path off: Gradio gets every click as it is
      if (img) passOn(ev, img);
      return;
    }
    S.drew = null;
    S.flowAsked = false;
    S.at = null;
    if (!img) return;
    S.at = pageAt(img, ev);
    // every message from now on carries this click: a plain click is handed on to Gradio only
    // after the page redrew it, and a message may be built before that (`S.message`)
    if (S.at) handedOn([S.seq, S.add ? 1 : 0, S.at.row, S.at.col, S.at.run]);
    if (S.add) { // Gradio gets it now (once the image has loaded); a click held before it is
      // still handed on
      passOn(ev, img);
      return;
    }
    S.clickSeq++;
    S.flowParked = null;
    const t0 = performance.now();
    // the flow figure shown: asked for now, drawn when it comes
    const flow = flowPage();
    const rcFlow = flow && clickToken(img, ev, flow.meta);
    let asking = null;
    if (rcFlow) {
      S.last = { query: rcFlow, t0: t0, drawn: null, pending: true };
      S.flowAsked = true;
      asking = askFlow(flow, rcFlow, S.last);
    }
    const handOnAfter = (promise) => {
      const replay = holdClick(ev), drew = S.drew, asked = S.flowAsked;
      const settled = () => requestAnimationFrame(() => replay(drew, asked));
      promise.then(settled, settled);
      setTimeout(() => replay(drew, asked), HAND_ON_MS);
    };
    const gd = figureDiv("attention");
    const entry = packOf(gd);
    const P = entry && entry.ready && window.Plotly ? entry.ready : null;
    const rc = P && clickToken(img, ev, P);
    if (!rc) { // the server draws the attention figure
      if (asking) handOnAfter(asking);
      else passOn(ev, img);
      return;
    }
    S.drew = { run: P.key, block: P.block, head: P.head, row: rc[0], col: rc[1] };
    if (!visible(gd)) {
      // another tab is open: the figure is redrawn when its tab opens (`shown`); Plotly cannot
      // lay out a hidden figure, and the server need not send it
      S.pending = { query: rc, id: entry.id };
      if (asking) handOnAfter(asking);
      else {
        S.last = { query: rc, t0: t0, drawn: null, pending: true };
        passOn(ev, img);
      }
      return;
    }
    S.pending = null;
    const last = (S.last = { query: rc, t0: t0, drawn: null });
    // drawn now, before Gradio sends the click to the server (which then only learns the query)
    let drawing;
    try {
      drawing = Promise.resolve(redrawAttention(gd, P, rc[0], rc[1]));
    } catch (e) {
      S.drew = null; // the server sends the figure (Gradio gets this click as it is)
      console.error("swinviz: in-page redraw failed", e);
      passOn(ev, img);
      return;
    }
    // if the redraw fails, the server is told to send the figure
    const replay = holdClick(ev), drew = S.drew, asked = S.flowAsked;
    requestAnimationFrame(() => { last.painted = performance.now() - t0; });
    drawing.then(() => {
      last.react = performance.now() - t0;
      requestAnimationFrame(() => {
        const ms = performance.now() - t0;
        last.drawn = ms;
        S.timings.push({ query: rc, ms: ms });
        replay(drew, asked);
      });
    }).catch((e) => {
      console.error("swinviz: in-page redraw failed", e);
      replay(null, asked);
    });
  }

  document.addEventListener("click", onClick, true);
  // decode the pack of a newly drawn attention figure before the first click needs it
  setInterval(() => { const gd = figureDiv("attention"); if (gd) packOf(gd); }, 400);
  // The information-flow figure with its tab open: the server sends the new figure's JSON
  // (gr.Plot's own text) and the page draws it on the figure shown with one Plotly.react.
  // Gradio's Plot would instead build a new plot for every value, twice (a fresh element, then
  // again), and then lay it out a third time (Plots.resize).
  function flowOpen() {
    const gd = figureDiv("flow");
    return !!(gd && gd._fullLayout && visible(gd) && window.Plotly);
  }
  // Draw the flow figure's JSON text (from `askFlow`, or the click's answer through Gradio) on
  // the figure shown; `last` is the click it answers (its time to settled is noted there)
  S.flowFigure = (text, last) => {
    if (!text) return; // "": Gradio's Plot got the figure
    const gd = figureDiv("flow");
    if (!gd || !window.Plotly) return;
    const fig = JSON.parse(text);
    // as Gradio's PlotlyPlot lays out a figure (Gradio 6.31)
    const layout = Object.assign({}, fig.layout, { autosize: true });
    layout.margin = Object.assign({}, layout.margin, { autoexpand: true });
    const click = last || S.last;
    return reactAtSize(gd, fig.data, layout).then(() => {
      if (click) click.flow = performance.now() - click.t0;
    }).catch((e) => console.error("swinviz: drawing the flow figure failed", e));
  };
  // The click message the select event sends the server (app.clicks.parse_click_message):
  // version 1, "at" the token the page found for the click (`pageAt`), "drew" the attention
  // figure the page redrew itself (its run, block, head, token), "flow" "page" when the page
  // asked for the flow figure itself (`askFlow`), "text" when the answer should carry it as
  // text for the page to draw, else null; "add" true for a shift-click (the query set); "seq"
  // the click's number in the page (the server answers clicks side by side and orders them by
  // it, app.clicks.picked_after). The in-page path off: "" (the server draws all), or only
  // "add" for a shift-click.
  S.flowSeq = 0;
  S.clickSeq = 0;
  S.order = 0;
  // Gradio sends only the last of the clicks that come while one is answered (trigger_mode
  // "always_last"), and asks for the message when it sends: "clicks" carries every click
  // the clicks handed on to Gradio, [seq, add (0/1), row, col, run], the last 64: every
  // message carries those of its run, since Gradio drops a click waiting behind one when
  // another comes (the server counts each click once, app.clicks.picked_after)
  S.sent = [];
  function handedOn(click) {
    S.sent.push(click);
    if (S.sent.length > 64) S.sent.splice(0, S.sent.length - 64);
  }
  S.message = () => {
    const run = S.at && S.at.run;
    const clicks = S.sent.filter((k) => k[4] === run).map((k) => k.slice(0, 4));
    return S.instant ? JSON.stringify({ v: 1, at: S.at || null, drew: S.drew || null,
      flow: S.flowAsked ? "page" : flowOpen() ? "text" : null, add: !!S.add,
      seq: S.seq || null, clicks: clicks })
      : S.add ? JSON.stringify({ v: 1, add: true }) : "";
  };
  // a tab was opened (its select event): draw what a click on another tab left pending
  S.shown = (kind) => {
    if (kind === "flow") return showParkedFlow();
    if (kind !== "attention" || !S.pending) return;
    const pending = S.pending;
    let frames = 0;
    const draw = () => {
      const gd = figureDiv("attention"), entry = packOf(gd);
      if (S.pending !== pending || !entry || !entry.ready || entry.id !== pending.id) return;
      if (!visible(gd) && frames++ < 30) { requestAnimationFrame(draw); return; }
      S.pending = null;
      const t0 = performance.now();
      Promise.resolve(redrawAttention(gd, entry.ready, pending.query[0], pending.query[1]))
        .then(() => { S.shownMs = performance.now() - t0; })
        .catch((e) => console.error("swinviz: in-page redraw failed", e));
    };
    requestAnimationFrame(draw);
  };
  // the flow tab opened again: draw the flow answer that came while it was closed, unless a
  // click came since or the figure is now another run's or template's
  function showParkedFlow() {
    const parked = S.flowParked;
    if (!parked) return;
    let frames = 0;
    const draw = () => {
      if (S.flowParked !== parked || parked.click !== S.clickSeq
          || !flowStillOf(parked.run, parked.template, parked.lang)) return;
      if (!flowPage()) {
        if (frames++ < 30) requestAnimationFrame(draw);
        return;
      }
      S.flowParked = null;
      if (parked.ok) S.flowFigure(parked.text, parked.last);
      else flowFailed(parked.rc, parked.text);
    };
    requestAnimationFrame(draw);
  }
  // A download's file (gr.DownloadButton's value, once the server made it): saved by the
  // browser under its whole name, as the button's own click would (app.ui.SAVE_JS)
  S.save = (file) => {
    if (!file || !file.url) return;
    const a = document.createElement("a");
    a.href = file.url;
    a.download = file.orig_name || file.url.split("/").pop().split("?")[0] || "download";
    document.body.appendChild(a);
    a.click();
    a.remove();
  };
  // for tests and measurements: redraw the attention figure for token (r, c) as a click does
  S.redraw = (r, c) => {
    const gd = figureDiv("attention"), entry = packOf(gd);
    return entry.promise.then((P) => redrawAttention(gd, P, r, c));
  };
})();
