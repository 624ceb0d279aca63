/* Meeting mode: poll the session's small JSON state about once a second and redraw
   the countdown and the answer count. When its version changes the host's screen
   reloads; a phone draws the question it carries (the page's <template>s, no markup
   here) and sends its answer without leaving the page, and reloads for the other
   screens (reveal, leaderboard, podium). ES5, no library. */
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
  var screen = document.getElementById("screen");
  var pageTpl = document.getElementById("tpl-question");

  function fill(root, slot, value) {
    var els = root.querySelectorAll('[data-slot="' + slot + '"]');
    for (var i = 0; i < els.length; i++) { els[i].textContent = value; }
  }
  function pick(question, choice) {
    var tpl = document.getElementById(question.multiple ? "tpl-pick-many" : "tpl-pick-one");
    var node = tpl.content.cloneNode(true);
    node.querySelector('[name="choice"]').value = String(choice.token);
    node.firstElementChild.className = "pick choice-" + choice.letter;
    node.querySelector(".letter").textContent = choice.letter;
    node.querySelector(".text").textContent = choice.text;
    return node;
  }
  /* The question screen from the state: the same markup as the server's page. */
  function drawQuestion(data) {
    var q = data.question;
    var node = pageTpl.content.cloneNode(true);
    fill(node, "label", q.label);
    fill(node, "prompt", q.prompt);
    var status = node.querySelector('[data-slot="status"]');
    var form = node.querySelector("form");
    if (data.status) {
      status.textContent = data.status;
      form.parentNode.removeChild(form);
    } else {
      status.parentNode.removeChild(status);
      form.querySelector('[name="q"]').value = String(q.id);
      var many = form.querySelectorAll('[data-slot="multiple"]');
      for (var i = 0; i < many.length; i++) { if (!q.multiple) { many[i].parentNode.removeChild(many[i]); } }
      var list = form.querySelector('[data-slot="choices"]');
      for (var j = 0; j < q.choices.length; j++) { list.appendChild(pick(q, q.choices[j])); }
    }
    while (screen.firstChild) { screen.removeChild(screen.firstChild); }
    screen.appendChild(node);
    clock = document.getElementById("countdown");
  }
  function flashError(message) {
    var el = document.getElementById("answer-error");
    if (!el) {
      el = document.createElement("p");
      el.id = "answer-error";
      el.className = "flash flash-error";
      el.setAttribute("role", "status");
      screen.insertBefore(el, screen.firstChild);
    }
    el.textContent = message;
  }
  /* The phone's own answer on the screen already drawn: its form gives way to the
     status ("Answered: B…", "Time is up.") once there is one. */
  function syncStatus(data) {
    var form = screen && screen.querySelector("form.answer-form");
    if (!data.status || !form) { return; }
    var status = document.createElement("p");
    status.className = "status";
    status.textContent = data.status;
    form.parentNode.replaceChild(status, form);
  }
  function apply(data) {
    running = data.phase === "question";
    remaining = data.remaining_ms;
    last = Date.now();
    if (data.v !== version) {
      if (!(screen && pageTpl && data.question)) { window.location.reload(); return false; }
      version = data.v;
      box.setAttribute("data-version", version);
      box.setAttribute("data-phase", data.phase);
      drawQuestion(data);
    } else {
      syncStatus(data);
    }
    show();
    return true;
  }
  /* The state's address with the version the screen shows: the server sends the
     question only when it is not that one. */
  function withVersion(address) {
    return address + (address.indexOf("?") < 0 ? "?" : "&") + "v=" + encodeURIComponent(version);
  }
  /* An answer by XMLHttpRequest: the form's fields, the pressed choice's token. */
  var sending = false;
  function send(form, token) {
    if (sending) { return; }
    sending = true;
    var body = new FormData(form);
    if (token !== null) { body.append("choice", token); }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", withVersion(form.getAttribute("action")), true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      sending = false;
      var data;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      /* Not understood, or refused without a reason (an expired form): the page anew. */
      if (!data || data.v === undefined || (xhr.status !== 200 && !data.error)) {
        window.location.reload(); return;
      }
      if (apply(data) && data.error) { flashError(data.error); }
    };
    xhr.send(body);
  }
  if (screen && pageTpl && window.FormData) {
    screen.addEventListener("click", function (event) {
      var target = event.target;
      while (target && target !== screen && !(target.tagName === "BUTTON" && target.name === "choice")) {
        target = target.parentNode;
      }
      if (!target || target === screen || !target.form) { return; }
      event.preventDefault();
      send(target.form, target.value);
    }, false);
    screen.addEventListener("submit", function (event) {
      if (!event.target.className || event.target.className.indexOf("answer-form") < 0) { return; }
      event.preventDefault();
      send(event.target, null);
    }, false);
  }

  function poll() {
    if (busy) { return; }
    busy = true;
    var xhr = new XMLHttpRequest();
    xhr.open("GET", screen ? withVersion(url) : url, true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      busy = false;
      if (xhr.status !== 200) { return; }  /* keep the screen; try again next tick */
      var data;
      try { data = JSON.parse(xhr.responseText); } catch (e) { return; }
      if (!apply(data)) { return; }
      text("answered", data.answered);
      text("eligible", data.eligible);
    };
    xhr.send(null);
  }
  if (box.getAttribute("data-phase") === "finished") { return; }
  setInterval(tick, 250);
  setInterval(poll, 1000);
})();
