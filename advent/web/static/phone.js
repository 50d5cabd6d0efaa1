// The phone page refreshes its conversation by itself: every 1.5 s it asks messages.json (which
// also collects the simulator's due receipts), appends new messages and moves the ticks.
// Without JavaScript the page still works: the form posts and the page reloads.
(function () {
  "use strict";
  var thread = document.getElementById("thread");
  if (!thread || !window.fetch) return;
  var source = thread.getAttribute("data-source");
  var INTERVAL_MS = 1500;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function ticks(t) {
    var span = el("span", "ticks " + t.css, t.marks);
    span.title = t.label;
    span.setAttribute("aria-label", t.label);
    return span;
  }

  function bubble(m) {
    var li = el("li", "bubble " + (m.mine ? "mine" : "theirs") + " kind-" + m.kind);
    li.appendChild(el("p", "body", m.body));
    var meta = el("p", "meta");
    var what = m.channel + (m.kind === "post" || m.kind === "invite" ? " · " + m.kind : m.kind === "organiser" ? " · for the organiser" : "");
    meta.appendChild(el("span", "channel", what));
    meta.appendChild(el("time", "", m.time));
    meta.appendChild(ticks(m.ticks));
    li.appendChild(meta);
    return li;
  }

  function sameTicks(node, t) {
    return node.textContent === t.marks && node.className === "ticks " + t.css;
  }

  function show(messages) {
    var items = thread.querySelectorAll("li.bubble");
    if (items.length > messages.length) {  // the list changed under us: draw it again
      thread.textContent = "";
      items = [];
    }
    var empty = thread.querySelector("li.empty");
    if (empty && messages.length) empty.remove();
    var atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
    messages.forEach(function (m, i) {
      if (i < items.length) {
        var old = items[i].querySelector(".ticks");
        if (old && !sameTicks(old, m.ticks)) old.replaceWith(ticks(m.ticks));
      } else {
        thread.appendChild(bubble(m));
      }
    });
    if (atBottom || items.length < messages.length) thread.scrollTop = thread.scrollHeight;
    // "No post yet" is over once one arrives.
    var hint = document.querySelector(".next-post");
    if (hint && messages.some(function (m) { return m.kind === "post"; })) hint.remove();
  }

  function poll() {
    fetch(source, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.messages) show(data.messages); })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { window.setTimeout(poll, INTERVAL_MS); });
  }

  thread.scrollTop = thread.scrollHeight;
  window.setTimeout(poll, INTERVAL_MS);
})();
