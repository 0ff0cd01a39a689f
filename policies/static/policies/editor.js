/* The policy editor's "Test this text": posts the whole editor (the unsaved policy and the
   message) and puts the result in place, so the page does not reload and the unsaved edits stay
   as they are. Without this file the same button posts the form and the page shows the same. */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("policy-editor");
    var button = form && form.querySelector("[data-policy-trial]");
    var result = document.getElementById("trial-result");
    if (!form || !button || !result || !window.fetch || !window.FormData) {
      return;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.set("action", "test");
      button.disabled = true;
      result.setAttribute("aria-busy", "true");
      // Not form.action: the buttons named "action" shadow that property.
      fetch(form.getAttribute("action") || window.location.href, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "policy-trial" }
      })
        .then(function (response) {
          if (response.status !== 200 && response.status !== 400) {
            throw new Error("status " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          result.innerHTML = html;
        })
        .catch(function () {
          // The plain form post still works: fall back to it.
          button.disabled = false;
          form.requestSubmit(button);
        })
        .finally(function () {
          button.disabled = false;
          result.removeAttribute("aria-busy");
        });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
