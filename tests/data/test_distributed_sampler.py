"""DistributedSampler (no MPI needed: num_replicas and rank given) and DataLoader(sampler=...).

- each rank gets num_samples = ceil(N/R) indices (ceil((N-R)/R) with drop_last when R does not divide N);
  together the ranks' indices are the epoch's order padded by repeating its start (or cut), dealt round-robin;
- shuffle: the same permutation on every rank for a (seed, epoch), a new one after set_epoch;
- DataLoader batches follow the sampler; sampler with shuffle=True is an error, as PyTorch's; bad ranks raise.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.data import DataLoader, DistributedSampler, TensorDataset
from minigrad.errors import ArgumentError


class Sized:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


@given(n=st.integers(1, 60), replicas=st.integers(1, 7), drop_last=st.booleans(), shuffle=st.booleans())
def test_shares_partition_the_padded_or_cut_order(n, replicas, drop_last, shuffle):
    samplers = [
        DistributedSampler(Sized(n), replicas, r, shuffle=shuffle, seed=3, drop_last=drop_last) for r in range(replicas)
    ]
    shares = [list(s) for s in samplers]
    expected = math.ceil((n - replicas) / replicas) if drop_last and n % replicas else math.ceil(n / replicas)
    assert all(len(share) == expected == len(s) for share, s in zip(shares, samplers))
    order = np.random.default_rng(3).permutation(n).tolist() if shuffle else list(range(n))
    total = expected * replicas
    padded = (order * math.ceil(total / n))[:total]  # the start repeated as often as needed, or cut
    dealt = [padded[r::replicas] for r in range(replicas)]
    assert shares == dealt


def test_padding_and_drop_last_examples():
    # 10 samples over 4 ranks: padded with 0, 1 (each rank 3), or cut to 8 (each rank 2)
    assert [list(DistributedSampler(Sized(10), 4, r, shuffle=False)) for r in range(4)] == [
        [0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1],
    ]  # fmt: skip
    assert [list(DistributedSampler(Sized(10), 4, r, shuffle=False, drop_last=True)) for r in range(4)] == [
        [0, 4], [1, 5], [2, 6], [3, 7],
    ]  # fmt: skip
    # fewer samples than ranks: the order repeats several times
    assert [list(DistributedSampler(Sized(2), 5, r, shuffle=False)) for r in range(5)] == [[0], [1], [0], [1], [0]]


def test_set_epoch_reshuffles_the_same_on_every_rank():
    a = DistributedSampler(Sized(20), 2, 0, seed=7)
    b = DistributedSampler(Sized(20), 2, 1, seed=7)
    first = list(a) + list(b)
    assert sorted(first) == list(range(20))
    assert list(a) == list(a)  # without set_epoch the order repeats
    a.set_epoch(1)
    b.set_epoch(1)
    second = list(a) + list(b)
    assert sorted(second) == list(range(20)) and second != first
    other_seed = DistributedSampler(Sized(20), 2, 0, seed=8)
    assert list(other_seed) != first[:10]


def test_dataloader_with_a_sampler():
    x = mg.tensor(np.arange(10.0))
    ds = TensorDataset(x)
    sampler = DistributedSampler(ds, num_replicas=3, rank=1, shuffle=False)
    loader = DataLoader(ds, batch_size=2, sampler=sampler)
    batches = [b[0].numpy().tolist() for b in loader]
    assert batches == [[1.0, 4.0], [7.0, 0.0]]
    assert len(loader) == 2
    assert len(DataLoader(ds, batch_size=3, sampler=sampler, drop_last=True)) == 1
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, batch_size=2, sampler=sampler, shuffle=True)
    plain = DataLoader(ds, batch_size=10, seed=0)
    assert plain.shuffle and sorted(next(iter(plain))[0].numpy().tolist()) == list(range(10))


def test_bad_arguments():
    with pytest.raises(ArgumentError, match=r"invalid rank 4, rank should be in the interval \[0, 3\]"):
        DistributedSampler(Sized(5), num_replicas=4, rank=4)
    with pytest.raises(ArgumentError, match="invalid rank -1"):
        DistributedSampler(Sized(5), num_replicas=4, rank=-1)
    with pytest.raises(ArgumentError, match="num_replicas must be positive"):
        DistributedSampler(Sized(5), num_replicas=0, rank=0)
    with pytest.raises(mg.errors.DistributedError, match="get_world_size: the default process group"):
        DistributedSampler(Sized(5))
