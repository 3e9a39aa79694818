"""One console for every server: serial and graphical consoles behind one gateway.

* ``stream``: what a serial console is to the gateway (an async byte stream).
* ``cast``: session recordings in asciicast v2 (output, and input one line at a time).
* ``store``: recordings in the state store, beside the audit log; retention.
* ``gateway``: opens a host's serial console (IPMI SOL), records it, audits it (who, when, host,
  how long); the web UI and ``dcops console HOST`` both go through it.
* ``graphical``: per-vendor HTML5 console launch URLs built from a BMC session the gateway
  obtains, so the BMC password never reaches the browser.
* ``web``: aiohttp routes (xterm.js page, websocket, playback, graphical launch).
"""
