// Playback of a recorded console session (asciicast v2): output events are written to an
// xterm.js terminal at their recorded times (scaled by ?speed=N); input lines are listed beside.
(function () {
  "use strict";
  const root = document.getElementById("replay");
  const term = new Terminal({ convertEol: false, scrollback: 5000, disableStdin: true });
  term.open(root);
  const speed = Number(new URLSearchParams(location.search).get("speed") || "1") || 1;
  const inputs = document.getElementById("inputs");
  fetch(root.dataset.cast, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (text) {
    const lines = text.split("\n").filter(function (l) { return l.trim(); });
    const events = lines.slice(1).map(function (l) { return JSON.parse(l); });
    events.forEach(function (ev) {
      setTimeout(function () {
        if (ev[1] === "o") { term.write(ev[2]); }
        if (ev[1] === "i") { const li = document.createElement("li"); li.textContent = ev[2]; inputs.appendChild(li); }
      }, (ev[0] * 1000) / speed);
    });
    const last = events.length ? events[events.length - 1][0] : 0;
    setTimeout(function () { root.dataset.done = "1"; }, (last * 1000) / speed + 10);
  });
})();
