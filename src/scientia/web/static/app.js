// scientia web app: small helpers; every page works without them.
"use strict";
(function () {
  // a form being sent cannot be sent twice (double clicks, two tabs of one person)
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var buttons = form.querySelectorAll("button[type=submit]");
    window.setTimeout(function () {
      buttons.forEach(function (b) {
        b.disabled = true;
        if (form.dataset.busy) { b.textContent = form.dataset.busy; }
      });
    }, 0);
  });
})();
