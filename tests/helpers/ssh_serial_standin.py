"""What an SSH serial console looks like behind a BMC's SSH CLI, for sshd's ForceCommand in the
tests: it checks the vendor's console command (``SSH_ORIGINAL_COMMAND``), prints the vendor's
banner, then acts as a host's serial port in cooked mode with echo: each typed byte comes back,
and a finished line is printed again (as a shell would answer it). Everything typed and the
command received are appended to ``$STANDIN_LOG`` so the test can check what reached the "host".
"""

from __future__ import annotations

import os
import sys
import termios
import tty

BANNERS = {  # as the vendors print them on entering the console (iLO's from its user guide)
    "vsp": b"\r\nVirtual Serial Port Active: COM2\r\n Starting virtual serial port.\r\n"
           b" Press 'ESC (' to return to the CLI Session.\r\n",
    "console com2": b"\r\nConnected to the managed system's console (com2). Press Ctrl+\\ to return.\r\n",
    "console 1": b"\r\nSerial console 1 active. Press ESC ( to return to the CLI.\r\n",
    "start /system1/sol1": b"\r\nstart /system1/sol1\r\npress <Enter>, <Esc>, and then <T> to terminate session\r\n",
}


def main() -> int:
    log_path = os.environ.get("STANDIN_LOG", os.devnull)
    command = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    out = sys.stdout.buffer
    with open(log_path, "ab", buffering=0) as log:
        log.write(b"command:" + command.encode() + b"\n")
        banner = BANNERS.get(command)
        if banner is None:
            out.write(b"\r\n</>hpiLO-> Invalid command: " + command.encode() + b"\r\n")
            out.flush()
            return 1
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd) if os.isatty(fd) else None
        if saved is not None:
            tty.setraw(fd)  # the console is raw: this stand-in echoes, as the host's tty would
        try:
            out.write(banner)
            out.flush()
            line = b""
            while True:
                data = os.read(fd, 1024)
                if not data:
                    return 0
                log.write(b"typed:" + data.hex().encode() + b"\n")
                for byte in data:
                    ch = bytes([byte])
                    if ch in (b"\r", b"\n"):
                        out.write(b"\r\n" + line + b"\r\n$ ")
                        line = b""
                    else:
                        out.write(ch)
                        line += ch
                out.flush()
        finally:
            if saved is not None:
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)


if __name__ == "__main__":
    sys.exit(main())
