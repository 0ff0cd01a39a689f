/* A long job's page (an export, a backtest, a lookback): while the worker runs it, follow its
   status (the bar and the words) and reload the page at the end, which then shows the result.
   A page that shows figures so far asks for a reload every few polls too
   (data-progress-reload-every). The page works without this file: reloading it by hand shows
   the same. One script for every such page, so they behave alike. */
(function () {
  "use strict";

  var OPEN = { queued: true, running: true };

  function follow(box) {
    var url = box.getAttribute("data-progress-url");
    var every = parseInt(box.getAttribute("data-progress-every-ms") || "1000", 10);
    var reloadEvery = parseInt(box.getAttribute("data-progress-reload-every") || "0", 10);
    var bar = box.querySelector("progress");
    var words = box.querySelector("[data-progress-text]");
    var polls = 0;

    function show(data) {
      polls += 1;
      var figuresDue = reloadEvery > 0 && polls % reloadEvery === 0 && data.done > 0;
      if (!OPEN[data.status] || figuresDue) {
        window.location.reload();
        return;
      }
      if (bar) {
        bar.value = data.percent;
        bar.textContent = data.percent + " %";
      }
      if (words) {
        words.textContent = data.status_text;
      }
      window.setTimeout(poll, every);
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(show)
        .catch(function () {
          window.setTimeout(poll, 5000);
        });
    }

    window.setTimeout(poll, every);
  }

  function start() {
    var box = document.querySelector("[data-progress-url]");
    if (box && OPEN[box.getAttribute("data-progress-status")]) {
      follow(box);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
