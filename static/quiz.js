/* Quiz page: countdown from the server's remaining seconds, autosave of each answer,
   a visible warning when a save fails (with retry), immediate checks in practice, and
   auto-submit at zero. Without this script the page is one plain form. ES5 on purpose:
   members use old phones. */
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var msgs = document.getElementById("msg-templates").dataset;
  var statusBox = document.getElementById("save-status");
  var pending = {};      // question id -> latest unsent selection
  // Increasing per change (milliseconds, then +1): retries resend the same number, and a
  // late retry can never overwrite a newer answer on the server.
  var lastSeq = 0;
  function nextSeq() { lastSeq = Math.max(lastSeq + 1, Date.now()); return lastSeq; }
  var seqs = {};
  // Sequence numbers are compared per page: a random id for this page load.
  var clientId = Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
  // The form post (Submit, or the countdown's auto-submit) follows the same rule: it
  // names this page and each change's number, and carries only what this page changed
  // since its last confirmed save (base-q-<id>), so a stale tab never clears answers
  // saved later from another device.
  form.elements.client.value = clientId;
  var failing = false;
  var submitting = false;
  var sessionEnded = false;
  // Answers are saved as they are chosen: the "Save answers" button is for pages
  // without this script.
  var hideables = document.querySelectorAll(".nojs-only");
  for (var h = 0; h < hideables.length; h++) { hideables[h].hidden = true; }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"},
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) { var err = new Error(data.message || resp.status); err.status = resp.status; err.data = data; throw err; }
        return data;
      });
    });
  }

  var OPTIONS = "input[type=radio], input[type=checkbox]";

  function field(name) { return form.querySelector('input[type=hidden][name="' + name + '"]'); }

  function selection(fieldset) {
    var ids = [];
    var inputs = fieldset.querySelectorAll(OPTIONS);
    for (var i = 0; i < inputs.length; i++) { if (inputs[i].checked) { ids.push(parseInt(inputs[i].value, 10)); } }
    return ids;
  }

  function showStatus(text, kind) {
    statusBox.hidden = !text;
    statusBox.textContent = text || "";
    statusBox.className = "save-status " + (kind || "");
  }

  // The session ended (logged out elsewhere, cookie expired): retrying cannot help until
  // the member logs in again. Say so, keep every answer on the page, and let him resend
  // them once logged in (in another tab, so this page and its answers stay).
  function endSession() {
    if (sessionEnded) { return; }
    sessionEnded = true;
    showStatus(msgs.sessionEnded, "error");
    var link = document.createElement("a");
    link.href = msgs.loginUrl;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = msgs.loginText;
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button";
    retry.id = "retry-button";
    retry.textContent = msgs.retry;
    retry.addEventListener("click", function () {
      // The new session has a new form token: read it from this page, fetched again.
      fetch(location.pathname, {credentials: "same-origin"}).then(function (resp) {
        return resp.text().then(function (text) {
          var found = /name="csrf-token" content="([^"]+)"/.exec(text);
          if (!resp.ok || !found || /\/login/.test(resp.url)) { throw new Error("login"); }
          csrf = found[1];
          var hidden = form.querySelector('input[name="csrf_token"]');
          if (hidden) { hidden.value = csrf; }
          sessionEnded = false;
          showStatus(msgs.saving, "info");
          var left = Object.keys(pending);
          left.forEach(function (qid) { save(parseInt(qid, 10), true); });
          if (left.length === 0) { showStatus(""); }
        });
      }).catch(function () { sessionEnded = false; endSession(); });
    });
    var line = document.createElement("span");
    line.className = "status-actions";
    line.appendChild(link);
    line.appendChild(retry);
    statusBox.appendChild(document.createElement("br"));
    statusBox.appendChild(line);
  }

  function itemStatus(fieldset, text) {
    var el = fieldset.querySelector(".item-status");
    if (el) { el.textContent = text; }
  }

  function save(questionId, retry) {
    var fieldset = document.getElementById("q-" + questionId);
    var ids = selection(fieldset);
    pending[questionId] = ids;
    if (!retry || !seqs[questionId]) { seqs[questionId] = nextSeq(); }
    var seq = seqs[questionId];
    var seqField = field("seq-q-" + questionId);
    if (seqField) { seqField.value = String(seq); }
    itemStatus(fieldset, msgs.saving);
    return post(form.dataset.saveUrl, {question_id: questionId, choice_ids: ids, seq: seq, client: clientId}).then(function () {
      if (pending[questionId] === ids) { delete pending[questionId]; }
      // Saved: a later form post no longer carries this answer as a change of this page.
      var base = field("base-q-" + questionId);
      if (base && seqs[questionId] === seq) { base.value = ids.slice().sort().join(","); }
      itemStatus(fieldset, msgs.saved);
      if (failing && Object.keys(pending).length === 0) { failing = false; showStatus(""); }
    }, function (err) {
      if (err.status === 409) { showStatus(err.message || msgs.late, "error"); setTimeout(function () { location.reload(); }, 1500); return; }
      failing = true;
      if (err.status === 401 || (err.status === 400 && err.data && err.data.code === "csrf")) {
        endSession();
        return;
      }
      itemStatus(fieldset, msgs.failed);
      showStatus(msgs.failed, "error");
    });
  }

  // Retry unsent answers every few seconds while any save has failed.
  setInterval(function () {
    if (!failing || submitting || sessionEnded) { return; }
    Object.keys(pending).forEach(function (qid) { save(parseInt(qid, 10), true); });
  }, 4000);

  form.addEventListener("change", function (event) {
    if (event.target.id === "prediction") {
      var raw = event.target.value.trim();
      post(event.target.dataset.url, {prediction: raw === "" ? null : parseInt(raw, 10)}).then(function () {
        showStatus("");
      }, function (err) { showStatus(err.message || msgs.failed, "error"); });
      return;
    }
    var fieldset = event.target.closest("fieldset.question");
    if (fieldset) { save(parseInt(fieldset.dataset.questionId, 10)); }
  });

  function renderFeedback(fieldset, data) {
    var slot = fieldset.querySelector(".feedback-slot");
    var box = document.createElement("div");
    box.className = "feedback " + (data.is_correct ? "ok" : "wrong");
    var verdict = document.createElement("p");
    verdict.className = "verdict";
    verdict.textContent = data.is_correct ? "✔ " + msgs.correct : "✘ " + msgs.wrong;
    box.appendChild(verdict);
    var right = document.createElement("p");
    var texts = [];
    var inputs = fieldset.querySelectorAll(OPTIONS);
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].disabled = true;
      if (data.correct_choice_ids.indexOf(parseInt(inputs[i].value, 10)) >= 0) {
        texts.push(inputs[i].parentNode.querySelector("span").textContent);
      }
    }
    right.textContent = msgs.rightAnswer + " " + texts.join("; ");
    box.appendChild(right);
    var expl = document.createElement("p");
    expl.className = "explanation";
    expl.textContent = data.explanation;
    box.appendChild(expl);
    var link = document.createElement("a");
    link.href = data.section_url;
    link.textContent = msgs.openSection + ": " + data.section_title;
    box.appendChild(link);
    slot.appendChild(box);
    var button = fieldset.querySelector("button.check");
    if (button) { button.remove(); }
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button.check");
    if (!button) { return; }
    event.preventDefault();
    var fieldset = button.closest("fieldset.question");
    var qid = parseInt(fieldset.dataset.questionId, 10);
    post(form.dataset.checkUrl, {question_id: qid, choice_ids: selection(fieldset)}).then(function (data) {
      delete pending[qid];
      renderFeedback(fieldset, data);
    }, function (err) { itemStatus(fieldset, err.message || msgs.failed); });
  });

  // Offline, a post would land on the browser's own error page: stay here instead,
  // with every answer, and say what to do.
  function offline() { return navigator.onLine === false; }
  window.addEventListener("online", function () {
    if (statusBox.textContent === msgs.offline) { showStatus(msgs.online, "info"); }
    if (submitting && form.dataset.waitingOnline === "true") { autoSubmit(); }
  });

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (offline()) {
      event.preventDefault();
      showStatus(msgs.offline, "error");
      return;
    }
    var isSubmit = button && button.name === "action" && button.value === "submit";
    if (isSubmit && form.dataset.sent === "true") { event.preventDefault(); return; }  // a double click
    if (isSubmit) { form.dataset.sent = "true"; }
    submitting = true;
  });

  // Time is up: the whole form (with its stale-tab fields) goes with action=submit.
  // Offline, it waits for the connection; the server finishes the attempt with what was
  // saved anyway once the deadline has passed.
  function autoSubmit() {
    if (offline()) {
      form.dataset.waitingOnline = "true";
      showStatus(msgs.offline, "error");
      return;
    }
    form.dataset.waitingOnline = "false";
    document.getElementById("auto-submit").disabled = false;
    form.dataset.sent = "true";
    form.submit();
  }

  // One question per screen: the map and the previous/next buttons show another
  // question at once (nothing to post: every answer is autosaved), and the map marks
  // each question answered or not as the member chooses.
  var map = form.querySelector(".qmap");
  if (map) {
    var questions = form.querySelectorAll("fieldset.question");
    var count = questions.length;
    var currentField = document.getElementById("current-q");
    var prevButton = document.getElementById("prev-button");
    var nextButton = document.getElementById("next-button");
    var prediction = form.querySelector("fieldset.prediction");
    var leftEl = document.getElementById("qmap-left");
    var markMap = function () {
      var missing = 0;
      for (var i = 0; i < questions.length; i++) {
        var answered = selection(questions[i]).length > 0;
        if (!answered) { missing++; }
        var item = map.querySelector('.qmap-item[data-question-id="' + questions[i].dataset.questionId + '"]');
        if (!item) { continue; }
        item.className = "qmap-item " + (answered ? "answered" : "unanswered");
        var state = item.querySelector(".qmap-state");
        state.textContent = answered ? state.dataset.answered : state.dataset.unanswered;
      }
      leftEl.textContent = leftEl.dataset.template.replace("{n}", String(missing));
    };
    var showQuestion = function (n) {
      n = Math.min(Math.max(n, 1), count);
      for (var i = 0; i < questions.length; i++) { questions[i].hidden = (i !== n - 1); }
      if (prediction) { prediction.hidden = (n !== count); }
      currentField.value = String(n);
      prevButton.value = String(n - 1);
      prevButton.hidden = (n === 1);
      nextButton.value = String(n + 1);
      nextButton.hidden = (n === count);
      var items = map.querySelectorAll(".qmap-item");
      for (var j = 0; j < items.length; j++) {
        if (j === n - 1) { items[j].setAttribute("aria-current", "step"); } else { items[j].removeAttribute("aria-current"); }
      }
      if (window.history && history.replaceState) { history.replaceState(null, "", "?q=" + n); }
      var legend = questions[n - 1].querySelector("legend");
      legend.setAttribute("tabindex", "-1");
      legend.focus();
      questions[n - 1].scrollIntoView({block: "start"});
    };
    form.addEventListener("click", function (event) {
      var button = event.target.closest('button[name="goto"]');
      if (!button) { return; }
      event.preventDefault();
      showQuestion(parseInt(button.value, 10));
    });
    form.addEventListener("change", function (event) {
      if (event.target.closest("fieldset.question")) { markMap(); }
    });
  }

  var MILESTONES = [10, 5, 1];
  var announced = null;
  var announceEl = document.getElementById("timer-announce");
  var timer = document.getElementById("timer");
  if (timer) {
    var left = parseInt(timer.dataset.secondsLeft, 10);
    var endAt = Date.now() + left * 1000;  // relative to this page load, not the phone's clock
    var valueEl = document.getElementById("timer-value");
    var tick = function () {
      var secs = Math.max(0, Math.round((endAt - Date.now()) / 1000));
      var m = Math.floor(secs / 60), s = secs % 60;
      valueEl.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      if (secs <= 60) { timer.className = "timer urgent"; }
      for (var k = 0; k < MILESTONES.length && announceEl; k++) {
        var m = MILESTONES[k];
        if (secs <= m * 60 && secs > m * 60 - 30 && announced !== m) {
          announced = m;
          announceEl.textContent = m === 1 ? msgs.oneMinuteLeft : msgs.minutesLeft.replace("{n}", String(m));
        }
      }
      if (secs <= 0 && !submitting) {
        submitting = true;
        showStatus(msgs.timeup, "info");
        autoSubmit();
        return;
      }
      if (!submitting) { setTimeout(tick, 250); }
    };
    tick();
  }
})();
