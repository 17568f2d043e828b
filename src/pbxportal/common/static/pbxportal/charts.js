// Draws the portal's charts with Chart.js (vendor/chartjs-4.6.1): every <canvas data-chart="ID">
// takes its data from the <script type="application/json" id="ID"> written by json_script.
// Shapes: {"type": "bar"|"line", "labels": [...], "series": [{"label": "...", "data": [...]}, ...]}.
// The same numbers are in a table beside each chart, for screen readers and without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Chart === "undefined") { return; }
  var colours = ["#0d6efd", "#dc3545", "#198754", "#fd7e14", "#6f42c1", "#20c997"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    canvas.chart = new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (s, i) {
          return {
            label: s.label,
            data: s.data.map(Number),
            type: s.type || spec.type,
            borderColor: colours[i % colours.length],
            backgroundColor: colours[i % colours.length],
            borderDash: s.dashed ? [6, 4] : [],
            pointRadius: 0,
          };
        }),
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { beginAtZero: true } } },
    });
  });
});
