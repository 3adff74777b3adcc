"""Reading (and writing) IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B
int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions,
each dimension as a big-endian uint32, then the data, big-endian. Files may
be gzipped (``.gz``).
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from ..errors import MinigradError
from ..tensor import Tensor

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(v).newbyteorder("=").str: k for k, v in _TYPES.items()}


class IDXError(MinigradError, ValueError):
    """A file that is not a valid IDX file (bad magic, truncated, wrong size)."""


def _open(path):
    return gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")


def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (plain or gzipped), in native byte order."""
    try:
        with _open(path) as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise IDXError(f"read_idx: cannot read {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise IDXError(f"read_idx: {path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"read_idx: {path} is truncated inside its header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_TYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise IDXError(
            f"read_idx: {path} holds {len(raw) - header} data bytes, but its header says {shape} of {dtype.name} "
            f"({expected} bytes)"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array) -> None:
    """Write ``array`` as an IDX file (gzipped when the name ends in .gz)."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("=").str)
    if code is None:
        raise IDXError(f"write_idx: dtype {array.dtype} has no IDX type code")
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    body = array.astype(np.dtype(_TYPES[code])).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + body)


def load_mnist(folder, split: str = "train", dtype=np.float32):
    """(images (N, 1, H, W) scaled to [0, 1], labels int64) from MNIST-format files in ``folder``.

    Looks for ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (split
    "train") or ``t10k-...`` (split "test"), plain or ``.gz``; works for
    MNIST and Fashion-MNIST, which share the format.
    """
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")

    def find(kind):
        for name in (f"{prefix}-{kind}", f"{prefix}-{kind}.gz"):
            path = os.path.join(folder, name)
            if os.path.exists(path):
                return path
        raise FileNotFoundError(f"load_mnist: no {prefix}-{kind}[.gz] in {folder}")

    images = read_idx(find("images-idx3-ubyte"))
    labels = read_idx(find("labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise IDXError(f"load_mnist: images {images.shape} and labels {labels.shape} do not pair up")
    x = (images.astype(dtype) / 255.0).reshape(len(images), 1, *images.shape[1:]).astype(dtype)
    return Tensor._wrap(x), Tensor._wrap(labels.astype(np.int64))
