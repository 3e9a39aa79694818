"""Ad-hoc BMC targets: a BMC named on the command line instead of a host of the book, like
``ipmitool -H`` and ``redfishtool -r``. ``--bmc ADDRESS[:PORT]`` (or ``https://ADDRESS[:PORT]``),
``--user``, ``--password-ref`` (a reference, never a password: ``env:X``, ``file:PATH``,
``cmd:...``, ``prompt``), ``--protocol``, ``--insecure``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from dcops.errors import UsageError
from dcops.models import BmcEndpoint, Host, Protocol

F = TypeVar("F", bound=Callable[..., Any])


def adhoc_options(func: F) -> F:
    """Attach --bmc, --user, --password-ref, --protocol, --insecure (passed as ``adhoc``: a dict)."""
    options = [
        click.option("--bmc", "adhoc_bmc", metavar="ADDRESS[:PORT]",
                     help="A BMC not in the book (also https://ADDRESS:PORT or http://... for a lab)."),
        click.option("--user", "adhoc_user", metavar="NAME", help="With --bmc: the BMC user."),
        click.option("--password-ref", "adhoc_password_ref", metavar="REF",
                     help="With --bmc: where the password is (env:NAME, file:PATH, cmd:COMMAND, prompt). "
                          "Default: prompt."),
        click.option("--protocol", "adhoc_protocol", type=click.Choice([p.value for p in Protocol]),
                     help="With --bmc: redfish, ipmi or auto (default: redfish)."),
        click.option("--insecure", "adhoc_insecure", is_flag=True,
                     help="With --bmc: do not verify the BMC's TLS certificate (self-signed lab BMCs)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def adhoc_host(bmc: str | None, user: str | None, password_ref: str | None, protocol: str | None,
               insecure: bool) -> Host | None:
    """The Host for ``--bmc`` (named after its address), or None when ``--bmc`` was not given.

    Raises UsageError when --user/--password-ref/--protocol/--insecure come without --bmc, or
    the address is malformed.
    """
    if not bmc:
        if user or password_ref or protocol or insecure:
            raise UsageError("--user, --password-ref, --protocol and --insecure go with --bmc ADDRESS")
        return None
    scheme = "https"
    text = bmc.strip()
    if "://" in text:
        scheme, _, text = text.partition("://")
        if scheme not in ("http", "https"):
            raise UsageError(f"--bmc {bmc}: scheme must be http or https")
    text = text.rstrip("/")
    port: int | None = None
    if text.startswith("["):  # [IPv6]:port
        address, _, rest = text[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif text.count(":") == 1:
        address, _, port_text = text.partition(":")
        if not port_text.isdigit():
            raise UsageError(f"--bmc {bmc}: the port must be a number")
        port = int(port_text)
    else:
        address = text
    if not address:
        raise UsageError(f"--bmc {bmc}: no address")
    endpoint = BmcEndpoint(address=address, port=port, protocol=Protocol(protocol or "redfish"), scheme=scheme,
                           username=user or "", password_ref=password_ref or "prompt", verify_tls=not insecure)
    return Host(name=address, bmc=endpoint)
