"""Subset, ConcatDataset and random_split (minigrad.data, also as minigrad.utils.data), as PyTorch's."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.data import ConcatDataset, DataLoader, Subset, TensorDataset, random_split
from minigrad.errors import ArgumentError, IndexOutOfRange


def _ds(n=10):
    return TensorDataset(mg.arange(n), mg.arange(n) * 10)


def test_utils_data_is_the_pytorch_spelling_of_minigrad_data():
    import minigrad.utils.data as ud

    assert mg.utils.data is ud
    for name in ["Dataset", "TensorDataset", "DataLoader", "Subset", "ConcatDataset", "random_split"]:
        assert getattr(ud, name) is getattr(mg.data, name)


def test_subset_indexes_through_its_indices():
    ds = _ds()
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub.dataset is ds and sub.indices == [7, 2, 5]
    assert sub[0][0].item() == 7 and sub[-1][1].item() == 50
    assert [s[0].item() for s in sub[[2, 0]]] == [5, 7]
    batches = list(DataLoader(sub, batch_size=2, shuffle=False))
    assert [b[0].tolist() for b in batches] == [[7, 2], [5]]


def test_concat_dataset_joins_and_counts_from_the_end():
    a, b = _ds(3), _ds(4)
    cat = ConcatDataset([a, b])
    assert len(cat) == 7 and cat.cumulative_sizes == [3, 7]
    assert [cat[i][0].item() for i in range(7)] == [0, 1, 2, 0, 1, 2, 3]
    assert cat[-1][0].item() == 3 and cat[-7][0].item() == 0
    assert len(a + b) == 7 and (a + b)[3][0].item() == 0
    with pytest.raises(IndexOutOfRange, match="index 7 is out of range for a dataset of length 7"):
        cat[7]
    with pytest.raises(IndexOutOfRange):
        cat[-8]
    with pytest.raises(ArgumentError, match="empty"):
        ConcatDataset([])


@settings(max_examples=30)
@given(n=st.integers(0, 40), parts=st.lists(st.integers(0, 10), min_size=1, max_size=4), seed=st.integers(0, 100))
def test_random_split_by_counts_partitions_the_dataset(n, parts, seed):
    total = sum(parts)
    ds = _ds(total)
    mg.manual_seed(seed)
    splits = random_split(ds, parts)
    assert [len(s) for s in splits] == parts
    seen = sorted(i for s in splits for i in s.indices)
    assert seen == list(range(total))
    mg.manual_seed(seed)
    again = random_split(ds, parts)
    assert [s.indices for s in again] == [s.indices for s in splits]  # manual_seed fixes the split


@settings(max_examples=30)
@given(n=st.integers(1, 50), fractions=st.sampled_from([[0.5, 0.5], [0.7, 0.2, 0.1], [0.25] * 4, [1.0], [0.3, 0.7]]))
def test_random_split_by_fractions_deals_the_remainder_round_robin(n, fractions):
    ds = _ds(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a split of length 0 warns
        splits = random_split(ds, fractions, generator=np.random.default_rng(0))
    counts = [int(np.floor(n * f)) for f in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    assert [len(s) for s in splits] == counts
    assert sorted(i for s in splits for i in s.indices) == list(range(n))


def test_random_split_with_a_generator_is_reproducible_and_warns_on_empty_splits():
    ds = _ds(10)
    a = [s.indices for s in random_split(ds, [3, 7], generator=np.random.default_rng(5))]
    b = [s.indices for s in random_split(ds, [3, 7], generator=np.random.default_rng(5))]
    assert a == b and a[0] == np.random.default_rng(5).permutation(10).tolist()[:3]
    with pytest.warns(UserWarning, match="split at index 1 has length 0"):
        random_split(_ds(2), [0.9, 0.1])


def test_random_split_errors():
    ds = _ds(10)
    with pytest.raises(ArgumentError, match="add up to 9, not to the dataset's length 10"):
        random_split(ds, [4, 5])
    with pytest.raises(ArgumentError, match="fraction -0.5 at index 0 is not between 0 and 1"):
        random_split(ds, [-0.5, 1.5])
    with pytest.raises(ArgumentError, match="lengths must be"):
        random_split(ds, [2.5, 7.5])
    with pytest.raises(TypeError, match="generator"):
        random_split(ds, [5, 5], generator=3)
