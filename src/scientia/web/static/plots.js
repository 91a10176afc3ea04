// Draw the campaign's figures: Plotly figure dicts fetched from the page's figures URL, which
// names the ledger state (?seq=), so the browser keeps them until something is recorded.
"use strict";
(function () {
  var holder = document.getElementById("figures");
  if (!holder || typeof Plotly === "undefined") { return; }
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"] };
  fetch(holder.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("figures: HTTP " + response.status); }
      return response.json();
    })
    .then(function (figures) {
      document.querySelectorAll("[data-figure]").forEach(function (div) {
        var fig = figures[div.dataset.figure];
        if (!fig) { return; }
        Plotly.newPlot(div, fig.data, fig.layout, config).then(function () {
          div.dataset.rendered = String(fig.data.length);
        });
      });
    })
    .catch(function (error) {
      document.querySelectorAll("[data-figure]").forEach(function (div) {
        div.textContent = "The figures could not be loaded (" + error.message + "); reload the page.";
      });
    });
})();
