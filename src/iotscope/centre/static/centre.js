/* iotscope centre: draws each chart of a view page with Apache ECharts from the JSON the server
   embedded in the page (#centre-data). No inline script, no eval, no HTML built from data: every
   label reaches ECharts as text. Kinds: line, bar, pareto, graph (with a time slider), map (a
   tile-grid cartogram of the 47 prefectures), matrix/heatmap. */
(function () {
  "use strict";
  var holder = document.getElementById("centre-data");
  if (!holder || typeof echarts === "undefined") { return; }
  var DATA = JSON.parse(holder.textContent);
  var UI = DATA.ui;
  var MAX_EDGES = 3000;

  function col(c, name) { return c.columns.indexOf(name); }
  /* what the legend calls a column or a series value, in the page's language */
  function label(c, name) { return (c.labels && c.labels[name]) || String(name); }
  function opt(c, key, fallback) {
    var v = c.options[key];
    return v === undefined || v === null ? fallback : v;
  }
  function asList(v) { return Array.isArray(v) ? v : (v ? [v] : []); }
  function uniq(values) {
    var seen = {}, out = [];
    values.forEach(function (v) { var k = String(v); if (!seen[k]) { seen[k] = 1; out.push(v); } });
    return out;
  }
  function sortKeys(values) {
    return values.slice().sort(function (a, b) {
      return (typeof a === "number" && typeof b === "number") ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
    });
  }
  /* tooltips as rich text, not HTML: a hostile label is shown as characters, never parsed */
  function safeTooltip(extra) {
    var base = { confine: true, renderMode: "richText" };
    for (var k in extra) { base[k] = extra[k]; }
    return base;
  }

  /* line / bar. Options: x; y (a column or several); series (a column splitting rows into
     lines); secondary (columns drawn dashed); band {low, high} or lower/upper (an interval,
     shaded); target (a number: a horizontal line; a column: a dashed line); marker {x, label}
     (a vertical line, e.g. an intervention); unit (the y axis name). */
  function xySeries(c, type) {
    var xi = col(c, opt(c, "x", c.columns[0]));
    var ys = asList(opt(c, "y", c.columns[1])), dashed = asList(opt(c, "secondary", []));
    var si = col(c, opt(c, "series", ""));
    var xs = sortKeys(uniq(c.rows.map(function (r) { return r[xi]; })));
    var pos = {}; xs.forEach(function (x, i) { pos[String(x)] = i; });
    function filled() { return xs.map(function () { return null; }); }
    function column(i) { var a = filled(); c.rows.forEach(function (r) { a[pos[String(r[xi])]] = r[i]; }); return a; }
    var series = [];
    ys.concat(dashed).forEach(function (yname) {
      var yi = col(c, yname); if (yi < 0) { return; }
      var groups = {}, order = [];
      c.rows.forEach(function (r) {
        var g = si >= 0 ? String(r[si]) : yname;
        if (!groups[g]) { groups[g] = filled(); order.push(g); }
        groups[g][pos[String(r[xi])]] = r[yi];
      });
      order.forEach(function (g) {
        var s = { name: ys.length + dashed.length > 1 && si >= 0 ? label(c, g) + " " + label(c, yname) : label(c, g), type: type,
          data: groups[g], showSymbol: false, emphasis: { focus: "series" } };
        if (dashed.indexOf(yname) >= 0) { s.lineStyle = { type: "dashed" }; }
        series.push(s);
      });
    });
    var band = opt(c, "band", {}) || {};
    var lo = col(c, band.low || band.lower || opt(c, "lower", ""));
    var hi = col(c, band.high || band.upper || opt(c, "upper", ""));
    if (lo >= 0 && hi >= 0 && si < 0) {
      var low = column(lo), high = column(hi);
      var span = low.map(function (v, i) { return v === null || high[i] === null ? null : high[i] - v; });
      series.push({ name: "_band_low", type: "line", data: low, stack: "band", lineStyle: { opacity: 0 },
        symbol: "none", silent: true, tooltip: { show: false } });
      series.push({ name: UI.interval, type: "line", data: span, stack: "band", lineStyle: { opacity: 0 },
        symbol: "none", areaStyle: { opacity: 0.25 }, silent: true, tooltip: { show: false } });
    }
    var marks = [], target = opt(c, "target", null), marker = opt(c, "marker", null);
    if (typeof target === "number") {
      marks.push({ yAxis: target, name: UI.target,
        label: { position: "insideEndTop", formatter: UI.target + " " + target } });
    } else if (target !== null && col(c, target) >= 0) {
      series.push({ name: UI.target, type: "line", data: column(col(c, target)), symbol: "none",
        lineStyle: { type: "dashed", width: 2 } });
    }
    if (marker && marker.x !== undefined) {
      marks.push({ xAxis: String(marker.x),
        label: { position: "insideEndTop", formatter: String(marker.label || marker.x) } });
    }
    if (marks.length && series.length) {
      series[0].markLine = { symbol: "none", silent: true, data: marks, lineStyle: { type: "dashed" } };
    }
    var unit = opt(c, "unit", "");
    return {
      tooltip: safeTooltip({ trigger: "axis" }),
      legend: { type: "scroll", top: 0, data: series.map(function (s) { return s.name; })
        .filter(function (n) { return n !== "_band_low"; }) },
      grid: { left: 56, right: 24, top: unit ? 60 : 40, bottom: 40 },
      xAxis: { type: "category", data: xs.map(String) },
      yAxis: { type: "value", name: unit ? String(unit) : "", nameLocation: "end", nameGap: 12 },
      dataZoom: xs.length > 60 ? [{ type: "inside" }, { type: "slider", height: 16, bottom: 4 }] : [],
      series: series
    };
  }

  /* filter {column: value}: the chart draws only the rows that match (one table, many charts) */
  function filtered(c) {
    var f = opt(c, "filter", null);
    if (!f || typeof f !== "object") { return c.rows; }
    return c.rows.filter(function (r) {
      for (var k in f) { if (col(c, k) < 0 || String(r[col(c, k)]) !== String(f[k])) { return false; } }
      return true;
    });
  }

  /* pareto: bars sorted by value, and the cumulative share on a second axis. */
  function pareto(c) {
    var xi = col(c, opt(c, "x", c.columns[0])), yi = col(c, opt(c, "y", c.columns[1]));
    var rows = c.rows.slice().sort(function (a, b) { return (b[yi] || 0) - (a[yi] || 0); });
    var total = rows.reduce(function (s, r) { return s + (r[yi] || 0); }, 0) || 1;
    var run = 0;
    var cum = rows.map(function (r) { run += r[yi] || 0; return Math.round(1000 * run / total) / 10; });
    c.sorted = rows;
    return {
      tooltip: safeTooltip({ trigger: "axis" }),
      legend: { top: 0 },
      grid: { left: 56, right: 56, top: 40, bottom: 80 },
      xAxis: { type: "category", data: rows.map(function (r) { return String(r[xi]); }),
        axisLabel: { rotate: 40 } },
      yAxis: [{ type: "value" }, { type: "value", max: 100, axisLabel: { formatter: "{value} %" } }],
      series: [
        { name: label(c, opt(c, "y", c.columns[1])), type: "bar", data: rows.map(function (r) { return r[yi]; }) },
        { name: UI.cumulative, type: "line", yAxisIndex: 1, data: cum, symbol: "circle" }
      ]
    };
  }

  /* matrix: x, y, value -> a heatmap. */
  function matrix(c) {
    var xi = col(c, opt(c, "x", c.columns[0])), yi = col(c, opt(c, "y", c.columns[1]));
    var vi = col(c, opt(c, "value", c.columns[2]));
    var xs = sortKeys(uniq(c.rows.map(function (r) { return r[xi]; }))).map(String);
    var ys = sortKeys(uniq(c.rows.map(function (r) { return r[yi]; }))).map(String);
    var max = 0;
    var cells = c.rows.map(function (r) {
      max = Math.max(max, Number(r[vi]) || 0);
      return [xs.indexOf(String(r[xi])), ys.indexOf(String(r[yi])), r[vi]];
    });
    return {
      tooltip: safeTooltip({ position: "top" }),
      grid: { left: 120, right: 70, top: 16, bottom: 90 },
      xAxis: { type: "category", data: xs, axisLabel: { rotate: 40 } },
      yAxis: { type: "category", data: ys },
      visualMap: { min: 0, max: max || 1, calculable: true, orient: "vertical", right: 0, top: "middle",
        itemHeight: 120 },
      series: [{ type: "heatmap", data: cells, label: { show: xs.length * ys.length <= 200 } }]
    };
  }

  /* map: the 47 prefectures as tiles (position table from the server), coloured by value. */
  function tileMap(c) {
    var byCode = {}, rowOf = {};
    c.cells.forEach(function (cell) { byCode[cell[0]] = cell[1]; rowOf[cell[0]] = cell[2]; });
    var ja = DATA.lang === "ja", max = 0;
    var cols = [], rows = [];
    var data = DATA.prefectures.map(function (p) {
      var v = byCode[p.code] || 0; max = Math.max(max, v);
      cols.push(p.col); rows.push(p.row);
      return { value: [p.col, p.row, v], name: ja ? p.ja : p.en, row: rowOf[p.code] };
    });
    var nc = Math.max.apply(null, cols) + 1, nr = Math.max.apply(null, rows) + 1;
    function range(n) { var a = []; for (var i = 0; i < n; i++) { a.push(i); } return a; }
    return {
      tooltip: safeTooltip({ formatter: function (p) { return p.name + ": " + p.value[2]; } }),
      grid: { left: 8, right: 8, top: 8, bottom: 56 },
      xAxis: { type: "category", data: range(nc), show: false },
      yAxis: { type: "category", data: range(nr), inverse: true, show: false },
      visualMap: { min: 0, max: max || 1, calculable: true, orient: "horizontal", left: "center", bottom: 0 },
      series: [{ type: "heatmap", data: data, itemStyle: { borderColor: "#fff", borderWidth: 2 },
        label: { show: true, fontSize: 8, formatter: function (p) {
          return (ja ? p.name.replace(/[都府県]$/, "") : p.name.slice(0, 5)) + "\n" + p.value[2]; } } }]
    };
  }

  /* graph: the edges source -> target of one time step. Options: source, target, time,
     weight (edge width and node size), group (colours targets, e.g. by lineage). Up to
     FORCE_NODES nodes use a force layout; more (thousands of bots) are placed in a ring around
     their target, which draws at once. */
  var FORCE_NODES = 400, MAX_GROUPS = 12;
  function graphAt(c, t) {
    var si = col(c, opt(c, "source", c.columns[0])), ti = col(c, opt(c, "target", c.columns[1]));
    var wi = col(c, opt(c, "time", "")), vi = col(c, opt(c, "weight", ""));
    var gi = col(c, opt(c, "group", ""));
    var edges = c.rows.filter(function (r) { return wi < 0 || String(r[wi]) === String(t); });
    var total = edges.length;
    edges = edges.slice(0, MAX_EDGES);
    var groups = gi < 0 ? [] : uniq(edges.map(function (r) { return String(r[gi]); }));
    var byGroup = groups.length > 0 && groups.length <= MAX_GROUPS;
    var cats = [{ name: label(c, opt(c, "source", "source")) }].concat(byGroup
      ? groups.map(function (g) { return { name: g }; }) : [{ name: label(c, opt(c, "target", "target")) }]);
    var nodes = {}, order = [], links = [];
    function node(id, name, category, w) {
      var n = nodes[id];
      if (!n) { n = nodes[id] = { id: id, name: name, category: category, w: 0, deg: 0 }; order.push(n); }
      n.w += w; n.deg += 1;
      return n;
    }
    edges.forEach(function (r) {
      var w = vi >= 0 ? Number(r[vi]) || 0 : 1;
      var tcat = byGroup ? 1 + groups.indexOf(String(r[gi])) : 1;
      var a = node("s:" + r[si], String(r[si]), 0, w), b = node("t:" + r[ti], String(r[ti]), tcat, w);
      links.push({ source: a.id, target: b.id, value: w,
        lineStyle: { width: vi >= 0 ? 1 + Math.log(1 + w) : 1 } });
    });
    var force = order.length <= FORCE_NODES;
    var targets = order.filter(function (n) { return n.category !== 0; });
    var sources = order.filter(function (n) { return n.category === 0; });
    if (!force) { ringLayout(edges, si, ti, nodes, targets); }
    var data = order.map(function (n) {
      var d = { id: n.id, name: n.name, category: n.category, value: n.w,
        symbolSize: vi >= 0 ? 6 + 2.5 * Math.sqrt(n.w) : (n.category === 0 ? 5 : 8 + Math.sqrt(n.deg)),
        label: { show: n.category === 0 ? sources.length <= 12 : targets.length <= 30 } };
      if (!force) { d.x = n.x; d.y = n.y; }
      return d;
    });
    return { total: total, shown: edges.length, option: {
      tooltip: safeTooltip({}),
      legend: { type: "scroll", top: 0, data: cats.map(function (x) { return x.name; }) },
      animation: false,
      series: [{ type: "graph", layout: force ? "force" : "none", roam: true, data: data, links: links,
        categories: cats, draggable: force, top: 40,
        force: { repulsion: 120, edgeLength: [30, 120], gravity: 0.08, layoutAnimation: false },
        label: { position: "right", fontSize: 10 },
        lineStyle: { opacity: 0.45, curveness: 0.1 }, emphasis: { focus: "adjacency" } }]
    } };
  }

  /* targets on a grid, each source in a ring around the first target it talks to */
  function ringLayout(edges, si, ti, nodes, targets) {
    var k = Math.ceil(Math.sqrt(targets.length)) || 1, per = {}, placed = {};
    targets.forEach(function (n, i) { n.x = (i % k) * 400; n.y = Math.floor(i / k) * 400; n.k = 0; });
    edges.forEach(function (r) { var id = "t:" + r[ti]; per[id] = (per[id] || 0) + 1; });
    edges.forEach(function (r) {
      var s = nodes["s:" + r[si]], tg = nodes["t:" + r[ti]];
      if (placed[s.id]) { return; }
      var m = per[tg.id], ang = 2 * Math.PI * tg.k / m, rad = 60 + 5 * Math.sqrt(m);
      tg.k += 1; placed[s.id] = 1;
      s.x = tg.x + rad * Math.cos(ang); s.y = tg.y + rad * Math.sin(ang);
    });
  }

  /* the play button steps the slider a day at a time (from the first day when at the last) */
  function playButton(button, slider, n, show) {
    var timer = null;
    function stop() { clearInterval(timer); timer = null; button.textContent = "\u25B6"; }
    button.addEventListener("click", function () {
      if (timer) { stop(); return; }
      if (Number(slider.value) >= n - 1) { slider.value = "0"; show(0); }
      button.textContent = "\u275A\u275A";
      timer = setInterval(function () {
        var i = Number(slider.value) + 1;
        if (i >= n) { stop(); return; }
        slider.value = String(i); show(i);
      }, 700);
    });
  }

  function graphTimes(c) {
    var wi = col(c, opt(c, "time", ""));
    return wi < 0 ? [""] : sortKeys(uniq(c.rows.map(function (r) { return r[wi]; })));
  }

  /* drill-down: a table link (column -> "VIEW?param={column}") followed from a chart element. */
  function linkFor(c, row) {
    for (var colName in c.links) {
      var tpl = c.links[colName], parts = tpl.split("?"), q = parts[1] || "";
      q = q.replace(/\{([^}]+)\}/g, function (_, name) {
        var i = col(c, name); return i < 0 ? "" : encodeURIComponent(String(row[i]));
      });
      return "/centre/views/" + encodeURIComponent(parts[0]) + "?" + (q ? q + "&" : "") + "lang=" + DATA.lang;
    }
    return null;
  }

  function rowOfClick(c, p) {
    if (c.kind === "pareto") { return p.seriesIndex === 0 ? c.sorted[p.dataIndex] : null; }
    if (c.kind === "bar" || c.kind === "line") {
      var xi = col(c, opt(c, "x", c.columns[0]));
      return c.rows.find(function (r) { return String(r[xi]) === String(p.name); }) || null;
    }
    if (c.kind === "map") { return p.data && p.data.row !== undefined ? c.rows[p.data.row] : null; }
    if (c.kind === "graph" && p.dataType === "node") {
      var ni = col(c, opt(c, p.data.category === 0 ? "source" : "target", ""));
      return ni < 0 ? null : c.rows.find(function (r) { return String(r[ni]) === p.name; }) || null;
    }
    return null;
  }

  function draw(figure) {
    var t0 = performance.now();
    var idx = Number(figure.getAttribute("data-chart"));
    var c = DATA.charts[idx];
    c.rows = filtered(c);
    var el = figure.querySelector(".canvas");
    if (!el || !c.supported) { return; }
    if (c.kind === "matrix" || c.kind === "heatmap") {  // one readable row per category
      var yi = col(c, opt(c, "y", c.columns[1]));
      var rows = uniq(c.rows.map(function (r) { return r[yi]; })).length;
      el.style.height = Math.max(360, 16 * rows + 120) + "px";
    }
    if (!c.rows.length) { el.style.height = "90px"; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var option;
    if (!c.rows.length) {
      chart.setOption({ title: { text: UI.no_rows, left: "center", top: "middle",
        textStyle: { color: "#5b6675", fontWeight: "normal" } } });
    } else if (c.kind === "graph") {
      var times = graphTimes(c), slider = figure.querySelector("input.time");
      var label = figure.querySelector(".time-label"), count = figure.querySelector(".edge-count");
      var show = function (i) {
        var g = graphAt(c, times[i]);
        chart.setOption(g.option, true);
        label.textContent = String(times[i]);
        count.textContent = g.total + " " + UI.edges + (g.shown < g.total ? " (" + UI.edges_capped.replace("{shown}", g.shown) + ")" : "");
        figure.setAttribute("data-time", String(times[i]));
        figure.setAttribute("data-edges", String(g.total));
      };
      if (col(c, opt(c, "time", "")) < 0) { figure.querySelector(".slider").hidden = true; }
      slider.max = String(times.length - 1);
      slider.value = String(times.length - 1);
      slider.addEventListener("input", function () { show(Number(slider.value)); });
      playButton(figure.querySelector("button.play"), slider, times.length, show);
      show(times.length - 1);
    } else {
      option = c.kind === "pareto" ? pareto(c) : c.kind === "map" ? tileMap(c)
        : (c.kind === "matrix" || c.kind === "heatmap") ? matrix(c) : xySeries(c, c.kind);
      chart.setOption(option);
    }
    chart.on("click", function (p) {
      var row = rowOfClick(c, p), href = row ? linkFor(c, row) : null;
      if (href) { window.location.assign(href); }
    });
    var png = figure.querySelector("button.png");
    if (png) {
      png.addEventListener("click", function () {
        var a = document.createElement("a");
        a.href = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
        a.download = DATA.view + "-" + c.name + ".png";
        document.body.appendChild(a); a.click(); a.remove();
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
    figure.setAttribute("data-drawn", "1");
    figure.setAttribute("data-ms", String(Math.round(performance.now() - t0)));
  }

  Array.prototype.forEach.call(document.querySelectorAll("figure.chart"), draw);
  document.body.setAttribute("data-charts-ready", "1");
})();
