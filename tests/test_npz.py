"""The bounded checkpoint reader (minigrad/npz.py): hand-built hostile files are refused before they cost memory.

Each bad file below is written byte by byte (zip members, .npy headers) the
way an attacker would, then loaded under tracemalloc: the load must raise
CheckpointError with a message naming what was wrong, and its peak traced
memory must stay under twice the file's size (NumPy reports its allocations
to tracemalloc, so an array allocated from a false claim would show).
"""

import json
import os
import stat
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import npz, serialization


def _npy(descr="<f8", shape=(3,), data=None, header_length=None, fortran_order=False):
    """The bytes of a .npy member whose header says ``descr`` and ``shape``, followed by ``data``."""
    header = repr({"descr": descr, "fortran_order": fortran_order, "shape": shape}).encode("latin1")
    header = header.ljust((header_length or 118), b" ") + b"\n"
    version, field = ((1, 0), "<H") if len(header) < 2**16 else ((2, 0), "<I")
    body = np.zeros(shape, descr).tobytes() if data is None else data
    return b"\x93NUMPY" + bytes(version) + struct.pack(field, len(header)) + header + body


def _tree(tree):
    return json.dumps({"format": "minigrad-checkpoint", "version": 1, "tree": tree}).encode()


PADDING = _npy(shape=(2**17,))  # a valid 1 MiB member, read before the bad one


def _write(path, members, compressed=()):
    """A zip archive of ``{name: bytes}`` after a 1 MiB valid member ``a9`` (members in ``compressed`` deflated).

    The padding makes Python's fixed costs (zipfile objects, the traceback)
    small beside the file, so that "peak memory under twice the file's size"
    measures what the reader allocates from the file's claims.
    """
    members = {"__minigrad__.npy": A0, "a9.npy": PADDING, **members}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data, zipfile.ZIP_DEFLATED if name in compressed else zipfile.ZIP_STORED)
    return path


def _structure(tree):
    text = _tree(tree)
    return _npy("|u1", (len(text),), text)


A0 = _structure({"array": "a0", "tensor": True})


