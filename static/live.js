/* Organizer's live view: refresh the participation table every 10 s without reloading. */
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box || box.dataset.open !== "true") { return; }
  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }
  function refresh() {
    fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var body = document.getElementById("live-rows");
        while (body.firstChild) { body.removeChild(body.firstChild); }
        data.units.forEach(function (u) {
          var tr = document.createElement("tr");
          [u.unit, u.started, u.finished, u.in_progress].forEach(function (v) { tr.appendChild(cell(v)); });
          body.appendChild(tr);
        });
        document.getElementById("t-started").textContent = data.total.started;
        document.getElementById("t-finished").textContent = data.total.finished;
        document.getElementById("t-progress").textContent = data.total.in_progress;
        document.getElementById("live-at").textContent = new Date().toLocaleTimeString();
      })
      .catch(function () { /* keep the last figures; try again next tick */ });
  }
  setInterval(refresh, 10000);
})();
