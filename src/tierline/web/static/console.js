// Tierline console: live SLA countdowns and keyboard shortcuts. A few lines, no framework.
(function () {
  "use strict";
  var AT_RISK_MS = 60 * 60 * 1000;

  function span(ms) {
    var m = Math.floor(Math.abs(ms) / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), r = m % 60;
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + (r < 10 ? "0" : "") + r + "m";
    return r + "m";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-due]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-due")) - now;
      if (isNaN(left)) return;
      el.textContent = left < 0 ? span(left) + " overdue" : "in " + span(left);
      el.classList.remove("ok", "at-risk", "breached");
      el.classList.add(left < 0 ? "breached" : left <= AT_RISK_MS ? "at-risk" : "ok");
    });
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-list] tr[data-row]")); }

  function select(delta) {
    var all = rows(); if (!all.length) return;
    var at = all.findIndex(function (r) { return r.classList.contains("selected"); });
    var next = Math.max(0, Math.min(all.length - 1, at < 0 ? 0 : at + delta));
    all.forEach(function (r) { r.classList.remove("selected"); });
    all[next].classList.add("selected");
    var link = all[next].querySelector("a"); if (link) link.focus();
  }

  var pendingG = false;
  document.addEventListener("keydown", function (e) {
    var t = e.target, typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (pendingG) { pendingG = false; if (e.key === "q") { window.location.href = "/queues"; e.preventDefault(); } return; }
    if (e.key === "j") { select(1); e.preventDefault(); }
    else if (e.key === "k") { select(-1); e.preventDefault(); }
    else if (e.key === "/") { var q = document.getElementById("q"); if (q) { q.focus(); q.select(); e.preventDefault(); } }
    else if (e.key === "g") { pendingG = true; setTimeout(function () { pendingG = false; }, 1500); }
  });

  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
