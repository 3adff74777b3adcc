"""Datasets and the DataLoader."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, Dataset, TensorDataset
from minigrad.errors import ShapeError


def _data(n=10):
    return mg.arange(n * 2, dtype=mg.float32).reshape(n, 2), mg.arange(n)


def test_tensor_dataset_indexes_rows():
    x, y = _data()
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    assert xi.tolist() == [6.0, 7.0] and yi.item() == 3
    with pytest.raises(ShapeError, match="differ in length"):
        TensorDataset(x, mg.arange(9))


def test_each_epoch_visits_every_sample_once_in_a_fresh_order():
    x, y = _data(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True, seed=1)
    orders = []
    for _ in range(3):
        labels = np.concatenate([yb.numpy() for _, yb in loader])
        assert sorted(labels.tolist()) == list(range(10))
        orders.append(labels.tolist())
    assert orders[0] != orders[1] != orders[2]
    assert [len(yb) for _, yb in loader] == [3, 3, 3, 1] and len(loader) == 4


def test_drop_last_and_no_shuffle():
    x, y = _data(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=False, drop_last=True)
    batches = [yb.tolist() for _, yb in loader]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(loader) == 2


def test_order_is_seeded_and_resumable():
    x, y = _data(10)
    a = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, seed=7)
    first = [[yb.tolist() for _, yb in a] for _ in range(3)]
    b = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, seed=0)
    b.load_state_dict({"seed": 7, "epoch": 2})
    assert [yb.tolist() for _, yb in b] == first[2]
    mg.manual_seed(3)
    c = DataLoader(TensorDataset(x, y), batch_size=5)
    mg.manual_seed(3)
    d = DataLoader(TensorDataset(x, y), batch_size=5)
    assert c.seed == d.seed


def test_a_custom_dataset_is_stacked():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return mg.tensor([float(i)]), mg.tensor(i * i)

    batches = list(DataLoader(Squares(), batch_size=2, shuffle=False))
    assert batches[0][0].shape == (2, 1) and batches[0][1].tolist() == [0, 1]
    assert batches[2][1].tolist() == [16]


def test_samples_of_arrays_and_python_numbers_are_batched():
    # (array, int label) samples used to fail inside stack with "device 'cuda' needs CuPy"
    class Pairs(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(3, i, dtype=np.float64), i

    batches = list(DataLoader(Pairs(), batch_size=2, shuffle=False))
    assert [tuple(xb.shape) for xb, _ in batches] == [(2, 3), (2, 3), (1, 3)]
    assert batches[0][0].dtype == np.float64 and batches[0][1].dtype == np.int64
    assert [yb.tolist() for _, yb in batches] == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_batch_size_must_be_a_positive_integer(batch_size):
    x, y = _data(4)
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive integer"):
        DataLoader(TensorDataset(x, y), batch_size=batch_size)


def test_defaults_and_arguments_are_pytorchs():
    x, y = _data(6)
    data = TensorDataset(x, y)
    assert [yb.tolist() for _, yb in DataLoader(data, batch_size=4)] == [[0, 1, 2, 3], [4, 5]]  # shuffle=False
    assert [yb.tolist() for _, yb in DataLoader(data, 2, False, None, None, 2, None, True, True)] == [
        [0, 1],
        [2, 3],
        [4, 5],
    ]  # PyTorch's positional order: shuffle, sampler, batch_sampler, num_workers, collate_fn, pin_memory, drop_last
    first = [yb.tolist() for _, yb in DataLoader(data, 3, shuffle=True, generator=mg.Generator().manual_seed(5))]
    again = [yb.tolist() for _, yb in DataLoader(data, 3, shuffle=True, generator=mg.Generator().manual_seed(5))]
    assert first == again and sorted(sum(first, [])) == list(range(6))


def test_batch_sampler_and_collate_fn():
    x, y = _data(6)
    data = TensorDataset(x, y)
    loader = DataLoader(data, batch_sampler=[[5, 0], [3], [1, 2, 4]])
    assert [yb.tolist() for _, yb in loader] == [[5, 0], [3], [1, 2, 4]] and len(loader) == 3
    sums = DataLoader(data, batch_size=4, collate_fn=lambda samples: sum(int(s[1].item()) for s in samples))
    assert list(sums) == [0 + 1 + 2 + 3, 4 + 5]
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(data, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="num_workers option should be a non-negative integer"):
        DataLoader(data, num_workers=-1)
    with pytest.raises(ValueError, match="batch_size=None"):
        DataLoader(data, batch_size=None)
