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

  function add(id, opts, d) {
    const el = document.getElementById(id);
    if (!el) return;
    const u = new uPlot(Object.assign({ width: width(), height: 300 }, opts), d, el);
    charts.push({ id: id, u: u });
  }

  // Phases shaded, churn cycles marked, the verdict's fitted line and warm-up cut drawn.
  function overlays(m) {
    return {
      drawClear: [(u) => {
        const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
        ctx.save();
        let cycle = null;
        for (const s of m.spans) {
          const x0 = u.valToPos(s.x_from, "x", true), x1 = u.valToPos(s.x_to, "x", true);
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
        if (!f) return;
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

  function requestSeries(m) {
    return {
      label: "request",
      value: (u, v, si, i) => (v == null ? "-" : i == null ? String(v)
                                  : v + " (t " + m.t_s[i].toFixed(1) + " s)"),
    };
  }

  // Memory over requests, one chart per arm: each figure's window max and min, band between.
  data.arms.forEach((arm, a) => {
    const m = arm.charts && arm.charts.memory;
    if (!m || !m.x_request || m.x_request.length === 0) return;
    const d = [m.x_request];
    const series = [requestSeries(m)];
    const bands = [];
    for (const b of m.bands) {
      const c = bandColor[b.key] || "#333";
      d.push(b.max);
      series.push({ label: b.label + " max", stroke: c, width: 1.5, value: mib });
      d.push(b.min);
      series.push({ label: b.label + " min", stroke: c, width: 1, dash: [3, 3], value: mib });
      bands.push({ series: [d.length - 2, d.length - 1], fill: c + "22" });
    }
    series.push({ label: "fitted growth (black), warm-up cut (dashed)", stroke: "#000",
                  value: () => "" });
    d.push(m.x_request.map(() => null));
    add("memory-" + a, {
      title: arm.name + ": memory over requests (" + arm.verdict + ")",
      series: series, bands: bands, hooks: overlays(m),
      scales: { x: { time: false } },
      axes: [{ label: "requests done" }, mibY],
    }, d);
  });

  // Arms overlaid: each arm's VmRSS window max on one request axis (uPlot.join aligns them).
  (function () {
    const tables = [], series = [{ label: "request" }];
    data.arms.forEach((arm, a) => {
      const m = arm.charts && arm.charts.memory;
      const rss = m && m.bands.find((b) => b.key === "rss");
      if (!rss) return;
      tables.push([m.x_request, rss.max]);
      series.push({ label: arm.name + " VmRSS max", stroke: palette[a % palette.length],
                    value: mib, spanGaps: true });
    });
    if (tables.length === 0) return;
    const toggle = document.getElementById("overlay-toggle");
    const box = document.getElementById("overlay");
    box.hidden = false;
    add("overlay", {
      title: "VmRSS over requests, arms overlaid", series: series,
      scales: { x: { time: false } },
      axes: [{ label: "requests done" }, mibY],
    }, uPlot.join(tables));
    box.hidden = !toggle.checked;
    toggle.addEventListener("change", () => {
      box.hidden = !toggle.checked;
      document.querySelectorAll("[id^=memory-]").forEach((el) => { el.hidden = toggle.checked; });
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
