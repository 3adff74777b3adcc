"""save / load of tensors and nested containers of them, in ``.npz``, never pickled.

A checkpoint is an ``.npz`` archive: every array under its own key
(``a0``, ``a1``, ...) plus ``__minigrad__``, a JSON description of the
container tree (dicts with their key types, lists, tuples, numbers, strings,
None) in which each array appears as a reference. Loading never unpickles,
so no file can run code; it checks every size a file declares against the
bytes really stored before allocating anything (:mod:`minigrad.npz`), bounds
the tree's size and depth, and validates the whole file before returning
anything. Saving writes to a temporary file in the same
folder and renames it into place, so a crash mid-save never leaves a
half-written checkpoint under the real name.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from . import backend
from .npz import DTYPE_KINDS, STRUCTURE_MEMBER, CheckpointError, read_members
from .tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
_STRUCTURE_KEY = "__minigrad__"
MAX_TREE_BYTES = 4 * 2**20  # the JSON of a state dict of ~50,000 tensors
MAX_TREE_NODES = 200_000
MAX_TREE_DEPTH = 100  # a state dict is 2-5 levels deep


def save(obj, path) -> None:
    """Save a tensor, an array, or nested dicts/lists/tuples of them (and of numbers, strings, None) to ``path``.

    State dicts of modules and optimizers are such containers. The file is
    written atomically (temporary file, synced, then renamed into place, and the folder synced so that
    the rename survives a power loss).
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
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename durable: on POSIX a rename lives in the folder, which a power loss can lose unless synced.

    Windows cannot open a folder for syncing (and its renames are journalled), so there it is a no-op.
    """
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    """The process's file-creation mask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def load(path, device: str | None = None):
    """Load what :func:`save` wrote; tensors go to ``device`` (default: the CPU).

    The file is validated before anything is allocated from its claims (see
    :mod:`minigrad.npz`: member names, sizes, dtypes, header lengths), and its
    container tree is at most :data:`MAX_TREE_BYTES` of JSON, :data:`MAX_TREE_NODES`
    entries and :data:`MAX_TREE_DEPTH` levels deep; so loading an untrusted
    file never runs code and never needs much more memory than the file's size.

    Raises CheckpointError for a truncated, foreign or unsafe file, and
    FileNotFoundError for a missing one.
    """
    path = os.fspath(path)
    members = read_members(path, max_bytes={STRUCTURE_MEMBER: MAX_TREE_BYTES})
    tree = _read_tree(members.pop(_STRUCTURE_KEY), path)
    target = backend.normalize_device(device)
    return _decode(tree, members, target, path)


def _read_tree(header: np.ndarray, path: str):
    """The container tree of the ``__minigrad__`` member, checked for format, version, size and depth."""
    if header.dtype != np.uint8 or header.ndim != 1:
        raise CheckpointError(f"load: {path} is not a readable minigrad checkpoint (its header is not JSON bytes)")
    text = header.tobytes()
    if text.count(b"{") > MAX_TREE_NODES:  # every entry of the tree is a JSON object
        raise CheckpointError(f"load: {path} has a structure of more than {MAX_TREE_NODES} entries")
    try:
        parsed = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise CheckpointError(
            f"load: {path} is not a readable minigrad checkpoint ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(parsed, dict):
        raise CheckpointError(f"load: {path} has an unknown format header")
    if parsed.get("format") != FORMAT or not isinstance(parsed.get("version"), int):
        raise CheckpointError(f"load: {path} has an unknown format header")
    if "tree" not in parsed:
        raise CheckpointError(f"load: {path} has a damaged structure (its header has no tree)")
    if parsed["version"] > VERSION:
        raise CheckpointError(f"load: {path} was written by a newer minigrad (format version {parsed['version']})")
    _check_depth(parsed["tree"], path)
    return parsed["tree"]


def _check_depth(tree, path: str) -> None:
    """Refuse a tree nested deeper than :data:`MAX_TREE_DEPTH` (walked without recursion)."""
    level, depth = [tree], 0
    while level:
        depth += 1
        if depth > MAX_TREE_DEPTH:
            raise CheckpointError(f"load: {path} has a structure nested more than {MAX_TREE_DEPTH} levels deep")
        level = [child for node in level if isinstance(node, (dict, list)) for child in _children(node)]


def _children(node):
    return node.values() if isinstance(node, dict) else node


def _encode(obj, arrays: dict):
    if isinstance(obj, Tensor) or backend.is_array(obj):
        data = obj.array if isinstance(obj, Tensor) else obj
        if data.dtype.kind not in DTYPE_KINDS:  # load would refuse it: fail now, not at load time
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
    if not isinstance(node, dict):
        raise CheckpointError(f"load: {path} has a damaged structure (an entry is a {type(node).__name__})")
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
