"""save / load of tensors and nested containers of them, in ``.npz``, never pickled.

A checkpoint is an ``.npz`` archive: every array under its own key
(``a0``, ``a1``, ...) plus ``__minigrad__``, a JSON description of the
container tree (dicts with their key types, lists, tuples, numbers, strings,
None) in which each array appears as a reference. Loading reads arrays with
``allow_pickle=False``, so no file can run code, and validates the whole file
before returning anything. Saving writes to a temporary file in the same
folder and renames it into place, so a crash mid-save never leaves a
half-written checkpoint under the real name.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from . import backend
from .errors import MinigradError
from .tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
_STRUCTURE_KEY = "__minigrad__"
_DTYPE_KINDS = "biuf"  # bool, signed and unsigned integers, floats: nothing that needs pickle


class CheckpointError(MinigradError, ValueError):
    """A file that is not a valid minigrad checkpoint: truncated, foreign, or holding unsafe data."""


def save(obj, path) -> None:
    """Save a tensor, an array, or nested dicts/lists/tuples of them (and of numbers, strings, None) to ``path``.

    State dicts of modules and optimizers are such containers. The file is
    written atomically (temporary file, then rename).
    """
    arrays: dict = {}
    structure = _encode(obj, arrays)
    header = json.dumps({"format": FORMAT, "version": VERSION, "tree": structure})
    arrays[_STRUCTURE_KEY] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private (0600); give it a new file's usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process's file-creation mask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def load(path, device: str | None = None):
    """Load what :func:`save` wrote; tensors go to ``device`` (default: the CPU).

    Raises CheckpointError for a truncated, foreign or unsafe file, and
    FileNotFoundError for a missing one.
    """
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a bare .npy array is no context manager
            raise CheckpointError(f"load: {path} is a bare .npy array, not a minigrad checkpoint")
        with archive:
            if _STRUCTURE_KEY not in archive.files:
                raise CheckpointError(
                    f"load: {path} is an .npz file but not a minigrad checkpoint (no {_STRUCTURE_KEY})"
                )
            header = json.loads(bytes(archive[_STRUCTURE_KEY]).decode("utf-8"))
            if not isinstance(header, dict):
                raise CheckpointError(f"load: {path} has an unknown format header")
            if header.get("format") != FORMAT or not isinstance(header.get("version"), int):
                raise CheckpointError(f"load: {path} has an unknown format header")
            if "tree" not in header:
                raise CheckpointError(f"load: {path} has a damaged structure (its header has no tree)")
            if header["version"] > VERSION:
                raise CheckpointError(
                    f"load: {path} was written by a newer minigrad (format version {header['version']})"
                )
            arrays = {key: archive[key] for key in archive.files if key != _STRUCTURE_KEY}
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, UnicodeDecodeError, RecursionError) as exc:
        raise CheckpointError(
            f"load: {path} is not a readable minigrad checkpoint ({type(exc).__name__}: {exc})"
        ) from exc
    for key, array in arrays.items():
        if not isinstance(array, np.ndarray):  # NpzFile hands back the raw bytes of a member that is no .npy
            raise CheckpointError(f"load: {path} holds a member {key!r} that is not an .npy array")
        if array.dtype.kind not in _DTYPE_KINDS:
            raise CheckpointError(f"load: {path} holds array {key!r} of unsupported dtype {array.dtype}")
    target = backend.normalize_device(device)
    return _decode(header["tree"], arrays, target, path)


def _encode(obj, arrays: dict):
    if isinstance(obj, Tensor) or backend.is_array(obj):
        data = obj.data if isinstance(obj, Tensor) else obj
        if data.dtype.kind not in _DTYPE_KINDS:  # load would refuse it: fail now, not at load time
            raise TypeError(f"save: cannot store an array of dtype {data.dtype}; only bool, integer and float arrays")
        key = f"a{len(arrays)}"
        arrays[key] = backend.to_device(data, "cpu")
        entry = {"array": key, "tensor": isinstance(obj, Tensor)}
        if isinstance(obj, Tensor) and obj.requires_grad:
            entry["requires_grad"] = True
        return entry
    if isinstance(obj, dict):
        return {"dict": [[_encode_key(k), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple": [_encode(v, arrays) for v in obj]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, np.generic):
        return {"value": obj.item()}
    raise TypeError(f"save: cannot store a {type(obj).__name__}; use tensors, arrays, numbers, strings and containers")


def _encode_key(key):
    if isinstance(key, (bool, int, str)):
        return [type(key).__name__, key]
    raise TypeError(f"save: dict keys must be str, int or bool, got {type(key).__name__}")


def _decode(node, arrays: dict, device: str, path: str):
    try:
        if "array" in node:
            data = arrays[node["array"]]
            if not node.get("tensor"):
                return data
            t = Tensor._wrap(backend.to_device(data, device))
            return t.requires_grad_() if node.get("requires_grad") else t
        if "dict" in node:
            return {_decode_key(k): _decode(v, arrays, device, path) for k, v in node["dict"]}
        if "list" in node:
            return [_decode(v, arrays, device, path) for v in node["list"]]
        if "tuple" in node:
            return tuple(_decode(v, arrays, device, path) for v in node["tuple"])
        if "value" in node:
            if node["value"] is not None and not isinstance(node["value"], (bool, int, float, str)):
                raise TypeError(f"a value entry holds a {type(node['value']).__name__}")
            return node["value"]
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"load: {path} has a damaged structure ({type(exc).__name__}: {exc})") from exc
    raise CheckpointError(f"load: {path} has a damaged structure (unknown entry {sorted(node)})")


def _decode_key(encoded):
    kind, value = encoded
    converters = {"str": str, "int": int, "bool": bool}
    if kind not in converters:
        raise ValueError(f"unknown key type {kind!r}")
    return converters[kind](value)
