/* 综治看板: draws the map, ranking, trend, radar and volumes from /api/v1/dashboard/<code>/.
   Everything it loads comes from the app itself (ECharts is vendored; no tiles, no fonts). */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || !window.echarts) return;
  var L = JSON.parse(document.getElementById("dashboard-labels").textContent);
  var state = { cycle: root.dataset.cycle || "", measure: root.dataset.measure || "" , data: null };
  var charts = {};
  var GRADES = [["excellent", "#1a7f37"], ["good", "#7cb342"], ["pass", "#f2c94c"], ["fail", "#d64545"]];
  var LOWER_IS_BETTER = { overdue_share: true, open_flags: true };
  var status = document.getElementById("dash-status");

  function chart(name) {
    if (!charts[name]) charts[name] = echarts.init(document.getElementById("chart-" + name));
    return charts[name];
  }

  function measureValue(child, measure) {
    if (measure === "score") return child.score;
    if (measure === "annual") return child.annual;
    return child.measures ? child.measures[measure] : null;
  }

  function fmt(value) { return value === null || value === undefined ? "—" : String(value); }

  function pageUrl(code, extra) {
    var q = new URLSearchParams();
    if (state.cycle) q.set("cycle", state.cycle);
    if (state.measure) q.set("measure", state.measure);
    if (extra) Object.keys(extra).forEach(function (k) { q.set(k, extra[k]); });
    var query = q.toString();
    return root.dataset.page + code + "/" + (query ? "?" + query : "");
  }

  function noResultReason(child, measure) {
    if (measure === "score" || measure === "annual") return child.no_result || L.no_result;
    if (measure === "open_flags") return (state.data.flags && state.data.flags.note) || L.no_data;
    return L.no_data;
  }

  function drawMap(geo) {
    var data = state.data, measure = state.measure;
    var mapName = "dashboard-" + data.region.code;
    echarts.registerMap(mapName, geo);
    var drawn = {};
    geo.features.forEach(function (f) { drawn[f.properties.code] = true; });
    var values = [];
    var items = data.children.filter(function (c) { return drawn[c.code]; }).map(function (c) {
      var value = measureValue(c, measure);
      if (measure === "annual") value = c.grade ? GRADES.length - GRADES.findIndex(function (g) { return g[0] === c.grade; }) : null;
      var item = { name: c.code, value: value, child: c };
      if (value === null || value === undefined) {
        item.value = null;
        item.itemStyle = { areaColor: "#e6e6e6", decal: { symbol: "rect", symbolSize: 1, dashArrayX: [1, 0], dashArrayY: [2, 4], rotation: -Math.PI / 4, color: "#b5b5b5" } };
      } else {
        values.push(value);
      }
      return item;
    });
    var missing = data.children.filter(function (c) { return !drawn[c.code]; }).map(function (c) { return c.name; });
    var min = values.length ? Math.min.apply(null, values) : 0, max = values.length ? Math.max.apply(null, values) : 1;
    if (min === max) { min = min - 1; max = max + 1; }
    var colours = ["#d64545", "#f2c94c", "#1a7f37"];
    if (LOWER_IS_BETTER[measure]) colours = colours.slice().reverse();
    var option = {
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var c = p.data && p.data.child;
          if (!c) return p.name;
          var value = measureValue(c, measure);
          var html = echarts.format.encodeHTML;  // names come from the database: never raw HTML
          var lines = ["<b>" + html(c.name) + "</b>", html(L.code + "：" + c.code)];
          if (value === null || value === undefined) lines.push(html(L.measures[measure] + "：" + noResultReason(c, measure)));
          else lines.push(html(L.measures[measure] + "：" + value));
          if (c.rank) lines.push(html(L.rank + "：" + c.rank + "/" + c.peers));
          if (c.grade_label) lines.push(html(L.grade + "：" + c.grade_label));
          return lines.join("<br>");
        }
      },
      series: [{
        type: "map", map: mapName, nameProperty: "code", roam: true, selectedMode: false,
        label: { show: data.children.length <= 40, formatter: function (p) { return p.data && p.data.child ? p.data.child.name : ""; }, fontSize: 11 },
        emphasis: { label: { show: true } },
        itemStyle: { borderColor: "#fff", borderWidth: 1 },
        data: items
      }]
    };
    if (measure === "annual") {
      option.visualMap = { type: "piecewise", left: 8, bottom: 8, seriesIndex: 0, pieces: GRADES.map(function (g, i) { return { value: GRADES.length - i, label: L.grades[g[0]], color: g[1] }; }) };
    } else {
      option.visualMap = { type: "continuous", min: min, max: max, calculable: true, left: 8, bottom: 8, inRange: { color: colours }, seriesIndex: 0 };
    }
    var c = chart("map");
    c.setOption(option, true);
    c.off("click");
    c.on("click", function (p) {
      if (!p.data || !p.data.child) return;
      if (data.region.child_level >= 6) { status.textContent = L.grid_end; return; }
      window.location.href = pageUrl(p.data.child.code);
    });
    document.getElementById("map-caption").textContent = L.measures[measure] + (data.cycle ? " · " + data.cycle.title : "");
    if (missing.length) status.textContent = L.no_outline + missing.join("、");
  }

  function drawRanking() {
    var data = state.data, measure = state.measure;
    var body = document.querySelector("#ranking-table tbody");
    document.getElementById("measure-head").textContent = L.measures[measure];
    document.getElementById("ranking-caption").textContent = data.cycle ? data.cycle.title : "";
    var rows = data.children.slice().sort(function (a, b) {
      if (a.rank === null && b.rank === null) return a.code < b.code ? -1 : 1;
      if (a.rank === null) return 1;
      if (b.rank === null) return -1;
      return a.rank - b.rank || (b.score - a.score) || (a.code < b.code ? -1 : 1);
    });
    body.textContent = "";
    rows.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.dataset.code = c.code;
      if (c.score === null) tr.className = "no-result";
      var cells = [
        c.rank ? c.rank + "/" + c.peers : "—",
        null,
        fmt(c.score),
        fmt(c.annual),
        c.grade_label || "—",
        fmt(measureValue(c, measure))
      ];
      cells.forEach(function (text, i) {
        var td = document.createElement("td");
        if (i !== 1 && i !== 4) td.className = "num";
        if (i === 1) {
          var name = document.createElement(c.breakdown_url ? "a" : "span");
          name.textContent = c.name;
          if (c.breakdown_url) { name.href = c.breakdown_url; name.title = L.breakdown; }
          td.appendChild(name);
          if (!c.breakdown_url) { var why = document.createElement("small"); why.className = "muted"; why.textContent = " " + c.no_result; td.appendChild(why); }
          if (data.region.child_level < 6) {
            var drill = document.createElement("a");
            drill.className = "drill"; drill.href = pageUrl(c.code); drill.textContent = " " + L.drill + " ›";
            td.appendChild(drill);
          }
        } else {
          td.textContent = text;
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function axisChart(name, categories, yAxis, series, bottom, rotate) {
    chart(name).setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: bottom },
      xAxis: { type: "category", data: categories, axisLabel: { rotate: rotate, fontSize: 10 } },
      yAxis: yAxis,
      series: series
    }, true);
  }

  function drawTrend() {
    var trend = state.data.trend;
    var floor = function (v) { return Math.max(0, Math.floor(v.min / 10) * 10); };
    axisChart("trend", trend.labels, { type: "value", min: floor, max: 100 },
      trend.series.map(function (s) { return { name: s.name, type: "line", data: s.data, connectNulls: true, symbolSize: 7 }; }), 70, 30);
  }

  function drawRadar() {
    var radar = state.data.radar;
    chart("radar").setOption({
      tooltip: {},
      legend: { top: 0 },
      radar: { indicator: radar.indicators.map(function (i) { return { name: i.name, max: i.max }; }), radius: "62%", center: ["50%", "56%"] },
      series: [{ type: "radar", data: radar.series.map(function (s) { return { name: s.name, value: s.data, areaStyle: { opacity: 0.15 } }; }) }]
    }, true);
  }

  function drawVolumes() {
    var v = state.data.volumes;
    document.getElementById("volumes-as-of").textContent = v.as_of ? L.as_of + v.as_of : L.not_counted;
    axisChart("volumes", v.months, { type: "value" }, [
      { name: L.events, type: "bar", data: v.events, itemStyle: { color: "#4a7bd0" } },
      { name: L.cases, type: "bar", data: v.cases, itemStyle: { color: "#8e6bbf" } },
      { name: L.events_overdue, type: "line", data: v.events_overdue, itemStyle: { color: "#d64545" } },
      { name: L.cases_overdue, type: "line", data: v.cases_overdue, itemStyle: { color: "#e08a2e" } }
    ], 30, 0);
  }

  function drawFlags() {
    var flags = state.data.flags, list = document.getElementById("flags-list");
    list.textContent = "";
    (flags.items || []).forEach(function (f) {
      var li = document.createElement("li"), link = document.createElement("a");
      link.href = f.url; link.textContent = f.message;  // opens the records behind the flag
      li.appendChild(link); list.appendChild(li);
    });
    document.getElementById("flags-note").textContent = flags.available ? (flags.items.length ? "" : L.flags_none) : flags.note;
  }

  function fillCycles() {
    var select = document.getElementById("cycle-select");
    select.textContent = "";
    state.data.cycles.forEach(function (c) {
      var o = document.createElement("option"); o.value = c.id; o.textContent = c.title + " · " + c.status_label;
      if (state.data.cycle && c.id === state.data.cycle.id) o.selected = true;
      select.appendChild(o);
    });
    select.disabled = !state.data.cycles.length;
    select.onchange = function () { state.cycle = select.value; window.location.href = pageUrl(state.data.region.code); };
  }

  function exportLink() {
    var link = document.getElementById("export-xlsx");
    link.href = root.dataset.export + (state.data.cycle ? "?cycle=" + state.data.cycle.id : "");
    document.querySelectorAll("[data-crumb]").forEach(function (a) { a.href = pageUrl(a.dataset.crumb); });
  }

  function pngButtons() {
    document.querySelectorAll("[data-png]").forEach(function (button) {
      button.onclick = function () {
        var name = button.dataset.png, c = charts[name];
        if (!c) return;
        var a = document.createElement("a");
        a.href = c.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
        a.download = "dashboard-" + state.data.region.code + "-" + name + ".png";
        document.body.appendChild(a); a.click(); a.remove();
      };
    });
  }

  function redrawMeasure(geo) {
    drawMap(geo); drawRanking();
    var q = new URLSearchParams(window.location.search); q.set("measure", state.measure);
    window.history.replaceState(null, "", "?" + q.toString());
  }

  var query = state.cycle ? "?cycle=" + encodeURIComponent(state.cycle) : "";
  Promise.all([
    fetch(root.dataset.api + query, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) { if (!r.ok) throw r; return r.json(); }),
    fetch(root.dataset.outlines, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) { if (!r.ok) throw r; return r.json(); })
  ]).then(function (loaded) {
    state.data = loaded[0];
    var geo = loaded[1];
    if (!state.measure) state.measure = state.data.scores_available ? (state.data.cycle && state.data.cycle.kind === "year_end" ? "annual" : "score") : "events_per_1000";
    var select = document.getElementById("measure-select");
    select.value = state.measure;
    select.onchange = function () { state.measure = select.value; redrawMeasure(geo); };
    status.textContent = state.data.cycle ? "" : L.no_cycle;
    fillCycles(); exportLink(); pngButtons();
    drawMap(geo); drawRanking(); drawTrend(); drawRadar(); drawVolumes(); drawFlags();
    root.dataset.ready = "1";
    window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  }).catch(function () { status.textContent = L.failed; root.dataset.ready = "error"; });
})();
