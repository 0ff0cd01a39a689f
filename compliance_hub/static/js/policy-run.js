/* A backtest's or lookback's page: while the worker runs it, follow its status (the bar and the
   words) and reload the page every few batches and at the end, which then shows the figures so
   far. The page works without this file (reloading it by hand shows the same). */
(function () {
  "use strict";

  var OPEN = { queued: true, running: true };
  var RELOAD_EVERY = 10; // polls: the figures on the page are redrawn by the server

  function follow(box) {
    var url = box.getAttribute("data-run-status-url");
    var bar = box.querySelector("progress");
    var words = box.querySelector("[data-run-status-text]");
    var polls = 0;

    function show(data) {
      if (!OPEN[data.status] || (++polls % RELOAD_EVERY === 0 && data.done > 0)) {
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
      window.setTimeout(poll, 1500);
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

    window.setTimeout(poll, 1500);
  }

  function start() {
    var box = document.querySelector("[data-run-status-url]");
    if (box && OPEN[box.getAttribute("data-run-status")]) {
      follow(box);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
