"""Answer files checked with the installers' own rules: the only importer of pykickstart (the
parser Anaconda uses) and of jsonschema (for the autoinstall schema). Used three times: on the
templates at ``baseline validate``, on each rendered file before its media is built, and by the
simulator's installer on what it found on the media.
"""

from __future__ import annotations

import ipaddress
import json
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

KINDS = ("kickstart", "autoinstall")
# What a kickstart is checked against: the RHEL 9 grammar of the baselines dcops ships.
KICKSTART_VERSION = "RHEL9"
_URL = re.compile(r"https?://[^\s'\"<>]+")
_CACERT = re.compile(r"--cacert[= ]+['\"]?([^\s'\"]+)")
# ``echo 'BASE64' | base64 -d > PATH``: how a kickstart script writes the media CA (one line).
_ECHO_B64 = re.compile(r"echo\s+'([A-Za-z0-9+/=]*)'\s*\|\s*base64\s+-d\s*>\s*(\S+)")
# curl told not to verify the server: refused, an answer file must carry the CA instead.
_INSECURE = re.compile(r"\bcurl\b[^|;&\n]*\s(-k|--insecure|-[a-zA-Z]*k[a-zA-Z]*)(?=\s|$)")
_NO_K = ("curl -k/--insecure turns certificate verification off: render the media CA with ${media_ca_b64} "
         "and call curl ${curl_ca} instead")


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based; 0 when the parser names none
    message: str

    def describe(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Facts:
    """What an installer would take from an answer file."""

    kind: str
    problems: tuple[Problem, ...] = ()
    hostname: str | None = None
    addresses: tuple[str, ...] = ()  # "ip/prefix" of each static address
    vlans: tuple[int, ...] = ()
    disks: tuple[str, ...] = ()  # how the install disk is named (by-id paths, serial matches)
    users: tuple[str, ...] = ()
    ssh_keys: tuple[str, ...] = ()
    done_urls: tuple[str, ...] = ()  # called when the install succeeded
    error_urls: tuple[str, ...] = ()  # called when it failed (%onerror, error-commands)
    poweroff: bool = False
    # The CA files the answer writes (path, PEM) and the one its curl calls trust (``--cacert``):
    # how the installer verifies an HTTPS media server signed by a private CA.
    ca_files: tuple[tuple[str, str], ...] = ()
    cacert: str | None = None

    def trusted_ca(self) -> str | None:
        """The PEM the completion calls verify against; None: curl's default (public CAs only).
        Raises ValueError as curl does (exit 77) when ``--cacert`` names a file never written."""
        if self.cacert is None:
            return None
        pem = dict(self.ca_files).get(self.cacert)
        if not pem or "BEGIN CERTIFICATE" not in pem:
            raise ValueError(f"curl: (77) error setting certificate file: {self.cacert}")
        return pem

    def distrust(self, ca_pem: str | None) -> str | None:
        """Why the completion calls would not verify a media server whose certificate ``ca_pem``
        signed (None: they would; no ``ca_pem``: a public CA, curl's default trust)."""
        try:
            trusted = self.trusted_ca()
        except ValueError as exc:
            return str(exc)
        if ca_pem and trusted != ca_pem:
            return ("its curl does not trust the media CA (write ${media_ca_b64} to a file and call curl "
                    "${curl_ca}, as the shipped templates do)")
        return None

    @property
    def valid(self) -> bool:
        return not self.problems

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "valid": self.valid, "errors": [p.describe() for p in self.problems],
                "hostname": self.hostname, "addresses": list(self.addresses), "vlans": list(self.vlans),
                "disks": list(self.disks), "users": list(self.users), "ssh_keys": len(self.ssh_keys),
                "poweroff": self.poweroff, "cacert": self.cacert}


def check(kind: str, text: str) -> Facts:
    if kind == "kickstart":
        return check_kickstart(text)
    if kind == "autoinstall":
        return check_autoinstall(text)
    return Facts(kind, (Problem(0, f"unknown answer-file kind {kind!r} (known: {', '.join(KINDS)})"),))


