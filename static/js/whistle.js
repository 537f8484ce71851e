// Whistle's page behaviour. Kept in a file (never inline) so a Content-Security-Policy
// without 'unsafe-inline' can apply. Pages work without it.
(function () {
  "use strict";

  // A click on the skip link moves keyboard focus to the main content as well as the view.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.skip-link");
    if (!link) {
      return;
    }
    var target = document.getElementById("main");
    if (target) {
      target.focus();
    }
  });
})();
