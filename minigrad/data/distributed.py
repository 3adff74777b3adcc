"""DistributedSampler: each rank's share of a dataset, as ``torch.utils.data.distributed.DistributedSampler``."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentError


class DistributedSampler:
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` visits in one epoch.

    Every rank builds the same order of ``range(len(dataset))`` -- the
    identity, or with ``shuffle`` a permutation drawn from ``seed + epoch``
    (call :meth:`set_epoch` at the start of each epoch, or every epoch
    repeats the same order) -- and takes every ``num_replicas``-th index
    starting at ``rank``. So that every rank gets the same number of samples,
    ``num_samples``, the order is first padded by repeating its beginning to
    ``total_size = num_samples * num_replicas`` (then some samples are seen
    twice per epoch), or with ``drop_last`` cut to a multiple of
    ``num_replicas`` (then some are not seen), PyTorch's rule::

        num_samples = ceil((N - R) / R) if drop_last and N % R else ceil(N / R)

    With ``shuffle=False`` the indices are exactly PyTorch's; shuffled ones
    come from NumPy's generator, not torch's, so the permutation differs from
    PyTorch's (while agreeing across ranks, which is what matters).
    ``num_replicas`` and ``rank`` default to the process group's
    (``minigrad.distributed.get_world_size()``/``get_rank()``).

    Raises ArgumentError for a rank outside [0, num_replicas - 1] or a
    non-positive ``num_replicas``.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False):  # fmt: skip
        if num_replicas is None or rank is None:
            from .. import distributed

            if num_replicas is None:
                num_replicas = distributed.get_world_size()
            if rank is None:
                rank = distributed.get_rank()
        if num_replicas < 1:
            raise ArgumentError(f"DistributedSampler: num_replicas must be positive, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ArgumentError(
                f"DistributedSampler: invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), int(seed), bool(drop_last), 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        assert len(indices) == self.total_size
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration gives (the shuffle is seeded with ``seed + epoch``)."""
        self.epoch = int(epoch)
