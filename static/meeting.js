/* Meeting mode: poll the session's small JSON state about once a second; reload the
   page when its version changes (the server renders every screen), otherwise redraw
   the countdown and the answer count. ES5, no library. */
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box || !box.getAttribute("data-state-url")) { return; }
  var url = box.getAttribute("data-state-url");
  var version = box.getAttribute("data-version");
  var clock = document.getElementById("countdown");
  var remaining = clock ? parseInt(clock.getAttribute("data-remaining-ms"), 10) || 0 : 0;
  var running = box.getAttribute("data-phase") === "question";
  var last = Date.now();
  var busy = false;

  function show() {
    if (clock) { clock.textContent = String(Math.max(0, Math.ceil(remaining / 1000))); }
  }
  function text(id, value) {
    var el = document.getElementById(id);
    if (el && value !== undefined && value !== null) { el.textContent = String(value); }
  }
  function tick() {
    var now = Date.now();
    if (running) { remaining = Math.max(0, remaining - (now - last)); show(); }
    last = now;
  }
  function poll() {
    if (busy) { return; }
    busy = true;
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url, true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      busy = false;
      if (xhr.status !== 200) { return; }  /* keep the screen; try again next tick */
      var data;
      try { data = JSON.parse(xhr.responseText); } catch (e) { return; }
      if (data.v !== version) { window.location.reload(); return; }
      running = data.phase === "question";
      remaining = data.remaining_ms;
      last = Date.now();
      show();
      text("answered", data.answered);
      text("eligible", data.eligible);
    };
    xhr.send(null);
  }
  if (box.getAttribute("data-phase") === "finished") { return; }
  setInterval(tick, 250);
  setInterval(poll, 1000);
})();
