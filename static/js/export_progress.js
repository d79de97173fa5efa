// The export page's progress bar: asks how far the Excel file is every two seconds and
// reloads the page once it is ready (or failed), which then offers the download. Without
// JavaScript the page refreshes itself (a <meta refresh> in <noscript>) and has a link.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box || !window.fetch) {
    return;
  }
  var bar = box.querySelector("[data-progress-bar]");
  var text = box.querySelector("[data-progress-text]");
  function poll() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) {
          return;
        }
        if (data.status === "ready" || data.status === "failed") {
          window.location.reload();
          return;
        }
        bar.value = data.percent;
        bar.textContent = data.percent + " %";
        if (data.rows_total) {
          text.textContent = data.rows_done + " / " + data.rows_total;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 1000);
})();
