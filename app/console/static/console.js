// idgraph console: small helpers every page may use (no framework, no inline script).
(function () {
  "use strict";

  // selects marked data-autosubmit submit their form when changed
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // forms marked data-confirm ask first
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // live segment counts: each cell marked data-count-url asks for its count
  document.querySelectorAll("[data-count-url]").forEach(function (cell) {
    fetch(cell.getAttribute("data-count-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) { cell.textContent = body.count.toLocaleString(); cell.classList.add("loaded"); })
      .catch(function () { cell.textContent = "?"; cell.title = "the count could not be read"; });
  });

  // the segment editor: a few members, loaded after the page (server-rendered HTML)
  var preview = document.getElementById("preview");
  if (preview) {
    fetch(preview.getAttribute("data-preview-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        preview.replaceChildren.apply(preview, Array.from(doc.body.childNodes));
      })
      .catch(function () { preview.textContent = "The members could not be read."; });
  }

  // the segment editor: show the rows or the JSON text, as the mode says
  var modes = document.querySelectorAll("input[name=mode]");
  modes.forEach(function (radio) {
    radio.addEventListener("change", function () {
      document.querySelectorAll("[data-mode]").forEach(function (part) {
        part.hidden = part.getAttribute("data-mode") !== radio.value;
      });
    });
  });

  // the segment editor: another empty condition row (a copy of the last, renumbered)
  var add = document.getElementById("add-condition");
  if (add) {
    add.addEventListener("click", function () {
      var rows = document.querySelectorAll("table.conditions tbody tr");
      var last = rows[rows.length - 1];
      var n = rows.length;
      var copy = last.cloneNode(true);
      copy.classList.remove("invalid");
      copy.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
      copy.querySelectorAll("[id]").forEach(function (el) { el.id = el.id.replace(/^row-\d+-/, "row-" + n + "-"); });
      copy.querySelectorAll("[name]").forEach(function (el) { el.name = el.name.replace(/^row-\d+-/, "row-" + n + "-"); });
      copy.querySelectorAll("label[for]").forEach(function (el) {
        el.htmlFor = el.htmlFor.replace(/^row-\d+-/, "row-" + n + "-");
        el.textContent = el.textContent.replace(/Condition \d+/, "Condition " + (n + 1));
      });
      copy.querySelectorAll("input").forEach(function (el) { el.value = ""; el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); });
      copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); });
      last.parentNode.appendChild(copy);
      copy.querySelector("select").focus();
    });
  }

  // an export's page: follow its progress until it finishes or fails
  var box = document.getElementById("export-status");
  if (box) {
    var bar = document.getElementById("progress");
    var state = document.getElementById("state");
    var download = document.getElementById("download");
    var poll = function () {
      fetch(box.getAttribute("data-status-url"), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          var p = s.progress || {};
          if (p.total) { bar.max = p.total; bar.value = p.members || p.rows || 0; }
          var text = s.status;
          if (p.rows !== undefined) { text += " — " + p.rows + (p.total ? " of " + p.total : "") + " rows"; }
          if (s.error) { text += ": " + s.error; }
          if (s.status === "finished" && s.result) {
            text = "finished — " + s.result.rows + " rows, sha256 " + String(s.result.sha256 || "").slice(0, 12) + "…";
            bar.max = 100; bar.value = 100;
          }
          state.textContent = text;
          if (s.download_url) { download.hidden = false; return; }
          if (s.status === "failed") { bar.value = 0; return; }
          window.setTimeout(poll, 500);
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    };
    poll();
  }
})();
