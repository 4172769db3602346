// The archive's filter box: plain JavaScript over window.BRIEFING_SEARCH (search-index.js).
// Loaded as a script file, not fetch(): browsers refuse fetch() from file:// pages.
// Results are built with textContent and relative hrefs only: story titles are feed input.
(function () {
  "use strict";
  var input = document.getElementById("filter");
  var list = document.getElementById("results");
  var status = document.getElementById("filter-status");
  var stories = window.BRIEFING_SEARCH;
  if (!input || !list || !status) { return; }
  if (!Array.isArray(stories)) {
    status.textContent = "The search index (search-index.js) is missing.";
    return;
  }
  var LIMIT = 50;
  var haystacks = stories.map(function (s) {
    return [s.d, s.t].concat(s.a, s.r, s.c, s.s, s.v, s.f, s.n || []).join(" \u0001 ").toLowerCase();
  });
  input.disabled = false;
  status.textContent = stories.length + " stories; type to filter.";

  function render() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!words.length) {
      status.textContent = stories.length + " stories; type to filter.";
      return;
    }
    var hits = 0;
    for (var i = 0; i < stories.length; i++) {
      var text = haystacks[i];
      if (!words.every(function (w) { return text.indexOf(w) !== -1; })) { continue; }
      hits++;
      if (hits > LIMIT) { continue; }
      var s = stories[i];
      var item = document.createElement("li");
      var date = document.createElement("span");
      date.className = "date";
      date.textContent = s.d + " ";
      var link = document.createElement("a");
      link.href = s.u;  // relative: "YYYY-MM-DD/briefing.html#story-ID"
      link.textContent = s.t;
      item.appendChild(date);
      item.appendChild(link);
      var tags = s.a.concat(s.r, s.v);
      if (tags.length) {
        var detail = document.createElement("span");
        detail.className = "count";
        detail.textContent = " — " + tags.join(", ");
        item.appendChild(detail);
      }
      list.appendChild(item);
    }
    status.textContent = hits === 0 ? "No story matches." :
      hits + (hits === 1 ? " story matches" : " stories match") +
      (hits > LIMIT ? "; showing the newest " + LIMIT + "." : ".");
  }
  input.addEventListener("input", render);
  if (input.value) { render(); }
}());
