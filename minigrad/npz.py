"""A bounded reader for the ``.npz`` archives that :func:`minigrad.save` writes, for files nobody vouches for.

``numpy.load`` trusts an archive's own account of itself: a member whose
``.npy`` header declares a shape of 10^10 float64 elements is allocated
(80 GB) before a single data byte is read, and a header may be gigabytes
long. A checkpoint is often a file from the internet, so this reader checks
every claim against the bytes that are really there *before* it allocates:

- the archive is a zip file whose members are the ones minigrad writes
  (``__minigrad__.npy`` and ``a0.npy``, ``a1.npy``, ...), each named once and
  stored uncompressed (``np.savez`` does not compress); a compressed member
  could inflate far past the file's size, so it is refused unread;
- each member's stored extent lies inside the file, and its declared size
  equals its stored size;
- each ``.npy`` header is at most :data:`MAX_NPY_HEADER` bytes, read through a
  length check before the header itself;
- each array's dtype is bool, integer or float (nothing that needs pickle),
  and header + ``prod(shape) * itemsize`` equals the member's size exactly.

Only then is the array allocated (so never more than the file's size in
total) and filled by reading, with the zip's CRC checked at the end. Every
failure is a :class:`CheckpointError` whose message names the file, the
member and what was wrong.
"""

from __future__ import annotations

import ast
import math
import os
import re
import struct
import zipfile

import numpy as np

from .errors import MinigradError

STRUCTURE_MEMBER = "__minigrad__.npy"
MAX_NPY_HEADER = 10_000  # bytes, as numpy.load's own default max_header_size
_ARRAY_MEMBER = re.compile(r"a(0|[1-9][0-9]*)\.npy")
_NPY_MAGIC = b"\x93NUMPY"
_LENGTH_FORMATS = {1: "<H", 2: "<I", 3: "<I"}  # .npy major version -> header-length field
_CHUNK = 2**16  # bytes read at a time: zipfile keeps about three chunks in flight
DTYPE_KINDS = "biuf"  # bool, signed and unsigned integers, floats: nothing that needs pickle


class CheckpointError(MinigradError, ValueError):
    """A file that is not a valid minigrad checkpoint: truncated, foreign, or holding unsafe data."""


def read_members(path: str, max_bytes: dict[str, int] | None = None) -> dict[str, np.ndarray]:
    """Every member of the archive at ``path`` as ``{key: array}`` (``"__minigrad__"``, ``"a0"``, ...).

    ``max_bytes`` caps the data of the members it names (``{"__minigrad__.npy": n}``),
    checked before they are read. Raises CheckpointError (see the module docstring for what is checked) and
    FileNotFoundError for a missing file.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if f.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            raise CheckpointError(f"load: {path} is a bare .npy array, not a minigrad checkpoint")
        f.seek(0)
        try:
            archive = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise _unreadable(path, f"not a zip archive: {exc}") from exc
        with archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if STRUCTURE_MEMBER not in names:
                raise CheckpointError(f"load: {path} is an .npz file but not a minigrad checkpoint (no __minigrad__)")
            if len(set(names)) != len(names):
                raise _unreadable(path, "a member name appears twice")
            limits = max_bytes or {}
            return {
                info.filename[: -len(".npy")]: _read_member(archive, info, size, path, limits.get(info.filename))
                for info in infos
            }


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int, path: str, limit) -> np.ndarray:
    name = info.filename
    if name != STRUCTURE_MEMBER and not _ARRAY_MEMBER.fullmatch(name):
        raise _unreadable(path, f"member {name!r} is not one that minigrad writes")
    if info.compress_type != zipfile.ZIP_STORED:
        raise _unreadable(path, f"member {name!r} is compressed; minigrad writes its arrays uncompressed")
    if info.file_size != info.compress_size or info.header_offset + info.compress_size > file_size:
        raise _unreadable(
            path,
            f"member {name!r} declares {info.file_size} bytes but {info.compress_size} are stored "
            f"at offset {info.header_offset} of a {file_size}-byte file",
        )
    try:
        with archive.open(info) as member:
            dtype, shape, fortran_order, header_size = _read_npy_header(member, name, path)
            expected = header_size + math.prod(shape) * dtype.itemsize
            if expected != info.file_size:
                raise _unreadable(
                    path,
                    f"member {name!r} declares shape {shape} of {dtype} ({expected - header_size} bytes) "
                    f"but holds {info.file_size - header_size} bytes of data",
                )
            if limit is not None and expected - header_size > limit:
                raise _unreadable(
                    path, f"member {name!r} holds {expected - header_size} bytes (at most {limit} are read)"
                )
            array = np.empty(shape, dtype=dtype, order="F" if fortran_order else "C")
            view = memoryview(array.reshape(-1, order="A").view(np.uint8)) if array.size else memoryview(b"")
            _read_exactly(member, view, name, path)
            if member.read(1):  # also makes zipfile check the member's CRC
                raise _unreadable(path, f"member {name!r} holds more bytes than it declares")
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
        raise _unreadable(path, f"member {name!r}: {type(exc).__name__}: {exc}") from exc
    return array


def _read_npy_header(member, name: str, path: str):
    """(dtype, shape, fortran_order, header size in bytes) of the ``.npy`` stream ``member``, bounded."""
    magic = member.read(len(_NPY_MAGIC) + 2)
    if len(magic) < len(_NPY_MAGIC) + 2 or not magic.startswith(_NPY_MAGIC):
        raise _unreadable(path, f"member {name!r} is not an .npy array")
    major = magic[-2]
    if major not in _LENGTH_FORMATS:
        raise _unreadable(path, f"member {name!r} has unknown .npy version {major}.{magic[-1]}")
    length_format = _LENGTH_FORMATS[major]
    (length,) = struct.unpack(length_format, member.read(struct.calcsize(length_format)))
    if length > MAX_NPY_HEADER:
        raise _unreadable(path, f"member {name!r} has a {length}-byte .npy header (at most {MAX_NPY_HEADER} are read)")
    text = member.read(length)
    if len(text) != length:
        raise _unreadable(path, f"member {name!r} ends inside its .npy header")
    header = ast.literal_eval(text.decode("utf-8" if major == 3 else "latin1"))
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise _unreadable(path, f"member {name!r} has a malformed .npy header")
    shape, fortran_order = header["shape"], header["fortran_order"]
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        raise _unreadable(path, f"member {name!r} declares an invalid shape {shape!r}")
    if not isinstance(fortran_order, bool):
        raise _unreadable(path, f"member {name!r} has a malformed .npy header")
    dtype = np.lib.format.descr_to_dtype(header["descr"])
    if dtype.kind not in DTYPE_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise _unreadable(path, f"array {name[: -len('.npy')]!r} has unsupported dtype {dtype}")
    return dtype, shape, fortran_order, len(magic) + struct.calcsize(length_format) + length


def _read_exactly(member, view: memoryview, name: str, path: str) -> None:
    """Fill ``view`` from ``member`` in chunks (zipfile's readinto reads a whole request into a temporary)."""
    done = 0
    while done < len(view):
        n = member.readinto(view[done : done + _CHUNK])
        if not n:
            raise _unreadable(path, f"member {name!r} ends after {done} of its {len(view)} data bytes")
        done += n


def _unreadable(path: str, why: str) -> CheckpointError:
    return CheckpointError(f"load: {path} is not a readable minigrad checkpoint ({why})")
