// Keyboard shortcuts and the time spent on a comparison (visible time only).
(function () {
  "use strict";
  var form = document.getElementById("label-form");
  if (!form) { return; }
  var visibleMs = 0;
  var since = document.hidden ? null : Date.now();
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { if (since !== null) { visibleMs += Date.now() - since; since = null; } }
    else { since = Date.now(); }
  });
  form.addEventListener("submit", function () {
    var total = visibleMs + (since !== null ? Date.now() - since : 0);
    document.getElementById("client_seconds").value = (total / 1000).toFixed(2);
  });
  var text = document.getElementById("justification");
  function byKey(key) {
    return form.querySelector('input[data-key="' + key + '"]');
  }
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") {
      ev.preventDefault();
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      return;
    }
    var target = ev.target;
    var typing = target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type === "text"));
    if (typing) {
      if (ev.key === "Escape") { target.blur(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var key = ev.key.toLowerCase();
    if (key === "j") { ev.preventDefault(); text.focus(); return; }
    var input = byKey(key);
    if (!input) { return; }
    ev.preventDefault();
    if (input.type === "checkbox") { input.checked = !input.checked; } else { input.checked = true; }
  });
})();
