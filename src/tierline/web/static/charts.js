// Tierline console: the charts of the manager's pages, drawn with the vendored Chart.js from data the page embeds.
(function () {
  "use strict";
  function band(v) { return v === null ? "#cbd5e1" : v >= 95 ? "#2f9e6a" : v >= 90 ? "#e0a526" : "#d9534f"; }

  // The met-% bars are coloured by objective (green 95%+, amber 90%+, red below); the legend says so.
  function legend(chart) {
    var items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
    items.forEach(function (item) {
      if (item.datasetIndex === 0) { item.text = "Targets met (%): green 95+, amber 90+, red below"; item.fillStyle = "#2f9e6a"; }
    });
    return items;
  }

  function compliance(canvas, data) {
    return new Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: "Targets met (%)", data: data.achieved, yAxisID: "pct", order: 2,
            backgroundColor: data.achieved.map(band), borderRadius: 4, maxBarThickness: 56 },
          { type: "bar", label: "Breaches", data: data.breaches, yAxisID: "count", order: 1,
            backgroundColor: "#64748b", borderRadius: 4, maxBarThickness: 28 }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12, generateLabels: legend } } },
        scales: {
          pct: { position: "left", min: 0, max: 100, title: { display: true, text: "met %" }, grid: { color: "#eef1f5" } },
          count: { position: "right", beginAtZero: true, title: { display: true, text: "breaches" }, grid: { display: false },
                   ticks: { precision: 0 } },
          x: { grid: { display: false } }
        }
      }
    });
  }

  var kinds = { compliance: compliance };
  function draw() {
    if (typeof Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.source);
      var kind = kinds[canvas.dataset.chart];
      if (!source || !kind) return;
      kind(canvas, JSON.parse(source.textContent));
      canvas.dataset.drawn = "yes";
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