def _load_under_tracemalloc(path):
    """Load ``path`` expecting CheckpointError; return (the error's message, the peak traced bytes)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(mg.CheckpointError) as info:
            mg.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return str(info.value), peak


def assert_refused_cheaply(path, message):
    text, peak = _load_under_tracemalloc(path)
    assert message in text and str(path) in text, text
    assert peak < 2 * os.path.getsize(path), f"peak {peak} bytes for a {os.path.getsize(path)}-byte file"


# --- the bad files ------------------------------------------------------------------------------------------


def test_a_declared_shape_larger_than_the_data_is_refused_before_allocation(tmp_path):
    path = _write(tmp_path / "huge.npz", {"__minigrad__.npy": A0, "a0.npy": _npy(shape=(10**10,), data=b"\0" * 80)})
    assert_refused_cheaply(path, "declares shape (10000000000,) of float64 (80000000000 bytes) but holds 80 bytes")


def test_a_declared_shape_smaller_than_the_data_is_refused(tmp_path):
    path = _write(tmp_path / "short.npz", {"__minigrad__.npy": A0, "a0.npy": _npy(shape=(2,), data=b"\0" * 80)})
    assert_refused_cheaply(path, "declares shape (2,) of float64 (16 bytes) but holds 80 bytes")


def _patch_sizes(path, name, **sizes):
    """Overwrite the sizes the zip declares for member ``name`` (local header and central directory)."""
    fields = {"compressed": (18, 20), "uncompressed": (22, 24)}  # offset in the local header, in the central entry
    data = bytearray(path.read_bytes())
    for signature, name_length_at, name_at, which in ((b"PK\x03\x04", 26, 30, 0), (b"PK\x01\x02", 28, 46, 1)):
        at = -1
        while (at := data.find(signature, at + 1)) >= 0:
            length = struct.unpack_from("<H", data, at + name_length_at)[0]
            if data[at + name_at : at + name_at + length] == name.encode():
                for field, value in sizes.items():
                    struct.pack_into("<I", data, at + fields[field][which], value)
    path.write_bytes(bytes(data))


def test_a_compressed_member_that_inflates_past_its_declaration_is_refused_unread(tmp_path):
    path = tmp_path / "bomb.npz"
    bomb = _npy(shape=(2**24,))  # 128 MiB of zeros: deflates to ~130 KB
    _write(path, {"a0.npy": bomb}, compressed={"a0.npy"})
    _patch_sizes(path, "a0.npy", uncompressed=1024)  # and says it inflates to 1 KiB
    assert os.path.getsize(path) < 2**20 + 2**18
    assert_refused_cheaply(path, "member 'a0.npy' is compressed")


def test_a_stored_member_that_declares_more_than_is_stored_is_refused(tmp_path):
    path = _write(tmp_path / "liar.npz", {"a0.npy": _npy()})
    _patch_sizes(path, "a0.npy", compressed=10**9, uncompressed=10**9)
    assert_refused_cheaply(path, "member 'a0.npy' declares 1000000000 bytes but 1000000000 are stored at offset")


def test_a_10_mb_npy_header_is_refused_without_reading_it(tmp_path):
    member = _npy(shape=(3,), header_length=10 * 2**20)
    path = _write(tmp_path / "header.npz", {"__minigrad__.npy": A0, "a0.npy": member})
    assert_refused_cheaply(path, f"has a {10 * 2**20 + 1}-byte .npy header (at most {npz.MAX_NPY_HEADER} are read)")


def test_a_10_mb_structure_header_is_refused(tmp_path):
    padded = _tree({"array": "a0", "tensor": True}) + b" " * (10 * 2**20)
    path = _write(tmp_path / "tree.npz", {"__minigrad__.npy": _npy("|u1", (len(padded),), padded), "a0.npy": _npy()})
    assert_refused_cheaply(path, f"{len(padded)} bytes (at most {serialization.MAX_TREE_BYTES} are read)")


@pytest.mark.parametrize("depth, message", [(10_000, "not a readable"), (150, "nested more than 100 levels")])
def test_a_deeply_nested_tree_is_refused(tmp_path, depth, message):
    tree = {"value": 1}
    for _ in range(depth):
        tree = {"list": [tree]}
    path = tmp_path / "deep.npz"
    text = json.dumps({"format": "minigrad-checkpoint", "version": 1, "tree": {"value": 0}})
    text = text.replace('{"value": 0}', '{"list": [' * depth + '{"value": 1}' + "]}" * depth)
    _write(path, {"__minigrad__.npy": _npy("|u1", (len(text),), text.encode())})
    assert_refused_cheaply(path, message)


def test_a_tree_of_too_many_entries_is_refused(tmp_path):
    tree = {"list": [{"value": i} for i in range(serialization.MAX_TREE_NODES + 1)]}
    path = _write(tmp_path / "wide.npz", {"__minigrad__.npy": _structure(tree)})
    assert_refused_cheaply(path, f"more than {serialization.MAX_TREE_NODES} entries")


@pytest.mark.parametrize("name", ["evil.npy", "../a0.npy", "a01.npy", "a0.npy/x", "a-1.npy", "a0.pkl"])
def test_members_that_minigrad_does_not_write_are_refused(tmp_path, name):
    path = _write(tmp_path / "names.npz", {"__minigrad__.npy": A0, "a0.npy": _npy(), name: _npy()})
    assert_refused_cheaply(path, f"member {name!r} is not one that minigrad writes")


def test_a_member_named_twice_is_refused(tmp_path):
    path = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        _write(path, {"__minigrad__.npy": A0, "a0.npy": _npy()})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("a0.npy", _npy(shape=(4,)))
    assert_refused_cheaply(path, "a member name appears twice")


@pytest.mark.parametrize(
    "member, message",
    [
        (_npy("|O", (1,), b"\0" * 8), "unsupported dtype object"),
        (_npy("<c16", (1,)), "unsupported dtype complex128"),
        (_npy([("x", "<f8")], (1,)), "unsupported dtype"),
        (_npy(shape=(-1,), data=b""), "invalid shape (-1,)"),
        (_npy(shape=(2.5,), data=b""), "invalid shape"),
        (b"\x93NUMPY\x09\x00" + b"\0" * 20, "unknown .npy version 9.0"),
        (b"not an npy member", "is not an .npy array"),
        (_npy()[:-3], "holds 21 bytes of data"),
        (_npy()[:40], "ends inside its .npy header"),
    ],
    ids=["object", "complex", "structured", "negative", "float shape", "version", "raw", "short data", "cut header"],
)
def test_malformed_npy_members_are_refused(tmp_path, member, message):
    path = _write(tmp_path / "member.npz", {"__minigrad__.npy": A0, "a0.npy": member})
    assert_refused_cheaply(path, message)


def test_a_damaged_member_fails_its_crc(tmp_path):
    path = tmp_path / "crc.npz"
    mg.save(mg.ones(2**17, dtype=mg.float64), path)
    data = bytearray(path.read_bytes())
    data[data.find(np.ones(8).tobytes()) + 3] ^= 0xFF  # one data byte of a0.npy
    path.write_bytes(bytes(data))
    assert_refused_cheaply(path, "Bad CRC-32")


# --- what minigrad (and np.savez) write still loads --------------------------------------------------------


@pytest.mark.parametrize(
    "array",
    [np.arange(6.0).reshape(2, 3), np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.zeros((0, 4), np.float32),
     np.float64(2.5).reshape(()), np.arange(5, dtype=">i4"), np.array([True, False])],
    ids=["c order", "fortran order", "empty", "0-d", "big endian", "bool"],
)  # fmt: skip
def test_every_layout_np_savez_writes_round_trips(tmp_path, array):
    path = tmp_path / "ok.npz"
    text = _tree({"array": "a0", "tensor": False})
    np.savez(path, __minigrad__=np.frombuffer(text, np.uint8), a0=array)
    loaded = mg.load(path)
    assert loaded.dtype == array.dtype and loaded.shape == array.shape
    np.testing.assert_array_equal(loaded, array)


def test_a_good_load_costs_about_the_file_once(tmp_path):
    path = tmp_path / "big.npz"
    mg.save({"w": mg.zeros(2**20, dtype=mg.float64), "b": mg.ones(10)}, path)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        state = mg.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert state["w"].shape == (2**20,)
    assert peak < 1.25 * os.path.getsize(path)


# --- durable saves ------------------------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="folders are synced on POSIX only")
def test_save_syncs_the_folder_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        synced.append(("fsync", stat.S_ISDIR(os.fstat(fd).st_mode)))
        real_fsync(fd)

    def replace(src, dst):
        synced.append(("replace", None))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    mg.save(mg.ones(3), tmp_path / "w.npz")
    assert synced == [("fsync", False), ("replace", None), ("fsync", True)]  # the file, the rename, its folder