# ------------------------------------------------------------------------------------ kickstart

def check_kickstart(text: str) -> Facts:
    """Parse with pykickstart's RHEL 9 handler, as ``ksvalidator -v RHEL9`` does; includes are
    not followed (an answer file dcops renders has none, and validation must not fetch)."""
    from pykickstart.errors import KickstartError
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion

    parser = KickstartParser(makeVersion(KICKSTART_VERSION), followIncludes=False, missingIncludeIsFatal=False)
    problems: list[Problem] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parser.readKickstartFromString(text)
        except KickstartError as exc:
            problems.append(Problem(int(getattr(exc, "lineno", 0) or 0), _last_line(str(exc))))
    for w in caught:
        # Deprecated or removed commands: Anaconda of the target release refuses or ignores them.
        if "deprecat" in str(w.message).lower() or "removed" in str(w.message).lower():
            problems.append(Problem(_warning_line(str(w.message)), _last_line(str(w.message))))
    if problems:
        return Facts("kickstart", tuple(problems))
    h = parser.handler
    addresses, vlans, hostname = [], [], None
    for nd in h.network.network:
        if nd.ip:
            try:
                ip = ipaddress.ip_address(nd.ip)
                prefix = ipaddress.ip_network(f"0.0.0.0/{nd.netmask}").prefixlen if nd.netmask else ip.max_prefixlen
            except ValueError as exc:
                problems.append(Problem(nd.lineno, f"network: {exc}"))
                continue
            addresses.append(f"{ip}/{prefix}")
        if getattr(nd, "vlanid", None):
            vlans.append(int(nd.vlanid))
        hostname = hostname or nd.hostname or None
    if problems:
        return Facts("kickstart", tuple(problems))
    disks = list(h.ignoredisk.onlyuse or []) + [d for d in (h.clearpart.drives or []) if d not in
                                                 (h.ignoredisk.onlyuse or [])]
    from pykickstart.constants import KS_SCRIPT_ONERROR, KS_SCRIPT_POST, KS_SCRIPT_TRACEBACK, KS_SHUTDOWN

    done, failed = [], []
    ca_files: list[tuple[str, str]] = []
    cacerts: list[str] = []
    for script in h.scripts:
        for n, line in enumerate(script.script.splitlines()):
            if _INSECURE.search(line):
                problems.append(Problem(script.lineno + n + 1 if script.lineno else 0, _NO_K))
        ca_files.extend((path, _b64(data)) for data, path in _ECHO_B64.findall(script.script))
        cacerts.extend(_CACERT.findall(script.script))
        urls = _URL.findall(script.script)
        if script.type in (KS_SCRIPT_ONERROR, KS_SCRIPT_TRACEBACK):
            failed.extend(urls)
        elif script.type == KS_SCRIPT_POST:
            done.extend(urls)
    if problems:
        return Facts("kickstart", tuple(problems))
    return Facts("kickstart", (), hostname, tuple(addresses), tuple(vlans), tuple(disks),
                 tuple(u.name for u in h.user.userList), tuple(k.key for k in h.sshkey.sshUserList),
                 tuple(done), tuple(failed), h.reboot.action == KS_SHUTDOWN, tuple(ca_files),
                 cacerts[0] if cacerts else None)


