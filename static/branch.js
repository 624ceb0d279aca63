/* Copy the reminder message to the clipboard (falls back to selecting the text). */
(function () {
  "use strict";
  var button = document.getElementById("copy-reminder");
  var text = document.getElementById("reminder");
  if (!button || !text) { return; }
  button.addEventListener("click", function () {
    text.select();
    var done = function () { button.textContent = button.dataset.done; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text.value).then(done, function () { document.execCommand("copy"); done(); });
    } else { document.execCommand("copy"); done(); }
  });
})();
