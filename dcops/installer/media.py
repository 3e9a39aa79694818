"""Answer media as ISO 9660 images: the only importer of pycdlib.

Anaconda (RHEL family) reads ``ks.cfg`` from the root of any volume labelled ``OEMDRV`` without a
kernel argument; cloud-init's NoCloud datasource (Ubuntu autoinstall) reads ``user-data``,
``meta-data`` and ``network-config`` from a volume labelled ``CIDATA``. An ISO 9660 image with
Rock Ridge and Joliet names serves both, whether the BMC presents it as a CD or as a USB stick
(the kernel finds the iso9660 filesystem by its signature, not by the device type).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    stem, dot, ext = name.upper().rpartition(".")
    if not (dot and stem and ext):
        stem, ext = name.upper(), ""
    base = "".join(c if c.isalnum() else "_" for c in stem)[:24] or f"FILE{index}"
    ext = "".join(c if c.isalnum() else "_" for c in ext)[:6]
    return f"/{base}.{ext};1" if ext else f"/{base};1"


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


def _open_image(data: bytes, purpose: str) -> Any:
    """A pycdlib handle on the ISO 9660 image ``data`` (the caller closes it); InvalidInputError
    when it is too large ``purpose`` or not an image."""
    import pycdlib
    from pycdlib.pycdlibexception import PyCdlibException

    if len(data) > _MAX_IMAGE:
        raise InvalidInputError(f"image of {len(data)} bytes is too large {purpose}")
    iso = pycdlib.PyCdlib()
    try:
        iso.open_fp(io.BytesIO(data))
    except (PyCdlibException, ValueError, OSError) as exc:
        raise InvalidInputError(f"not an ISO 9660 image: {exc}") from exc
    return iso


def read_image(data: bytes) -> Volume:
    """The label and root files of an ISO 9660 image (what blkid and the installer would see).
    Raises InvalidInputError when ``data`` is not one."""
    from pycdlib.pycdlibexception import PyCdlibException

    iso = _open_image(data, "for an answer volume")
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


# ------------------------------------------------------------------------------ installer ISOs
# A per-host installer ISO: the stock ISO with the answer file added and the boot configuration's
# kernel lines extended, for installers that need an argument (subiquity asks "Continue with
# autoinstall?" unless ``autoinstall`` is on the kernel command line) and for BMCs with a single
# virtual-media slot (Gigabyte/AMI MegaRAC lists one CD1), where no second volume can carry the
# answer. Ironic's virtual-media deploy builds a per-node ISO in the same way.

# FAT boot images inside the file tree and the boot configuration in them (RHEL 8/9, Lorax).
EFI_IMAGES: tuple[tuple[str, str], ...] = (("images/efiboot.img", "EFI/BOOT/grub.cfg"),)


@dataclass(frozen=True)
class Remastered:
    configs: tuple[str, ...]  # boot configurations changed (bootcfg.CONFIGS paths; "image:path" inside a FAT image)
    added: tuple[str, ...]  # files added


@dataclass(frozen=True)
class _Where:
    iso: str  # ISO 9660 path (always present)
    rr: str | None  # Rock Ridge path, when the image has Rock Ridge
    joliet: str | None
    udf: str | None


def _child_name(child: object, rock: bool) -> tuple[str, str | None]:
    ident = child.file_identifier().decode("ascii", "replace")  # type: ignore[attr-defined]
    rr = child.rock_ridge.name().decode("utf-8", "replace") if rock and child.rock_ridge else None  # type: ignore[attr-defined]
    return ident.split(";", 1)[0], rr


def _find(iso: object, path: str, *, directory: bool = False) -> _Where | None:
    """A file by its path compared case-insensitively (``boot/grub/grub.cfg``, ``EFI/BOOT/grub.cfg``)."""
    rock = bool(iso.has_rock_ridge())  # type: ignore[attr-defined]
    iso_cur, rr_cur = "/", "/"
    parts = path.strip("/").split("/")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        match = None
        for child in iso.list_children(iso_path=iso_cur):  # type: ignore[attr-defined]
            if child is None or child.is_dot() or child.is_dotdot():
                continue
            if child.is_file() != (last and not directory):
                continue
            ident, rr = _child_name(child, rock)
            if (rr or ident).lower() == part.lower() or ident.lower() == part.lower().replace("-", "_"):
                match = (ident + (";1" if child.is_file() else ""), rr or ident)
                break
        if match is None:
            return None
        iso_cur = iso_cur.rstrip("/") + "/" + match[0]
        rr_cur = rr_cur.rstrip("/") + "/" + match[1]
    joliet = udf = None
    for attr, key in (("has_joliet", "joliet_path"), ("has_udf", "udf_path")):
        if getattr(iso, attr)():
            try:
                iso.get_record(**{key: rr_cur})  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - pycdlib raises its own exception for a missing path
                continue
            if key == "joliet_path":
                joliet = rr_cur
            else:
                udf = rr_cur
    return _Where(iso_cur, rr_cur if rock else None, joliet, udf)


def _read(iso: object, where: _Where) -> bytes:
    out = io.BytesIO()
    iso.get_file_from_iso_fp(out, iso_path=where.iso)  # type: ignore[attr-defined]
    return out.getvalue()


def _replace(iso: object, where: _Where, data: bytes) -> None:
    """Replace a file's data, under each of its names (ISO 9660, Rock Ridge, Joliet, UDF)."""
    from pycdlib.pycdlibexception import PyCdlibException

    rr_name = where.rr.rsplit("/", 1)[-1] if where.rr else None
    for key, value in (("joliet_path", where.joliet), ("udf_path", where.udf)):
        if value:
            with contextlib.suppress(PyCdlibException):
                iso.rm_hard_link(**{key: value})  # type: ignore[attr-defined]
    iso.rm_file(iso_path=where.iso, rr_name=rr_name)  # type: ignore[attr-defined]
    iso.add_fp(io.BytesIO(data), len(data), iso_path=where.iso, rr_name=rr_name,  # type: ignore[attr-defined]
               joliet_path=where.joliet, udf_path=where.udf)


