/* Behaviour shared by every page, without inline handlers (so the CSP can forbid them):
   a confirmation before destructive form posts, and print buttons. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    // Offline, a post would show the browser's own (English) error page: stay, and say so.
    var form = event.target;
    if (form.hasAttribute("data-needs-network") && navigator.onLine === false) {
      event.preventDefault();
      var note = form.querySelector(".offline-note");
      if (!note) {
        note = document.createElement("p");
        note.className = "offline-note flash flash-error";
        note.setAttribute("role", "alert");
        form.insertBefore(note, form.firstChild);
      }
      note.textContent = form.getAttribute("data-offline-message");
      return;
    }
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });
})();
/* "Show password" on the login page: the checkbox is hidden until this script runs, so
   without JavaScript the field simply stays a password field. */
(function () {
  "use strict";
  var boxes = document.querySelectorAll("[data-show-password]");
  for (var i = 0; i < boxes.length; i++) {
    var toggle = boxes[i].querySelector("input[data-toggles]");
    var target = toggle && document.getElementById(toggle.getAttribute("data-toggles"));
    if (!target) { continue; }
    boxes[i].removeAttribute("hidden");
    toggle.checked = false;
    toggle.addEventListener("change", (function (input) {
      return function (event) { input.type = event.target.checked ? "text" : "password"; };
    })(target));
    if (target.form) {  // sent as a password field, so the browser offers to remember it
      target.form.addEventListener("submit", (function (input) {
        return function () { input.type = "password"; };
      })(target));
    }
  }
})();
/* Copy buttons: data-copy names the textarea whose text goes to the clipboard (without
   the clipboard API, the text is selected and copied the old way). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var text = document.getElementById(button.getAttribute("data-copy"));
    if (!text) { return; }
    text.select();
    var done = function () { button.textContent = button.getAttribute("data-done"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text.value).then(done, function () { document.execCommand("copy"); done(); });
    } else { document.execCommand("copy"); done(); }
  });
})();
