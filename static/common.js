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
