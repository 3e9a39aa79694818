"""Rendering an answer-file template for one host (pure: text in, text out).

Templates use ``${name}`` placeholders (``$$`` is a literal ``$``). The values keep a rendered
file line for line with its template, so a parser's line number points into the template too.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass

from dcops.errors import InvalidInputError

FIELDS = frozenset({
    "host", "hostname", "ip", "prefix", "netmask", "gateway", "dns", "dns_list", "vlan", "ks_vlan", "interface",
    "netplan", "os_disk", "os_disk_id", "os_disk_size_bytes", "profile", "serial", "deploy_user", "ssh_key",
    "done_url", "media_ca_b64", "curl_ca",
})
# Where an answer file writes the media server's CA (PEM) for ``curl --cacert``: the installers'
# curl/wget trust only the distribution's public CAs, so an HTTPS media server signed by a private
# CA fails verification (curl: (60)) unless the answer carries the CA. Never ``-k``.
CA_PATH = "/tmp/dcops-media-ca.pem"


@dataclass(frozen=True)
class Disk:
    """The install disk as the OS will name it: a ``/dev/disk/by-id`` path from the volume's
    durable name (Redfish ``Volume.Identifiers``), and the name itself."""

    by_id: str
    durable_name: str
    size_bytes: int | None = None


def disk_from_identifier(fmt: str | None, name: str, size_bytes: int | None = None) -> Disk:
    """``/dev/disk/by-id`` name udev gives a volume with this Redfish durable name, and the name
    as udev spells it (lower-case hex: Redfish services report NAA names in upper case, udev's
    ``ID_SERIAL``/``ID_WWN`` are lower case, and curtin's serial match is case-sensitive).

    NAA (SAS/SATA RAID volumes: LSI/Broadcom PERC, HPE SmartArray, Microchip): ``wwn-0x<naa>``.
    EUI-64 / NGUID (NVMe namespaces): ``nvme-eui.<hex>``. Others have no by-id form."""
    kind = (fmt or "").upper()
    clean = name.strip().lower().removeprefix("0x").replace(":", "").replace("-", "")
    if kind == "NAA" and clean and all(c in "0123456789abcdef" for c in clean):
        return Disk(f"/dev/disk/by-id/wwn-0x{clean}", clean, size_bytes)
    if kind in ("EUI", "NGUID") and clean:
        return Disk(f"/dev/disk/by-id/nvme-eui.{clean}", clean, size_bytes)
    raise InvalidInputError(f"durable name {name!r} ({fmt or 'no format'}) has no /dev/disk/by-id form "
                            "dcops knows (NAA, EUI, NGUID)")


@dataclass(frozen=True)
class AnswerNetwork:
    hostname: str
    ip: str
    prefix: int
    gateway: str | None
    dns: tuple[str, ...]
    vlan: int | None
    interface: str


def values(host: str, net: AnswerNetwork, disk: Disk, *, profile: str, serial: str | None, deploy_user: str,
           ssh_key: str, done_url: str, media_ca: str | None = None) -> dict[str, str]:
    """``media_ca``: the PEM of the CA that signed an HTTPS media server's certificate (None: plain
    HTTP, or a certificate a public CA signed). Rendered as one base64 line (``media_ca_b64``) so
    the answer stays line for line with its template, and ``curl_ca`` = ``--cacert PATH``."""
    netmask = str(ipaddress.ip_network(f"{net.ip}/{net.prefix}", strict=False).netmask)
    device = f"{net.interface}.{net.vlan}" if net.vlan else net.interface
    address = {"addresses": [f"{net.ip}/{net.prefix}"],
               **({"routes": [{"to": "default", "via": net.gateway}]} if net.gateway else {}),
               **({"nameservers": {"addresses": list(net.dns)}} if net.dns else {})}
    netplan: dict[str, object] = {"version": 2}
    if net.vlan:
        netplan["ethernets"] = {net.interface: {"dhcp4": False}}
        netplan["vlans"] = {device: {"id": net.vlan, "link": net.interface, **address}}
    else:
        netplan["ethernets"] = {net.interface: {"dhcp4": False, **address}}
    for name, value in (("ssh_key", ssh_key), ("deploy_user", deploy_user), ("done_url", done_url)):
        if "\n" in value or "\r" in value:
            raise InvalidInputError(f"{host}: {name} must be one line")
    return {"host": host, "hostname": net.hostname, "ip": net.ip, "prefix": str(net.prefix), "netmask": netmask,
            "gateway": net.gateway or "", "dns": ",".join(net.dns), "dns_list": ", ".join(net.dns),
            "vlan": str(net.vlan or ""), "ks_vlan": f"--vlanid={net.vlan}" if net.vlan else "",
            "interface": net.interface, "netplan": json.dumps(netplan, separators=(", ", ": ")),
            "os_disk": disk.by_id, "os_disk_id": disk.durable_name,
            "os_disk_size_bytes": str(disk.size_bytes or ""), "profile": profile, "serial": serial or "",
            "deploy_user": deploy_user, "ssh_key": ssh_key, "done_url": done_url,
            "media_ca_b64": base64.b64encode(media_ca.encode()).decode() if media_ca else "",
            "curl_ca": f"--cacert {CA_PATH}" if media_ca else ""}


def render(template: str, vals: Mapping[str, str]) -> str:
    try:
        return string.Template(template).substitute(vals)
    except KeyError as exc:
        raise InvalidInputError(f"answer template: unknown placeholder ${{{exc.args[0]}}}") from exc
    except ValueError as exc:
        raise InvalidInputError(f"answer template: {exc}") from exc


# Values that look like a real host's, for checking a template at ``baseline validate``.
SAMPLE = values("example-host", AnswerNetwork("example-host.example.net", "192.0.2.10", 24, "192.0.2.1",
                                              ("192.0.2.53",), None, "ens1f0"),
                Disk("/dev/disk/by-id/wwn-0x600062b2218e23802fdc23942a65f7aa", "600062b2218e23802fdc23942a65f7aa",
                     479559942144),
                profile="example", serial="EXAMPLE01", deploy_user="dcops",
                ssh_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForValidationOnly0000000000000 dcops",
                done_url="http://192.0.2.1:8470/done/EXAMPLETOKEN")
