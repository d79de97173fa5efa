// Draws each dashboard chart from the numbers already in the page. Without JavaScript
// (or without Chart.js) the tables beside the charts carry the same figures.
(function () {
  "use strict";
  if (typeof Chart === "undefined") {
    return;
  }
  var palette = ["#1d4e89", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#6d597a", "#8ab17d"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.series.map(function (series, index) {
      return {
        label: series.label,
        data: series.values,
        backgroundColor: palette[index % palette.length],
      };
    });
    canvas.parentElement.hidden = false;
    new Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        animation: false,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: {
          // Every chart counts things: whole-number steps only, never 0.5 of a review.
          x: { stacked: Boolean(spec.stacked), beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: Boolean(spec.stacked), beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  });
})();
