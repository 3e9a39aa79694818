"""Running a fleet as a process: the state directory, credentials, TLS certificates, the foreground
loop, the detached background process, and the client the CLI uses to talk to the control API.

State directory (``--dir``; default ``$XDG_RUNTIME_DIR/dcops-sim`` or ``~/.local/state/dcops/sim``)::

    state.json      pid, control port, scheme, hosts, inventory path, start-up time
    password        the fleet's BMC password (0600); the inventory refers to it as file:<dir>/password
    control-token   the control API token (0600)
    hosts.json      every host's name, address, port, profile, rack
    inventory.yaml  the fleet as an inventory (unless --write-inventory names another path)
    tls/            ca.pem, cert.pem, key.pem when --tls
    sim.log         stdout/stderr of a background fleet
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dcops.errors import DcopsError, UnreachableError, UsageError
from dcops.processes import pid_alive
from dcops.sim.control import TOKEN_HEADER, ControlApi
from dcops.sim.fleet import Fleet, FleetSpec


def default_state_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "dcops-sim"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "dcops" / "sim"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600 from the start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)


def fleet_password(state_dir: Path) -> str:
    """$DCOPS_SIM_PASSWORD, else the password this state dir already has, else a new random one."""
    env = os.environ.get("DCOPS_SIM_PASSWORD")
    if env:
        return env
    path = state_dir / "password"
    if path.exists():
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing
    return secrets.token_urlsafe(12)


# ----------------------------------------------------------------------------- TLS

def make_certificates(directory: Path, addresses: tuple[str, ...] = ("127.0.0.1",)) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for localhost/127.0.0.1 signed by it (EC P-256).
    Returns (ca.pem, cert.pem, key.pem); reuses them when they exist."""
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    if ca_path.exists() and cert_path.exists() and key_path.exists():
        return ca_path, cert_path, key_path
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dcops sim CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + dt.timedelta(days=825))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dcops-sim-bmc")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode())
    return ca_path, cert_path, key_path


def server_ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


# ----------------------------------------------------------------------------- foreground

async def run_fleet(spec: FleetSpec, state_dir: Path, *, inventory_path: Path | None = None,
                    control_port: int = 0, on_ready: Callable[[Fleet, dict[str, Any]], None] | None = None,
                    stop: asyncio.Event | None = None) -> None:
    """Start the fleet and its control API, write the state directory, serve until stopped."""
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(state_dir, 0o700)
    spec.password = spec.password or fleet_password(state_dir)
    write_private(state_dir / "password", spec.password + "\n")
    token = secrets.token_hex(16)
    write_private(state_dir / "control-token", token + "\n")
    fleet = Fleet(spec)
    ca = None
    if spec.tls:
        ca, cert, key = make_certificates(state_dir / "tls")
        fleet.ssl_context = server_ssl_context(cert, key)
    await fleet.start()
    control = ControlApi(fleet, token)
    await control.start(port=control_port)
    inventory = inventory_path or state_dir / "inventory.yaml"
    password_ref = "env:DCOPS_SIM_PASSWORD" if os.environ.get("DCOPS_SIM_PASSWORD") else \
        f"file:{state_dir / 'password'}"
    fleet.write_inventory(inventory, password_ref, str(ca) if ca else None)
    _write_json(state_dir / "hosts.json", fleet.host_rows())
    state = {"pid": os.getpid(), "control_port": control.port, "scheme": fleet.scheme(),
             "hosts": len(fleet.hosts), "replays": len(fleet.replays), "inventory": str(inventory),
             "state_dir": str(state_dir), "startup_seconds": round(fleet.startup_seconds or 0, 3),
             "started": time.time(), "ca_bundle": str(ca) if ca else None, "username": spec.username}
    _write_json(state_dir / "state.json", state)
    loop = asyncio.get_running_loop()
    stopper = stop or control.stopped
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stopper.set)
    if stop is not None:
        control.stopped = stop
    if on_ready is not None:
        on_ready(fleet, state)
    try:
        await stopper.wait()
    finally:
        await control.stop()
        await fleet.stop()
        with contextlib.suppress(FileNotFoundError):
            (state_dir / "state.json").unlink()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)


# ----------------------------------------------------------------------------- background

def read_state(state_dir: Path) -> dict[str, Any] | None:
    """The state of a fleet running from ``state_dir`` (None when none runs there)."""
    path = state_dir / "state.json"
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not pid_alive(int(state.get("pid", 0))):
        return None
    return state


def spawn_background(argv: list[str], state_dir: Path, timeout: float = 180.0) -> dict[str, Any]:
    """Start ``dcops sim up ARGV`` as a detached process and wait until it is serving."""
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(state_dir, 0o700)
    with contextlib.suppress(FileNotFoundError):
        (state_dir / "state.json").unlink()
    log_path = state_dir / "sim.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "dcops", "sim", "up", *argv, "--dir", str(state_dir)],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                   close_fds=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(state_dir)
        if state is not None and state.get("pid") == process.pid:
            return state
        if process.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            raise DcopsError(f"the background simulator exited with status {process.returncode}: "
                             + " | ".join(tail))
        time.sleep(0.1)
    process.terminate()
    raise DcopsError(f"the background simulator was not ready within {timeout:.0f} s (see {log_path})")


def stop_background(state_dir: Path, timeout: float = 30.0) -> int | None:
    """Stop the fleet of ``state_dir``: ask the control API, then SIGTERM, then SIGKILL. Returns its pid."""
    state = read_state(state_dir)
    if state is None:
        return None
    pid = int(state["pid"])
    with contextlib.suppress(DcopsError):
        ControlClient.from_dir(state_dir).post("/v1/shutdown", {})
    start = time.monotonic()
    signalled = False
    while pid_alive(pid):
        elapsed = time.monotonic() - start
        if elapsed > timeout / 2 and not signalled:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            signalled = True
        if elapsed > timeout:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    return pid


class ControlClient:
    """A small JSON client of the control API (urllib: no extra dependency, loopback only)."""

    def __init__(self, port: int, token: str | None, timeout: float = 15.0) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = token
        self.timeout = timeout

    @classmethod
    def from_dir(cls, state_dir: Path) -> ControlClient:
        state = read_state(state_dir)
        if state is None:
            raise UsageError(f"no simulator is running from {state_dir} (start one with `dcops sim up --background`)")
        token_path = state_dir / "control-token"
        token = token_path.read_text(encoding="utf-8").strip() if token_path.exists() else None
        return cls(int(state["control_port"]), token)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header(TOKEN_HEADER, self.token)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - loopback
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            if exc.code in (400, 404):
                raise UsageError(f"simulator: {message}") from None
            raise DcopsError(f"simulator control API: HTTP {exc.code}: {message}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise UnreachableError(f"simulator control API at {self.base} does not answer: {exc}") from None

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._call("POST", path, body)