def _b64(data: str) -> str:
    import base64
    import binascii

    try:
        return base64.b64decode(data, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def _last_line(message: str) -> str:
    lines = [x.strip() for x in message.strip().splitlines() if x.strip()]
    return lines[-1] if lines else message


def _warning_line(message: str) -> int:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 0


# ------------------------------------------------------------------------------------ autoinstall

@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads((Path(__file__).with_name("autoinstall.schema.json")).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def check_autoinstall(text: str) -> Facts:
    """A cloud-config ``user-data`` with an ``autoinstall`` section (or a bare autoinstall file),
    checked against the autoinstall schema."""
    import jsonschema

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return Facts("autoinstall", (Problem(mark.line + 1 if mark else 0, str(getattr(exc, "problem", exc))),))
    path: list[Any] = []
    top = data if isinstance(data, dict) else {}
    if isinstance(data, dict) and "autoinstall" in data:
        data, path = data["autoinstall"], ["autoinstall"]
    elif not text.lstrip().startswith("#cloud-config") and isinstance(data, dict) and "version" in data:
        pass  # an autoinstall.yaml on the install media itself
    else:
        return Facts("autoinstall", (Problem(1, "no 'autoinstall' section (a NoCloud user-data must be "
                                                "#cloud-config with autoinstall:)"),))
    if not isinstance(data, dict):
        return Facts("autoinstall", (Problem(_line_of(node, path), "'autoinstall' must be a mapping"),))
    validator = jsonschema.Draft202012Validator(_schema())
    problems = [Problem(_line_of(node, [*path, *e.absolute_path, *_unexpected(e)]), _schema_message(e))
                for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        return Facts("autoinstall", tuple(problems))
    identity = data.get("identity") or {}
    net = data.get("network") or {}
    net = net.get("network", net) if isinstance(net, dict) else {}
    addresses: list[str] = []
    vlans: list[int] = []
    for section in ("ethernets", "vlans", "bonds"):
        for dev in (net.get(section) or {}).values():
            if isinstance(dev, dict):
                addresses.extend(str(a) for a in dev.get("addresses") or [])
                if section == "vlans" and isinstance(dev.get("id"), int):
                    vlans.append(dev["id"])
    layout = (data.get("storage") or {}).get("layout") or {}
    match = layout.get("match") or {}
    disks = [str(v) for k, v in match.items() if k in ("serial", "path", "id_path", "devpath")]
    ssh = data.get("ssh") or {}
    users = [identity["username"]] if identity.get("username") else []
    for user in ((data.get("user-data") or {}).get("users") or []):
        if isinstance(user, dict) and user.get("name"):
            users.append(str(user["name"]))
    keys = list(ssh.get("authorized-keys") or [])
    commands = [(section, i, _command_text(c)) for section in ("late-commands", "early-commands", "error-commands")
                for i, c in enumerate(data.get(section) or [])]
    insecure = [Problem(_line_of(node, [*path, section, i]), _NO_K) for section, i, c in commands if _INSECURE.search(c)]
    if insecure:
        return Facts("autoinstall", tuple(insecure))
    done = [u for section, _, c in commands if section == "late-commands" for u in _URL.findall(c)]
    failed = [u for section, _, c in commands if section == "error-commands" for u in _URL.findall(c)]
    cacerts = [p for _, _, c in commands for p in _CACERT.findall(c)]
    return Facts("autoinstall", (), identity.get("hostname"), tuple(addresses), tuple(vlans), tuple(disks),
                 tuple(users), tuple(keys), tuple(done), tuple(failed), data.get("shutdown") == "poweroff",
                 _written_files(top.get("write_files")), cacerts[0] if cacerts else None)


def _written_files(entries: Any) -> tuple[tuple[str, str], ...]:
    """cloud-init ``write_files`` (top level of the NoCloud user-data: applied in the installer's
    own environment before subiquity runs): (path, text) of each entry."""
    files = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("path"):
            content = str(entry.get("content") or "")
            if str(entry.get("encoding") or "").lower() in ("b64", "base64"):
                content = _b64(content)
            files.append((str(entry["path"]), content))
    return tuple(files)


def _unexpected(error: Any) -> list[str]:
    """For an unknown key, the key itself (its line is the one to fix)."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    known = set((error.schema or {}).get("properties") or {})
    extra = sorted(k for k in error.instance if k not in known)
    return extra[:1]


def _command_text(command: Any) -> str:
    return " ".join(map(str, command)) if isinstance(command, list) else str(command)


def _schema_message(error: Any) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def _line_of(node: Any, path: list[Any]) -> int:
    """The 1-based line of ``path`` in a composed YAML tree (the deepest node that exists)."""
    line = (node.start_mark.line + 1) if node is not None else 0
    for key in path:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if found is None:
                return line
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line
