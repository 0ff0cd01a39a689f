/* Compliance Hub: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // Ask before destructive actions: <button data-confirm="..."> (or a link), or
  // <form data-confirm="...">. A click on a submit button also fires for Enter and Space.
  document.addEventListener("click", function (event) {
    var element = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (!element || element.tagName === "FORM") {
      return;
    }
    if (!window.confirm(element.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyWithSelection(element) {
    selectText(element);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  // Copy buttons: <button data-copy-target="element-id" hidden>. Shown only when JS runs.
  function setUpCopyButtons() {
    var buttons = document.querySelectorAll("[data-copy-target]");
    Array.prototype.forEach.call(buttons, function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target) {
        return;
      }
      var status = document.getElementById(button.getAttribute("aria-describedby") || "");
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = target.textContent.trim();
        var report = function (ok) {
          if (status) {
            status.textContent = ok
              ? "Copied to the clipboard."
              : "Could not copy automatically: the key is selected, press Ctrl+C (or Cmd+C).";
          }
          if (!ok) {
            selectText(target);
          }
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(
            function () {
              report(true);
            },
            function () {
              report(copyWithSelection(target));
            }
          );
        } else {
          report(copyWithSelection(target));
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpCopyButtons);
  } else {
    setUpCopyButtons();
  }
})();