def _add_new(iso: object, path: str, data: bytes) -> None:
    """Add ``path`` (directories made as needed; ISO names upper-cased, real names in Rock Ridge,
    Joliet and UDF when the image has them)."""
    rock, joliet, udf = iso.has_rock_ridge(), iso.has_joliet(), iso.has_udf()  # type: ignore[attr-defined]
    parts = path.strip("/").split("/")
    cur = ""
    for index, part in enumerate(parts):
        cur = f"{cur}/{part}"
        names = cur.strip("/").split("/")
        dirs = ["".join(c if c.isalnum() else "_" for c in d.upper())[:31] for d in names[:-1]]
        last = (_iso_name(part, index).strip("/").split(";")[0] if index == len(parts) - 1
                else "".join(c if c.isalnum() else "_" for c in part.upper())[:31])
        iso_path = "/" + "/".join([*dirs, last])
        kwargs = {"rr_name": part} if rock else {}
        if joliet:
            kwargs["joliet_path"] = cur
        if udf:
            kwargs["udf_path"] = cur
        if index < len(parts) - 1:
            if _find(iso, cur.strip("/"), directory=True) is None:
                iso.add_directory(iso_path=iso_path, **kwargs)  # type: ignore[attr-defined]
        else:
            iso.add_fp(io.BytesIO(data), len(data), iso_path=iso_path + ";1", **kwargs)  # type: ignore[attr-defined]


