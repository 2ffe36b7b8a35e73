// Sorting and filtering for the report's tables. The page is complete without it: the tables
// are already in report order, and the filter controls stay hidden until this has run.
(function () {
  "use strict";

  function sortKey(row, column) {
    var cell = row.cells[column];
    if (!cell) {
      return "";
    }
    var key = cell.getAttribute("data-sort");
    return key === null ? cell.textContent.trim().toLowerCase() : key;
  }

  // Numbers (severity ranks, layer indexes) compare as numbers, everything else as text.
  function compare(left, right) {
    if (left !== "" && right !== "" && !isNaN(left) && !isNaN(right)) {
      return Number(left) - Number(right);
    }
    return left.localeCompare(right);
  }

  function makeSortable(table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var body = table.tBodies[0];
    headers.forEach(function (header, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = header.textContent;
      header.textContent = "";
      header.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = header.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) {
          other.removeAttribute("aria-sort");
        });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        // Array sort is stable: rows with equal keys keep the report order.
        rows.sort(function (a, b) {
          var order = compare(sortKey(a, column), sortKey(b, column));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) {
          body.appendChild(row);
        });
      });
    });
  }

  // A filter given in the address (`report.html#filter=openssl`) fills every text box, so a
  // filtered view can be shared as a link.
  function filterFromAddress() {
    var match = /^#filter=(.*)$/.exec(window.location.hash);
    if (!match) {
      return "";
    }
    try {
      return decodeURIComponent(match[1]);
    } catch (error) {
      return "";
    }
  }

  function makeFilterable(controls, initial) {
    var table = document.getElementById(controls.getAttribute("data-table"));
    var text = controls.querySelector("input[type=search]");
    var boxes = Array.prototype.slice.call(controls.querySelectorAll("input[type=checkbox]"));
    var shown = controls.querySelector(".shown");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    function apply() {
      var needle = text.value.trim().toLowerCase();
      var wanted = {};
      boxes.forEach(function (box) {
        wanted[box.value] = box.checked;
      });
      var count = 0;
      rows.forEach(function (row) {
        var severity = row.getAttribute("data-severity");
        var visible = !(severity && wanted[severity] === false) &&
          (needle === "" || row.textContent.toLowerCase().indexOf(needle) !== -1);
        row.hidden = !visible;
        count += visible ? 1 : 0;
      });
      shown.textContent = count + " of " + rows.length + " shown";
    }
    text.value = initial;
    text.addEventListener("input", apply);
    boxes.forEach(function (box) {
      box.addEventListener("change", apply);
    });
    controls.hidden = false;
    apply();
  }

  var initial = filterFromAddress();
  document.querySelectorAll("table.sortable").forEach(makeSortable);
  document.querySelectorAll(".filters").forEach(function (controls) {
    makeFilterable(controls, initial);
  });
  document.body.setAttribute("data-ready", "true");
})();
