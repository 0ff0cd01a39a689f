/* The export page's progress bar: polls the export's status while it is prepared and reloads
   the page once it is ready (or failed), which then shows the download link. The page works
   without this file (reloading it by hand shows the same). */
(function () {
  "use strict";

  var FINAL = { ready: true, failed: true, expired: true };

  function start() {
    var box = document.querySelector("[data-export-status-url]");
    if (!box) {
      return;
    }
    var url = box.getAttribute("data-export-status-url");
    var status = box.getAttribute("data-export-status");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-export-status-text]");
    if (FINAL[status]) {
      return;
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          if (FINAL[data.status]) {
            window.location.reload();
            return;
          }
          if (bar) {
            bar.value = data.percent;
            bar.textContent = data.percent + " %";
          }
          if (text) {
            text.textContent = data.status_text;
          }
          window.setTimeout(poll, 1000);
        })
        .catch(function () {
          window.setTimeout(poll, 5000);
        });
    }

    window.setTimeout(poll, 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
