"""The UCI optical-recognition handwritten digits, shipped inside the package.

1,797 images of 8x8 pixels (values 0..16) in 10 classes, the set scikit-learn
calls ``load_digits``, with a fixed stratified 80/20 train/test split
(1,438 / 359). Nothing is downloaded.
"""

from __future__ import annotations

import os

import numpy as np

from ..tensor import Tensor

DIGITS_CITATION = (
    "E. Alpaydin and C. Kaynak. Optical Recognition of Handwritten Digits [Dataset]. "
    "UCI Machine Learning Repository, 1998. https://doi.org/10.24432/C50P49"
)
DIGITS_LICENSE = "Creative Commons Attribution 4.0 International (CC BY 4.0)"
_FILE = os.path.join(os.path.dirname(__file__), "digits.npz")


def load_digits(split: str = "train", dtype=np.float32):
    """(images, labels) of the bundled digits: images (N, 1, 8, 8) scaled to [0, 1], labels int64.

    ``split`` is "train" (1,438 images), "test" (359) or "all" (1,797).
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"load_digits: split must be 'train', 'test' or 'all', got {split!r}")
    with np.load(_FILE, allow_pickle=False) as data:
        images, labels, test = data["images"], data["labels"], data["test_mask"]
    keep = {"train": ~test, "test": test, "all": np.ones_like(test)}[split]
    x = (images[keep].astype(dtype) / 16.0).reshape(-1, 1, 8, 8).astype(dtype)
    return Tensor._wrap(x), Tensor._wrap(labels[keep].astype(np.int64))
