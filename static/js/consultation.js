// Consultation pages: the print button of the minutes (no inline handlers, CSP-friendly).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
