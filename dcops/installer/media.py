"""Answer media as ISO 9660 images: the only importer of pycdlib.

Anaconda (RHEL family) reads ``ks.cfg`` from the root of any volume labelled ``OEMDRV`` without a
kernel argument; cloud-init's NoCloud datasource (Ubuntu autoinstall) reads ``user-data``,
``meta-data`` and ``network-config`` from a volume labelled ``CIDATA``. An ISO 9660 image with
Rock Ridge and Joliet names serves both, whether the BMC presents it as a CD or as a USB stick
(the kernel finds the iso9660 filesystem by its signature, not by the device type).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

from dcops.errors import InvalidInputError

OEMDRV = "OEMDRV"
CIDATA = "CIDATA"
_MAX_FILES = 64
_MAX_IMAGE = 64 * 1024 * 1024  # an answer volume is kilobytes; refuse to parse anything huge


@dataclass(frozen=True)
class Volume:
    """What an installer sees on one image: its label and its root files (name -> bytes)."""

    label: str
    files: Mapping[str, bytes]


def _iso_name(name: str, index: int) -> str:
    """An ISO 9660 level-3 name for ``name`` (the Rock Ridge and Joliet names keep the real one)."""
    base = "".join(c if c.isalnum() else "_" for c in name.upper())[:24] or f"FILE{index}"
    return f"/{base};1"


def build_image(label: str, files: Mapping[str, bytes]) -> bytes:
    """An ISO 9660 image labelled ``label`` holding ``files`` at its root."""
    import pycdlib

    if not files or len(files) > _MAX_FILES:
        raise InvalidInputError(f"an answer volume holds 1..{_MAX_FILES} files, not {len(files)}")
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=label)
    seen: set[str] = set()
    for index, (name, data) in enumerate(sorted(files.items())):
        if "/" in name or not name:
            raise InvalidInputError(f"answer volume file {name!r}: only root files are supported")
        iso_name = _iso_name(name, index)
        if iso_name in seen:
            iso_name = f"/F{index};1"
        seen.add(iso_name)
        iso.add_fp(io.BytesIO(data), len(data), iso_name, rr_name=name, joliet_path=f"/{name}")
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def read_image(data: bytes) -> Volume:
    """The label and root files of an ISO 9660 image (what blkid and the installer would see).
    Raises InvalidInputError when ``data`` is not one."""
    import pycdlib
    from pycdlib.pycdlibexception import PyCdlibException

    if len(data) > _MAX_IMAGE:
        raise InvalidInputError(f"image of {len(data)} bytes is too large for an answer volume")
    iso = pycdlib.PyCdlib()
    try:
        iso.open_fp(io.BytesIO(data))
    except (PyCdlibException, ValueError, OSError) as exc:
        raise InvalidInputError(f"not an ISO 9660 image: {exc}") from exc
    try:
        label = iso.pvd.volume_identifier.decode("ascii", "replace").strip()
        rock = iso.has_rock_ridge()
        files: dict[str, bytes] = {}
        kwargs = {"rr_path": "/"} if rock else {"iso_path": "/"}
        for child in iso.list_children(**kwargs):
            if not child.is_file():
                continue
            path = iso.full_path_from_dirrecord(child, rockridge=rock)
            name = path.rsplit("/", 1)[-1]
            if not rock:
                name = name.split(";", 1)[0].lower()
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, **({"rr_path": path} if rock else {"iso_path": path}))
            files[name] = out.getvalue()
            if len(files) >= _MAX_FILES:
                break
        return Volume(label, files)
    except PyCdlibException as exc:
        raise InvalidInputError(f"unreadable ISO 9660 image: {exc}") from exc
    finally:
        iso.close()
