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
    """Batches of a dataset, in order or reshuffled every epoch (PyTorch's ``DataLoader``, same arguments).

    ``shuffle=True`` visits every sample exactly once per epoch (sampling
    without replacement) in a fresh random order; ``shuffle`` defaults to
    False, as PyTorch's. The order of epoch e depends only on (seed, e), so a
    run resumed at an epoch boundary sees the same batches (``state_dict``
    holds the epoch). The seed is minigrad's own keyword ``seed=``, else drawn
    from ``generator`` (a :class:`minigrad.Generator`), else from minigrad's
    default generator, so ``manual_seed`` fixes it.

    ``sampler``: an iterable of indices with a length (a
    :class:`~minigrad.data.DistributedSampler`) that decides each epoch's
    order instead; it excludes ``shuffle``. ``batch_sampler``: an iterable of
    index lists, one per batch; it excludes ``batch_size`` other than 1,
    ``shuffle``, ``sampler`` and ``drop_last`` (ValueError, as PyTorch). With a
    DistributedSampler, call its ``set_epoch`` each epoch, as in PyTorch.

    Batches of a TensorDataset are gathered with one index per tensor; other
    datasets' samples are stacked, NumPy arrays and Python numbers (a label
    ``i``) becoming tensors first, as ``Tensor(x)`` makes them; a
    ``collate_fn`` receives the list of samples and returns the batch
    instead. Loading is in-process: ``num_workers``, ``pin_memory``,
    ``timeout``, ``worker_init_fn``, ``multiprocessing_context``,
    ``prefetch_factor``, ``persistent_workers``, ``pin_memory_device`` and
    ``in_order`` are accepted so that PyTorch code runs, and change nothing
    (in PyTorch too they change only how fast the same batches arrive).
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True, seed: int | None = None):  # fmt: skip
        if batch_size is None:
            raise ValueError("DataLoader: batch_size=None (samples one by one, unbatched) is not supported")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError(
                "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                "drop_last"
            )
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative integer, got {num_workers!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}")
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, bool(drop_last)
        self.shuffle = bool(shuffle)
        self.sampler, self.batch_sampler, self.collate_fn = sampler, batch_sampler, collate_fn
        self.num_workers = int(num_workers)
        if seed is None:
            from ..generator import rng_for

            seed = int(rng_for("DataLoader", generator, "cpu").integers(0, 2**62))
        self.seed = int(seed)
        self.epoch = 0

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The sample order of ``epoch``: a permutation of range(len(dataset)), or the sampler's indices."""
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        n = len(self.dataset)
        return np.random.default_rng((self.seed, epoch)).permutation(n) if self.shuffle else np.arange(n)

    def __iter__(self):
        if self.batch_sampler is not None:
            self.epoch += 1
            for index in self.batch_sampler:
                yield self._batch(np.asarray(list(index), dtype=np.int64))
            return
        order = self.order(self.epoch)
        self.epoch += 1
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            if self.drop_last and len(index) < self.batch_size:
                return
            yield self._batch(index)

    def _batch(self, index):
        if self.collate_fn is not None:
            return self.collate_fn([self.dataset[int(i)] for i in index])
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
