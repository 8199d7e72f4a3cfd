// Reading view: selecting a highlight shows its claim card (the link's #claim-ID
// target already does that without script); this marks the selected highlight and
// moves keyboard focus to the card, and back to the words with Escape.
(function () {
  "use strict";
  var last = null;
  function select(id, focus) {
    var card = document.getElementById(id);
    if (!card || !card.classList.contains("card")) { return; }
    document.querySelectorAll(".card.selected").forEach(function (c) { c.classList.remove("selected"); });
    document.querySelectorAll(".hl[aria-current]").forEach(function (h) { h.removeAttribute("aria-current"); });
    card.classList.add("selected");
    var claim = id.replace(/^claim-/, "");
    document.querySelectorAll('.hl[data-claim="' + claim + '"]').forEach(function (h) { h.setAttribute("aria-current", "true"); });
    if (focus) { card.focus(); }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.hl") : null;
    if (link) { last = link; select("claim-" + link.getAttribute("data-claim"), true); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && last) { last.focus(); }
  });
  window.addEventListener("hashchange", function () { select(location.hash.slice(1), true); });
  if (location.hash) { select(location.hash.slice(1), false); }
})();
