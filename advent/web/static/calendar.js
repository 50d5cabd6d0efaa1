// Today's door follows the send as it runs: every few seconds it asks the day's progress.json
// and updates its counts in place. Without JavaScript the page still shows the counts as they
// were when it loaded (reload to refresh).
(function () {
  "use strict";
  var EVERY_MS = 4000;

  function setText(door, name, value) {
    var el = door.querySelector('[data-count="' + name + '"]');
    if (el && el.textContent !== String(value)) { el.textContent = value; }
  }

  function show(door, p) {
    if (!door.querySelector("[data-count]")) {
      // The door still shows tomorrow's-style preview: the send has started, so draw it afresh.
      if (p.planned > 0) { window.location.reload(); }
      return;
    }
    ["sent", "delivered", "read", "failed"].forEach(function (name) { setText(door, name, p[name]); });
    setText(door, "read_rate", p.read_rate === null ? "–" : p.read_rate + "%");
    var handed = p.planned - p.waiting;
    var bar = door.querySelector('[data-count="progress"]');
    if (bar) { bar.max = p.planned; bar.value = handed; bar.textContent = handed + " of " + p.planned; }
    setText(door, "summary", handed + " of " + p.planned + " handed over" + (p.waiting ? ", " + p.waiting + " waiting" : ""));
    door.classList.toggle("has-failed", p.failed > 0);
  }

  function follow(door) {
    var url = door.getAttribute("data-progress");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (p) {
          show(door, p);
          if (!p.finished) { window.setTimeout(poll, EVERY_MS); }
        })
        // A dropped connection or a sign-out: try again later, quietly.
        .catch(function () { window.setTimeout(poll, EVERY_MS * 4); });
    }
    window.setTimeout(poll, EVERY_MS);
  }

  document.querySelectorAll("[data-progress]").forEach(follow);
})();
