"""Dataset, TensorDataset and DataLoader, as PyTorch's ``torch.utils.data`` (the parts small nets need)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ShapeError
from ..ops.shape import stack
from ..tensor import Tensor


class Dataset:
    """A sequence of samples: subclasses define ``__len__`` and ``__getitem__(i)``."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError

    def __add__(self, other):
        """``a + b``: the samples of ``a`` then those of ``b`` (a :class:`~minigrad.data.ConcatDataset`)."""
        from .subsets import ConcatDataset

        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long tensors.

    ``TensorDataset(images, labels)[i] == (images[i], labels[i])``.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        lengths = {len(t) for t in tensors}
        if len(lengths) != 1:
            raise ShapeError(f"TensorDataset: tensors differ in length: {[len(t) for t in tensors]}")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)


class DataLoader:
    """Batches of a dataset, reshuffled every epoch (or in the order a ``sampler`` gives).

    Each epoch visits every sample exactly once (sampling without
    replacement) in a fresh random order when ``shuffle``; the order of epoch
    e depends only on (seed, e), so a run resumed at an epoch boundary sees
    the same batches (``state_dict`` holds the epoch). ``seed=None`` draws a
    seed from minigrad's generator, so ``manual_seed`` fixes it. Batches of a
    TensorDataset are gathered with one index per tensor; other datasets'
    samples are stacked, NumPy arrays and Python numbers (a label ``i``)
    becoming tensors first, as ``Tensor(x)`` makes them.

    ``sampler``, as PyTorch's: an iterable of indices with a length (a
    :class:`~minigrad.data.DistributedSampler`) that decides each epoch's
    order instead; it excludes ``shuffle`` (ValueError, as PyTorch), so
    ``shuffle`` defaults to None, meaning True without a sampler. With a
    DistributedSampler, call its ``set_epoch`` each epoch, as in PyTorch.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool | None = None, drop_last: bool = False, seed=None,
                 sampler=None):  # fmt: skip
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        shuffle = sampler is None if shuffle is None else bool(shuffle)
        self.sampler = sampler
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        if seed is None:
            seed = int(backend.generator("cpu").integers(0, 2**62))
        self.seed = int(seed)
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The sample order of ``epoch``: a permutation of range(len(dataset)), or the sampler's indices."""
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        n = len(self.dataset)
        return np.random.default_rng((self.seed, epoch)).permutation(n) if self.shuffle else np.arange(n)

    def __iter__(self):
        order = self.order(self.epoch)
        self.epoch += 1
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            if self.drop_last and len(index) < self.batch_size:
                return
            yield self._batch(index)

    def _batch(self, index):
        if isinstance(self.dataset, TensorDataset):
            return tuple(Tensor._wrap(t.array[backend.to_device(index, t.device)]) for t in self.dataset.tensors)
        samples = [self.dataset[int(i)] for i in index]
        if isinstance(samples[0], tuple):
            return tuple(_stack([s[k] for s in samples]) for k in range(len(samples[0])))
        return _stack(samples)

    def state_dict(self) -> dict:
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])


def _stack(samples: list) -> Tensor:
    """One batch from a list of samples: tensors, arrays or numbers (converted as ``Tensor(x)`` would)."""
    return stack([s if isinstance(s, Tensor) else Tensor(s) for s in samples])
