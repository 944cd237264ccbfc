// idgraph console: the picture of one profile (cytoscape.js), and explanations on click.
(function () {
  "use strict";
  var box = document.getElementById("cluster");
  if (!box || typeof cytoscape === "undefined") { return; }
  var panel = document.getElementById("explain");
  var showIps = document.getElementById("show-ips");
  var cy = null;

  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) { el.className = cls; }
    return el;
  }
  function row(dl, term, value) {
    if (value === undefined || value === null || value === "") { return; }
    dl.appendChild(text("dt", term));
    dl.appendChild(text("dd", Array.isArray(value) ? value.join(", ") : String(value)));
  }
  function show(title, build) {
    panel.replaceChildren(text("h3", title));
    build(panel);
  }

  function layoutFor(n) {
    // force-directed while it stays readable; concentric rings by type beyond
    if (n <= 80) {
      return { name: "cose", animate: false, nodeRepulsion: function () { return 60000; },
               idealEdgeLength: function () { return 120; }, nodeOverlap: 40, padding: 24,
               randomize: false, numIter: 2000 };
    }
    var order = ["user_id", "loyalty_id", "email", "phone", "device_id", "cookie_id", "ip"];
    return { name: "concentric", animate: false, padding: 16, minNodeSpacing: 6,
             concentric: function (node) { var i = order.indexOf(node.data("type")); return i < 0 ? 0 : order.length - i; },
             levelWidth: function () { return 1; } };
  }

  function explainNode(node) {
    var d = node.data();
    if (!d.member) {
      show(d.type + " " + d.value, function (p) {
        var dl = document.createElement("dl");
        row(dl, "In this profile", "no");
        row(dl, "Quarantined", d.quarantined ? "yes: linked to too many customers to link at all" : "no");
        row(dl, "Its profile", d.profile_id);
        if (d.weak) { row(dl, "Role", "weak evidence (never a member)"); }
        p.appendChild(dl);
      });
      return;
    }
    show(d.type + " " + d.value, function (p) { p.appendChild(text("p", "Loading the explanation…")); });
    var url = box.getAttribute("data-explain") + "?type=" + encodeURIComponent(d.type) + "&value=" + encodeURIComponent(d.value);
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        show(d.type + " " + d.value, function (p) {
          if (!res.ok) { p.appendChild(text("p", res.body.message || "no explanation", "error")); return; }
          var e = res.body;
          p.appendChild(text("p", "Why it is here: " + e.reason + "."));
          var ol = document.createElement("ol");
          ol.className = "chain";
          (e.path || []).forEach(function (step) {
            var li = document.createElement("li");
            var how = step.kind === "model" ? "model link, score " + Number(step.score).toFixed(3)
              : "seen together " + step.evidence.count + "×, " + (step.evidence.first_seen || "") + " → " + (step.evidence.last_seen || "");
            li.appendChild(text("span", step.from.type + " " + step.from.value + " → " + step.to.type + " " + step.to.value));
            li.appendChild(text("small", " (" + how + (step.evidence.sources.length ? "; " + step.evidence.sources.join(", ") : "") + ")"));
            ol.appendChild(li);
          });
          if (ol.children.length) { p.appendChild(ol); }
          if (e.household_id) { p.appendChild(text("p", "Household: " + e.household_id)); }
          if (e.refused && e.refused.length) {
            p.appendChild(text("h4", "Refused links"));
            var ul = document.createElement("ul");
            e.refused.forEach(function (r) { ul.appendChild(text("li", r["with"].type + " " + r["with"].value + ": " + r.reason)); });
            p.appendChild(ul);
          }
        });
      });
  }

  function explainEdge(edge) {
    var d = edge.data();
    var titles = { observed: "Seen together", model: "Model link", refused: "Refused link", evidence: "IP evidence" };
    show(titles[d.kind] || d.kind, function (p) {
      var dl = document.createElement("dl");
      row(dl, "Between", edge.source().data("type") + " " + edge.source().data("value"));
      row(dl, "and", edge.target().data("type") + " " + edge.target().data("value"));
      row(dl, "Times seen together", d.count);
      row(dl, "First", d.first_seen);
      row(dl, "Last", d.last_seen);
      row(dl, "Sources", d.sources);
      if (d.kind === "model") { row(dl, "Score (calibrated probability)", d.score); row(dl, "Model", d.model_version); }
      if (d.kind === "refused") { row(dl, "Reason", d.reason); row(dl, "Refused as", d.refused_as); }
      p.appendChild(dl);
    });
  }

  function draw(elements) {
    if (cy) { cy.destroy(); }
    cy = cytoscape({
      container: box,
      elements: elements,
      wheelSensitivity: 0.3,
      style: [
        { selector: "node", style: { "background-color": "data(colour)", "border-color": "data(border)", "border-width": 2,
          "label": "data(label)", "font-size": 9, "text-valign": "bottom", "text-margin-y": 3, "width": 26, "height": 26,
          "text-background-color": "#fbfcfd", "text-background-opacity": 0.85, "text-background-padding": 1 } },
        { selector: "node[!member]", style: { "opacity": 0.75, "shape": "round-rectangle" } },
        { selector: "node[?weak]", style: { "width": 16, "height": 16, "shape": "diamond" } },
        { selector: "node[?quarantined]", style: { "border-color": "#B00020", "border-width": 4, "border-style": "double" } },
        { selector: "edge", style: { "curve-style": "bezier", "line-color": "#8A8F99", "width": "data(width)" } },
        { selector: "edge[kind = 'model']", style: { "line-style": "dashed", "line-color": "#6A3FB5", "width": 2,
          "label": "data(label)", "font-size": 8, "text-background-color": "#fff", "text-background-opacity": 1 } },
        { selector: "edge[kind = 'refused']", style: { "line-style": "dotted", "line-color": "#B00020", "width": 2,
          "label": "refused", "font-size": 8, "color": "#B00020" } },
        { selector: "edge[kind = 'evidence']", style: { "line-color": "#C990C0", "opacity": 0.6 } },
        { selector: ":selected", style: { "overlay-color": "#1a73e8", "overlay-opacity": 0.25 } }
      ],
      layout: layoutFor(elements.filter(function (e) { return !e.data.source; }).length)
    });
    cy.on("tap", "node", function (evt) { explainNode(evt.target); });
    cy.on("tap", "edge", function (evt) { explainEdge(evt.target); });
    box.setAttribute("data-nodes", String(cy.nodes().length));
    box.setAttribute("data-ready", "1");
  }

  function load() {
    box.removeAttribute("data-ready");
    var url = box.getAttribute("data-url") + (showIps && showIps.checked ? "?ips=1" : "");
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) { draw(body.elements); })
      .catch(function () { box.textContent = "The picture could not be loaded."; });
  }
  if (showIps) { showIps.addEventListener("change", load); }
  var fit = document.getElementById("fit");
  if (fit) { fit.addEventListener("click", function () { if (cy) { cy.fit(undefined, 20); } }); }
  // keyboard: each identifier's "Why here?" button selects its node and explains it
  document.querySelectorAll("button.why").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!cy) { return; }
      var node = cy.getElementById(button.getAttribute("data-type") + ":" + button.getAttribute("data-value"));
      if (node.empty()) { return; }
      cy.elements().unselect();
      node.select();
      explainNode(node);
      panel.scrollIntoView({ block: "nearest" });
      panel.focus();
    });
  });
  window.idgraphCluster = { get: function () { return cy; } };
  load();
})();