def remaster(source: str, dest: str, kernel_args: list[str], files: Mapping[str, bytes]) -> Remastered:
    """Write ``dest``: the ISO at ``source`` with ``files`` added (replaced when present) and
    ``kernel_args`` on every kernel line of its boot configurations. An image whose boot paths
    all live in its file tree (plain El Torito) is rewritten by pycdlib, file data copied from
    ``source`` as it is written; one with a hybrid MBR/GPT or an appended EFI partition (the real
    Ubuntu and RHEL ISOs, installer/layout.py) is written by xorriso replaying its boot layout,
    because pycdlib would drop them. Raises InvalidInputError when the ISO has no boot
    configuration dcops knows (it could not make the installer read the answer), or needs
    xorriso and it is missing."""
    import pycdlib
    from pycdlib.pycdlibexception import PyCdlibException

    from dcops.installer import bootcfg, fatimage, layout, xorriso

    try:
        with open(source, "rb") as fh:
            outside = layout.outside_the_tree(fh.read(layout.HEAD), os.fstat(fh.fileno()).st_size)
    except OSError as exc:
        raise InvalidInputError(f"installer ISO {source}: cannot read it: {exc}") from exc
    iso = pycdlib.PyCdlib()
    try:
        iso.open(source)
    except (PyCdlibException, ValueError, OSError) as exc:
        raise InvalidInputError(f"installer ISO {source}: not an ISO 9660 image pycdlib can open: {exc}") from exc
    closed = False
    try:
        changed: list[str] = []
        edits: dict[str, tuple[_Where, bytes]] = {}
        for path, syntax in bootcfg.CONFIGS.items():
            where = _find(iso, path)
            if where is None:
                continue
            text = _read(iso, where).decode("utf-8", "surrogateescape")
            edited = bootcfg.add_kernel_args(text, syntax, kernel_args)
            if edited.text != text:
                edits[path] = (where, edited.text.encode("utf-8", "surrogateescape"))
            if edited.lines or bootcfg.first_cmdline(text, syntax) is not None:
                changed.append(path)
        for image_path, inner in EFI_IMAGES:
            # The grub.cfg inside RHEL's EFI boot image gets the arguments too, as Lorax's
            # mkksiso does (it rebuilds efiboot.img from the edited EFI/BOOT folder).
            where = _find(iso, image_path)
            if where is None:
                continue
            what = f"installer ISO {source}: {image_path}"
            image = _read(iso, where)
            found = fatimage.read_file(image, inner, what=what)
            if found is None:
                continue
            text = found.decode("utf-8", "surrogateescape")
            edited = bootcfg.add_kernel_args(text, "grub", kernel_args)
            if edited.text != text:
                new_image = fatimage.replace_file(image, inner, edited.text.encode("utf-8", "surrogateescape"),
                                                  what=what)
                edits[image_path] = (where, new_image)
            if edited.lines or bootcfg.first_cmdline(text, "grub") is not None:
                changed.append(f"{image_path}:{inner}")
        if not changed:
            raise InvalidInputError(f"installer ISO {source}: no boot configuration with a kernel line (looked for "
                                    f"{', '.join(bootcfg.CONFIGS)}): dcops cannot add {' '.join(kernel_args)}")
        if outside:
            # The boot layout lives partly outside the file tree: xorriso replays it. Paths as the
            # installer sees them (Rock Ridge, which every stock installer ISO has).
            mapped = {(w.rr or w.iso.split(";", 1)[0]): data for w, data in edits.values()}
            mapped.update({"/" + p.strip("/"): data for p, data in files.items()})
            joliet = bool(iso.has_joliet())
            iso.close()
            closed = True  # the stock image is read by xorriso now, not held open twice
            xorriso.remaster(source, dest, mapped, why=" and ".join(outside), joliet=joliet)
            return Remastered(tuple(changed), tuple(sorted(files)))
        for where, data in edits.values():
            _replace(iso, where, data)
        for path, data in sorted(files.items()):
            where = _find(iso, path)
            if where is not None:
                _replace(iso, where, data)
            else:
                _add_new(iso, path, data)
        iso.write(dest)
        return Remastered(tuple(changed), tuple(sorted(files)))
    except PyCdlibException as exc:
        raise InvalidInputError(f"installer ISO {source}: cannot remaster it: {exc}") from exc
    finally:
        if not closed:
            iso.close()


def read_paths(data: bytes, paths: list[str]) -> dict[str, bytes]:
    """The files at ``paths`` (compared case-insensitively) of an ISO 9660 image that are there:
    what an installer's boot loader and kernel read from the CD (boot configuration, seed)."""
    from pycdlib.pycdlibexception import PyCdlibException

    iso = _open_image(data, "to read here")
    try:
        found = {}
        for path in paths:
            try:
                where = _find(iso, path)
            except PyCdlibException:
                where = None
            if where is not None:
                found[path] = _read(iso, where)
        return found
    finally:
        iso.close()
