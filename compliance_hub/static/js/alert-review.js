/* Keyboard shortcuts of the alert queue and the alert page (the help overlay lists them):
   j / k next and previous alert in the queue, x tick it for a bulk change, a claim ("assign to
   me"), f close as false positive (fills the form and puts the cursor in the rationale, which
   must be written; Ctrl+Enter saves), e escalate, ? help, Esc closes the help. Nothing fires
   while the officer types in a field. Also the queue's "choose every alert on this page" box.
   Every page works without this file: the forms and links do the same by mouse. */
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function submit(form) {
    if (form.requestSubmit) {
      form.requestSubmit(); // runs the browser's checks (a required rationale) as a click does
    } else {
      form.submit();
    }
  }

  function postTo(url) {
    // A claim from the queue: the same POST as the alert page's button, with the page's token.
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!url || !token) {
      return;
    }
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "csrfmiddlewaretoken";
    field.value = token.value;
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
  }

  function choose(select, value) {
    if (!select) {
      return false;
    }
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) {
        select.value = value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
        return true;
      }
    }
    return false;
  }

  // --- the help overlay ---------------------------------------------------------------------

  var help = document.getElementById("shortcut-help");
  var before = null;

  function openHelp() {
    if (!help) {
      return;
    }
    before = document.activeElement;
    help.hidden = false;
    var close = help.querySelector("[data-close-help]");
    if (close) {
      close.focus();
    }
  }

  function closeHelp() {
    if (!help || help.hidden) {
      return false;
    }
    help.hidden = true;
    if (before && before.focus) {
      before.focus();
    }
    return true;
  }

  if (help) {
    help.addEventListener("click", function (event) {
      if (event.target === help || event.target.closest("[data-close-help]")) {
        closeHelp();
      }
    });
  }

  // --- the queue ----------------------------------------------------------------------------

  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-alert-row]"));
  var current = -1;

  function move(step) {
    if (!rows.length) {
      return;
    }
    if (current >= 0) {
      rows[current].classList.remove("is-current");
    }
    current = Math.max(0, Math.min(rows.length - 1, current + step));
    var row = rows[current];
    row.classList.add("is-current");
    var link = row.querySelector("a[href]");
    if (link) {
      link.focus(); // Enter then opens it, as a click would
    }
    row.scrollIntoView({ block: "nearest" });
  }

  function currentBox() {
    return current >= 0 ? rows[current].querySelector("input[name=alert]") : null;
  }

  var selectAll = document.querySelector("[data-select-all]");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      rows.forEach(function (row) {
        var box = row.querySelector("input[name=alert]");
        if (box) {
          box.checked = selectAll.checked;
        }
      });
    });
  }

  function queueKey(key) {
    var box = currentBox();
    if (key === "j") {
      move(1);
    } else if (key === "k") {
      move(current < 0 ? 1 : -1);
    } else if (key === "x" && box) {
      box.checked = !box.checked;
    } else if (key === "a" && current >= 0 && box) {
      postTo(rows[current].getAttribute("data-claim-url"));
    } else if ((key === "f" || key === "e") && box) {
      box.checked = true;
      var action = document.getElementById("bulk-action");
      if (key === "f") {
        choose(action, "close");
        choose(document.getElementById("bulk-disposition"), "false_positive");
        var why = document.getElementById("bulk-rationale");
        why.required = true;
        why.focus();
      } else {
        choose(action, "escalate");
        document.getElementById("bulk-apply").focus();
      }
    } else {
      return false;
    }
    return true;
  }

  // --- one alert ----------------------------------------------------------------------------

  function alertKey(key) {
    var claim = document.querySelector("form[data-shortcut=claim]");
    var transition = document.querySelector("form[data-shortcut=transition]");
    if (key === "a" && claim) {
      submit(claim);
    } else if (key === "f" && transition) {
      if (!choose(transition.querySelector("[name=to]"), "closed")) {
        return false;
      }
      choose(transition.querySelector("[name=disposition]"), "false_positive");
      var why = transition.querySelector("[name=rationale]");
      why.required = true; // closing needs a rationale: the browser asks for it before sending
      why.focus();
    } else if (key === "e" && transition) {
      if (!choose(transition.querySelector("[name=to]"), "escalated")) {
        return false;
      }
      choose(transition.querySelector("[name=disposition]"), "");
      submit(transition);
    } else {
      return false;
    }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      if (closeHelp()) {
        event.preventDefault();
      }
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      // Ctrl+Enter in a form's text saves that form (a textarea's Enter is a new line).
      if (event.target.tagName && event.target.tagName.toLowerCase() === "textarea" && event.target.form) {
        event.preventDefault();
        submit(event.target.form);
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (help && !help.hidden) {
      return; // the help is open: only Esc (above) acts
    }
    var handled;
    if (event.key === "?") {
      openHelp();
      handled = true;
    } else if (rows.length) {
      handled = queueKey(event.key);
    } else {
      handled = alertKey(event.key);
    }
    if (handled) {
      event.preventDefault();
    }
  });
})();
