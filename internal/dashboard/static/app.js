// Patchloop dashboard: while a page shows queued or running items, fetch it
// again every few seconds and swap in the new main element. Without
// JavaScript the pages work as they are; reload to refresh.
(function () {
  "use strict";
  var interval = 2000;
  function refresh() {
    var main = document.getElementById("main");
    if (!main || !main.hasAttribute("data-live")) {
      return;
    }
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        if (!resp.ok || resp.redirected) {
          throw new Error("refresh: HTTP " + resp.status);
        }
        return resp.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("main");
        var cur = document.getElementById("main");
        if (next && cur) {
          // Keep open <details> open across refreshes.
          var open = Array.prototype.map.call(cur.querySelectorAll("details[open]"), function (d) {
            return d.closest("[data-registry]") ? d.closest("[data-registry]").getAttribute("data-registry") : "";
          });
          cur.replaceWith(next);
          open.forEach(function (reg) {
            var sec = document.querySelector('[data-registry="' + CSS.escape(reg) + '"] details');
            if (sec) { sec.open = true; }
          });
        }
        setTimeout(refresh, interval);
      })
      .catch(function () { setTimeout(refresh, interval * 5); });
  }
  document.addEventListener("DOMContentLoaded", function () { setTimeout(refresh, interval); });
})();
