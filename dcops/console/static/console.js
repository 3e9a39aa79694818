// The serial console page: an xterm.js terminal over the gateway's websocket.
// Typed keys go out as text frames; console output comes back as binary frames, written as bytes.
// The page never sees a BMC credential: the websocket is authenticated by the dcops login.
(function () {
  "use strict";
  const root = document.getElementById("console");
  const status = document.getElementById("status");
  const term = new Terminal({ convertEol: false, cursorBlink: true, scrollback: 5000 });
  term.open(root);
  term.focus();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(scheme + "//" + location.host + root.dataset.ws);
  ws.binaryType = "arraybuffer";
  window.dcopsConsole = { term: term, ws: ws };  // for tests and the browser's devtools
  ws.onopen = function () { status.textContent = "connected"; status.dataset.state = "open"; };
  ws.onmessage = function (event) {
    if (typeof event.data === "string") {
      const msg = JSON.parse(event.data);
      if (msg.session) { status.dataset.session = msg.session; }
      if (msg.error) { status.textContent = msg.error; }
      if (msg.ended) { status.textContent = "the console ended (" + msg.result + ")"; }
      return;
    }
    term.write(new Uint8Array(event.data));
  };
  ws.onclose = function () { status.textContent = "closed"; status.dataset.state = "closed"; };
  term.onData(function (data) { if (ws.readyState === WebSocket.OPEN) { ws.send(data); } });
  document.getElementById("close").addEventListener("click", function () { ws.close(); });
})();
