// Consultation pages (no inline handlers: the Content-Security-Policy refuses them).
// - the print button of the minutes;
// - "Add a row" of a decision's tasks: with JavaScript a new empty row is added in place;
//   without it the button submits and the server sends the form back with one more row.
(function () {
  "use strict";

  var ROW_INDEX = /-tasks-(\d+)-/;

  function addTaskRow(button) {
    var fieldset = button.closest("fieldset");
    var rows = fieldset.querySelectorAll("[data-task-row]");
    var total = fieldset.querySelector("input[name$='-tasks-TOTAL_FORMS']");
    var max = fieldset.querySelector("input[name$='-tasks-MAX_NUM_FORMS']");
    if (!rows.length || !total) {
      return false;
    }
    var count = parseInt(total.value, 10);
    var limit = max ? parseInt(max.value, 10) : 10;
    if (count >= limit) {
      return true;
    }
    var row = rows[rows.length - 1].cloneNode(true);
    var index = String(count);
    row.setAttribute("data-testid", "task-row-" + index);
    row.querySelectorAll(".field-error, .errorlist").forEach(function (node) {
      node.remove();
    });
    row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (node) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attribute) {
        var value = node.getAttribute(attribute);
        if (value) {
          node.setAttribute(attribute, value.replace(ROW_INDEX, "-tasks-" + index + "-"));
        }
      });
      node.removeAttribute("aria-invalid");
      if (node.tagName === "SELECT") {
        node.selectedIndex = 0;
      } else if (node.tagName === "INPUT" || node.tagName === "TEXTAREA") {
        node.value = "";
      }
    });
    var number = row.querySelector(".task-number");
    if (number) {
      number.textContent = number.textContent.replace(/\d+/, String(count + 1));
    }
    rows[rows.length - 1].after(row);
    total.value = String(count + 1);
    if (count + 1 >= limit) {
      button.hidden = true;
    }
    var first = row.querySelector("select, input, textarea");
    if (first) {
      first.focus();
    }
    return true;
  }

  document.addEventListener("click", function (event) {
    var print = event.target.closest("[data-print]");
    if (print) {
      event.preventDefault();
      window.print();
      return;
    }
    var add = event.target.closest("[data-add-task-row]");
    if (add && addTaskRow(add)) {
      event.preventDefault();
    }
  });
})();
