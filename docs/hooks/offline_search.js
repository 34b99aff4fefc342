// Search from file:// (docs/hooks/offline_search.py): the search box answers from window.LAB_SEARCH_DOCS.
// Every word must appear (case and Vietnamese diacritics ignored); title matches rank first.
(function () {
  "use strict";
  if (location.protocol !== "file:" || !window.LAB_SEARCH_DOCS) return;
  var me = document.currentScript;
  var base = me ? me.src.replace(/search\/offline_search\.js$/, "") : "";
  function fold(s) {
    return (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  var docs = window.LAB_SEARCH_DOCS.map(function (d) {
    return { d: d, title: fold(d.title), text: fold(d.text) };
  });
  function esc(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function search(query) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    var hits = [];
    docs.forEach(function (x) {
      var score = 0;
      for (var i = 0; i < words.length; i++) {
        var inTitle = x.title.indexOf(words[i]) >= 0;
        var inText = x.text.indexOf(words[i]) >= 0;
        if (!inTitle && !inText) return;
        score += inTitle ? 10 : 1;
      }
      hits.push({ x: x, score: score });
    });
    hits.sort(function (a, b) { return b.score - a.score; });
    return hits.slice(0, 30).map(function (h) { return h.x; });
  }
  function show(out, query) {
    var found = search(query);
    if (!query.trim()) { out.innerHTML = ""; return; }
    if (!found.length) {
      out.innerHTML = "<p>" + esc(out.getAttribute("data-no-results-text") || "No results found") + "</p>";
      return;
    }
    out.innerHTML = found.map(function (x) {
      var at = x.text.indexOf(fold(query).split(/\s+/)[0]);
      var start = Math.max(0, at - 60);
      var snippet = x.d.text.slice(start, start + 200);
      return '<article><h3><a href="' + esc(base + x.d.location) + '">' + esc(x.d.title) +
        "</a></h3><p>" + esc(snippet) + "</p></article>";
    }).join("");
  }
  function init() {
    var input = document.getElementById("mkdocs-search-query");
    var out = document.getElementById("mkdocs-search-results");
    if (!input || !out) return;
    input.addEventListener("input", function () { show(out, input.value); });
    input.form && input.form.addEventListener("submit", function (e) { e.preventDefault(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
