"""Views of datasets, as PyTorch's ``torch.utils.data``: ``Subset``, ``ConcatDataset`` and ``random_split``."""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence

import numpy as np

from .. import backend
from ..errors import ArgumentError, IndexOutOfRange
from .dataset import Dataset


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(d, idx)[i] == d[idx[i]]``.

    ``dataset`` and ``indices`` are kept as attributes (PyTorch's names); a
    list of positions returns the list of samples, as PyTorch's does.
    """

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return [self.dataset[self.indices[i]] for i in idx]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other (``cumulative_sizes``: their running lengths).

    Negative indices count from the end of the whole; an index beyond the
    end raises IndexOutOfRange.
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ArgumentError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if not -n <= idx < n:
            raise IndexOutOfRange(f"ConcatDataset: index {idx} is out of range for a dataset of length {n}")
        if idx < 0:
            idx += n
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][idx - start]


def random_split(dataset, lengths: Sequence, generator=None) -> list:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given ``lengths``.

    ``lengths`` are either counts summing to ``len(dataset)``, or fractions
    summing to 1 (PyTorch >= 1.13): each split then gets floor(n * fraction)
    samples and the remainder is dealt out one by one, round robin from the
    first split (a split of length 0 warns). The samples are assigned by one
    random permutation of range(n), drawn from ``generator``: None for
    minigrad's CPU generator (so :func:`minigrad.manual_seed` fixes the
    split), or a ``numpy.random.Generator``.

    Raises ArgumentError when a fraction is outside [0, 1] or the lengths do
    not add up to the dataset's length.
    """
    n = len(dataset)
    lengths = list(lengths)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ArgumentError(f"random_split: fraction {fraction} at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * fraction)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"random_split: the split at index {i} has length 0", stacklevel=2)
        lengths = counts
    if any(isinstance(x, float) and not float(x).is_integer() for x in lengths) or any(x < 0 for x in lengths):
        raise ArgumentError(
            f"random_split: lengths must be non-negative counts or fractions summing to 1, got {lengths}"
        )
    lengths = [int(x) for x in lengths]
    if sum(lengths) != n:
        raise ArgumentError(
            f"random_split: the lengths {lengths} add up to {sum(lengths)}, not to the dataset's length {n}"
        )
    if generator is None:
        generator = backend.generator("cpu")
    if not hasattr(generator, "permutation"):
        raise TypeError(
            f"random_split: generator must be None or a numpy.random.Generator, got {type(generator).__name__}"
        )
    order = np.asarray(generator.permutation(n)).tolist()
    splits, offset = [], 0
    for length in lengths:
        splits.append(Subset(dataset, order[offset : offset + length]))
        offset += length
    return splits
