// report.html's page script: draws the figures the report model holds (the JSON in
// #infermem-data) with uPlot, computes none, and writes what it drew to #infermem-status (charts,
// their points, painted pixels, errors, time) for the browser test and the bench.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("infermem-data").textContent);
  const MiB = 1048576;
  const palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
                   "#17becf", "#7f7f7f", "#bcbd22"];
  const bandColor = { rss: "#1f77b4", anon: "#2ca02c", file: "#8c564b", hwm: "#d62728",
                      in_use: "#9467bd" };
  const phaseFill = { warm: "rgba(255,165,0,0.16)", infer: "rgba(0,128,255,0.05)" };
  const charts = [];
  const width = () => Math.max(480, Math.min(1150, document.body.clientWidth - 20));
  const mib = (u, v) => (v == null ? "-" : (v / MiB).toFixed(2) + " MiB");
  const mibAxis = (u, vals) => vals.map((v) => (v / MiB).toFixed(v % MiB === 0 ? 0 : 1));
  // Ticks at round MiB figures, and whole numbers on count axes (cycles, repeats).
  const mibIncrs = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1024, 2048, 5120, 10240]
    .map((m) => m * MiB);
  const mibY = { label: "MiB", values: mibAxis, incrs: mibIncrs, size: 60 };
  const countX = (label) => ({ label: label, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] });
  const ms = (u, v) => (v == null ? "-" : v.toFixed(3) + " ms");

  // The x axis of the memory, cache and overlay charts: "request" (requests done) or "time"
  // (seconds since the arm began); the checkbox switches it, `#x=time` in the address starts on it.
  const timeToggle = document.getElementById("time-toggle");
  if (timeToggle && /(^|[#&])x=time(&|$)/.test(location.hash)) timeToggle.checked = true;
  // watch's page: its samples have no request index, so it draws on the time axis only.
  let axis = data.x_axis === "time" || (timeToggle && timeToggle.checked) ? "time" : "request";

  function add(id, opts, d, onAxis) {
    const el = document.getElementById(id);
    if (!el) return;
    const u = new uPlot(Object.assign({ width: width(), height: 300 }, opts), d, el);
    charts.push({ id: id, u: u, axis: onAxis ? axis : null });
  }

  // A chart's x values and their label on the current axis. Seconds since the arm began; since
  // the run began for a summary written before the time axis.
  function xOf(m) {
    if (axis === "request") return { x: m.x_request, label: "requests done", what: "requests" };
    if (data.scenario === "watch") return { x: m.t_s, label: "seconds since the watch began", what: "time" };
    if (m.t_arm_s && m.t_arm_s.length === m.x_request.length)
      return { x: m.t_arm_s, label: "seconds since the arm began", what: "time" };
    return { x: m.t_s, label: "seconds since the run began", what: "time" };
  }

  // Phases shaded, churn cycles marked, the verdict's fitted line and warm-up cut drawn (the line
  // is fitted per request: it is drawn on the request axis only).
  function overlays(m) {
    const onTime = axis === "time";
    return {
      drawClear: [(u) => {
        const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
        ctx.save();
        let cycle = null;
        for (const s of m.spans) {
          const from = onTime ? s.t_from : s.x_from, to = onTime ? s.t_to : s.x_to;
          if (from == null || to == null) continue;
          const x0 = u.valToPos(from, "x", true), x1 = u.valToPos(to, "x", true);
          if (phaseFill[s.phase]) {
            ctx.fillStyle = phaseFill[s.phase];
            ctx.fillRect(x0, top, Math.max(1, x1 - x0), h);
          }
          if (s.cycle >= 0 && s.cycle !== cycle) {
            cycle = s.cycle;
            ctx.fillStyle = "#888";
            ctx.fillRect(x0, top, 1, h);
            ctx.font = "11px sans-serif";
            ctx.fillText("cycle " + s.cycle, x0 + 3, top + 12);
          }
        }
        ctx.restore();
      }],
      draw: [(u) => {
        const f = m.fit;
        if (!f || onTime) return;
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(u.valToPos(f.x_from, "x", true), u.valToPos(f.y_from, "y", true));
        ctx.lineTo(u.valToPos(f.x_to, "x", true), u.valToPos(f.y_to, "y", true));
        ctx.stroke();
        ctx.setLineDash([5, 4]);
        ctx.lineWidth = 1;
        const cx = u.valToPos(f.x_from, "x", true);
        ctx.beginPath();
        ctx.moveTo(cx, u.bbox.top);
        ctx.lineTo(cx, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = "#000";
        ctx.font = "11px sans-serif";
        ctx.fillText("warm-up cut", cx + 3, u.bbox.top + 24);
        ctx.restore();
      }],
    };
  }

  // The x series: on the request axis the hover also shows the time, on the time axis the request.
  function xSeries(m) {
    const t = xOf(m);
    const arm = m.t_arm_s && m.t_arm_s.length === m.x_request.length;
    const when = (i) => (arm ? " (" + m.t_arm_s[i].toFixed(1) + " s into the arm)"
                         : m.t_s ? " (t " + m.t_s[i].toFixed(1) + " s)" : "");
    if (t.what === "requests")
      return {
        label: "request",
        value: (u, v, si, i) => (v == null ? "-" : i == null ? String(v) : v + when(i)),
      };
    return {
      label: "seconds",
      value: (u, v, si, i) => (v == null ? "-" : i == null || data.scenario === "watch"
                                  ? v.toFixed(3)
                                  : v.toFixed(3) + " s (request " + m.x_request[i] + ")"),
    };
  }

  const count = (u, v) => (v == null ? "-" : String(v));
  const countY = (label, scale, side) => ({
    label: label, scale: scale, side: side, size: 50,
    incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000],
    values: (u, vals) => vals.map((v) => String(v)), grid: { show: side !== 1 },
  });

  function drawAxisCharts() {
    // Memory over requests (or time), one chart per arm: each figure's window max and min, band
    // between.
    data.arms.forEach((arm, a) => {
      const m = arm.charts && arm.charts.memory;
      if (!m || !m.x_request || m.x_request.length === 0) return;
      const t = xOf(m);
      const d = [t.x];
      const series = [xSeries(m)];
      const bands = [];
      for (const b of m.bands) {
        const c = bandColor[b.key] || "#333";
        d.push(b.max);
        // Lines join readings across windows without one (watch reads VmHWM every ~100 ms only).
        series.push({ label: b.label + " max", stroke: c, width: 1.5, value: mib, spanGaps: true });
        d.push(b.min);
        series.push({ label: b.label + " min", stroke: c, width: 1, dash: [3, 3], value: mib,
                      spanGaps: true });
        bands.push({ series: [d.length - 2, d.length - 1], fill: c + "22" });
      }
      series.push({ label: "fitted growth (black), warm-up cut (dashed)" +
                           (t.what === "time" ? ": on the request axis only" : ""),
                    stroke: "#000", value: () => "" });
      d.push(t.x.map(() => null));
      add("memory-" + a, {
        title: arm.name + ": memory over " + t.what + " (" + arm.verdict + ")",
        series: series, bands: bands, hooks: overlays(m),
        scales: { x: { time: false } },
        axes: [{ label: t.label }, mibY],
      }, d, true);
    });

    // Cache scenario: models resident (each window's min and max, stepped) and the loads,
    // evictions and refusals so far, on a second axis.
    data.arms.forEach((arm, a) => {
      const k = arm.charts && arm.charts.cache;
      if (!k || !k.x_request || k.x_request.length === 0) return;
      const t = xOf(k);
      const step = uPlot.paths.stepped({ align: 1 });
      const d = [t.x, k.resident_max, k.resident_min, k.loads, k.evictions, k.refusals];
      const series = [
        xSeries(k),
        { label: "models resident (max)", stroke: "#1f77b4", width: 2, scale: "n", paths: step,
          value: count },
        { label: "models resident (min)", stroke: "#1f77b4", width: 1, dash: [3, 3], scale: "n",
          paths: step, value: count },
        { label: "loads so far", stroke: "#2ca02c", scale: "events", value: count },
        { label: "evictions so far", stroke: "#d62728", scale: "events", value: count },
        { label: "refusals so far", stroke: "#ff7f0e", scale: "events", value: count },
      ];
      add("cache-" + a, {
        title: arm.name + ": models resident, loads and evictions over " + t.what,
        series: series, bands: [{ series: [1, 2], fill: "#1f77b422" }],
        scales: { x: { time: false }, n: { range: (u, lo, hi) => [0, Math.max(1, hi)] },
                  events: { range: (u, lo, hi) => [0, Math.max(1, hi)] } },
        axes: [{ label: t.label }, countY("models resident", "n", 3),
               countY("events so far", "events", 1)],
      }, d, true);
    });

    // Arms overlaid: each arm's VmRSS window max on one axis (uPlot.join aligns them).
    const tables = [], series = [{ label: axis === "time" ? "seconds" : "request" }];
    data.arms.forEach((arm, a) => {
      const m = arm.charts && arm.charts.memory;
      const rss = m && m.bands.find((b) => b.key === "rss");
      if (!rss) return;
      tables.push([xOf(m).x, rss.max]);
      series.push({ label: arm.name + " VmRSS max", stroke: palette[a % palette.length],
                    value: mib, spanGaps: true });
    });
    const toggle = document.getElementById("overlay-toggle");
    const box = document.getElementById("overlay");
    if (tables.length === 0 || !box || !toggle) return;  // watch's page has one series
    box.hidden = false;
    const first = data.arms.find((arm) => arm.charts && arm.charts.memory &&
                                          arm.charts.memory.x_request.length > 0);
    add("overlay", {
      title: "VmRSS over " + (axis === "time" ? "time" : "requests") + ", arms overlaid",
      series: series,
      scales: { x: { time: false } },
      axes: [{ label: xOf(first.charts.memory).label }, mibY],
    }, uPlot.join(tables), true);
    box.hidden = !toggle.checked;
  }
  drawAxisCharts();

  (function () {
    const toggle = document.getElementById("overlay-toggle");
    if (toggle)
      toggle.addEventListener("change", () => {
        document.getElementById("overlay").hidden = !toggle.checked;
        document.querySelectorAll("[id^=memory-]").forEach((el) => { el.hidden = toggle.checked; });
      });
    if (timeToggle)
      timeToggle.addEventListener("change", () => {
        axis = timeToggle.checked ? "time" : "request";
        for (let i = charts.length - 1; i >= 0; i--)
          if (charts[i].axis) {
            charts[i].u.destroy();
            charts.splice(i, 1);
          }
        drawAxisCharts();
      });
  })();

  // Latency distribution: each arm's nearest-rank percentiles 0..100.
  (function () {
    const withLatency = data.arms.filter((a) => a.charts && a.charts.latency_quantiles_ms &&
                                                a.charts.latency_quantiles_ms.length > 0);
    if (withLatency.length === 0) return;
    document.getElementById("latency-block").hidden = false;
    const n = withLatency[0].charts.latency_quantiles_ms.length;
    const d = [Array.from({ length: n }, (_, i) => (100 * i) / (n - 1))];
    const series = [{ label: "percentile" }];
    data.arms.forEach((arm, a) => {
      const q = arm.charts && arm.charts.latency_quantiles_ms;
      if (!q || q.length !== n) return;
      d.push(q);
      series.push({ label: arm.name, stroke: palette[a % palette.length], value: ms });
    });
    add("latency", {
      title: "Latency around Run(), by percentile", series: series,
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [{ label: "percentile" }, { label: "ms (log)" }],
    }, d);
  })();

  // Churn: VmRSS after each unload, per cycle.
  (function () {
    let cycles = 0;
    for (const arm of data.arms)
      cycles = Math.max(cycles, (arm.charts && arm.charts.after_unload_per_cycle_bytes || []).length);
    if (cycles === 0) return;
    document.getElementById("churn-block").hidden = false;
    const d = [Array.from({ length: cycles }, (_, i) => i)];
    const series = [{ label: "cycle" }];
    data.arms.forEach((arm, a) => {
      const v = (arm.charts && arm.charts.after_unload_per_cycle_bytes) || [];
      if (v.length === 0) return;
      d.push(Array.from({ length: cycles }, (_, i) => (i < v.length ? v[i] : null)));
      series.push({ label: arm.name, stroke: palette[a % palette.length], value: mib,
                    points: { size: 7 } });
    });
    add("churn", {
      title: "VmRSS after unload, per churn cycle", series: series,
      scales: { x: { time: false } },
      axes: [countX("cycle"), mibY],
    }, d);
  })();

  // --repeat: each repeat's figures, one chart per arm.
  (function () {
    const holder = document.getElementById("repeats");
    const figures = [["loaded_bytes", "loaded"], ["peak_bytes", "peak"],
                     ["after_unload_bytes", "after unload"], ["retained_bytes", "retained"]];
    data.arms.forEach((arm, a) => {
      if (!arm.repeats || arm.repeats.length < 2) return;
      document.getElementById("repeats-block").hidden = false;
      const div = document.createElement("div");
      div.id = "repeats-" + a;
      div.className = "chart";
      holder.appendChild(div);
      const d = [arm.repeats.map((_, i) => i + 1)];
      const series = [{ label: "repeat" }];
      figures.forEach(([key, label], k) => {
        d.push(arm.repeats.map((r) => r[key]));
        series.push({ label: label, stroke: palette[k], value: mib, points: { size: 7 } });
      });
      add(div.id, {
        title: arm.name + ": figures of each repeat (fresh process each)", series: series,
        scales: { x: { time: false } },
        axes: [countX("repeat"), mibY],
      }, d);
    });
  })();

  // What was drawn, once the charts have painted (uPlot draws in a microtask after creation).
  function painted(canvas) {
    const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) n++;
    return n;
  }
  function report() {
    const status = {
      x_axis: axis,
      charts: charts.map((c) => ({
        id: c.id,
        points: c.u.data[0].length,
        series: c.u.series.length - 1,
        painted_pixels: painted(c.u.ctx.canvas),
      })),
      errors: window.infermemErrors || [],
      render_ms: performance.now(),
    };
    const el = document.getElementById("infermem-status");
    el.textContent = JSON.stringify(status);
    el.setAttribute("data-done", "1");
  }
  if (document.readyState === "complete") setTimeout(report, 0);
  else window.addEventListener("load", report);
})();
