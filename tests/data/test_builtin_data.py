"""The bundled digits, the synthetic sets and the IDX reader."""

import gzip

import numpy as np
import pytest

from minigrad.data import (
    DIGITS_CITATION,
    DIGITS_LICENSE,
    IDXError,
    load_digits,
    load_mnist,
    make_moons,
    make_spirals,
    quadratic,
    read_idx,
    write_idx,
)


def test_digits_split_is_fixed_and_complete():
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    xa, ya = load_digits("all")
    assert x.shape == (1438, 1, 8, 8) and xt.shape == (359, 1, 8, 8) and xa.shape == (1797, 1, 8, 8)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= xa.numpy().min() and xa.numpy().max() == 1.0
    assert np.bincount(yt.numpy()).min() >= 34  # stratified: every class in the test set
    assert np.bincount(ya.numpy()).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    again, _ = load_digits("test")
    np.testing.assert_array_equal(again.numpy(), xt.numpy())
    assert "Alpaydin" in DIGITS_CITATION and "CC BY 4.0" in DIGITS_LICENSE
    with pytest.raises(ValueError):
        load_digits("validation")


def test_moons_and_spirals():
    x, y = make_moons(101, noise=0.05, seed=1)
    assert x.shape == (101, 2) and sorted(set(y.tolist())) == [0, 1]
    x2, _ = make_moons(101, noise=0.05, seed=1)
    np.testing.assert_array_equal(x.numpy(), x2.numpy())
    s, t = make_spirals(300, classes=3)
    assert s.shape == (300, 2) and np.bincount(t.numpy()).tolist() == [100, 100, 100]


def test_quadratic_with_a_chosen_spectrum():
    q = quadratic([1.0, 10.0, 100.0], seed=2)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.A), [1.0, 10.0, 100.0], rtol=1e-10)
    assert q.condition_number == pytest.approx(100.0)
    np.testing.assert_allclose(q.A @ q.minimizer, q.b)
    import minigrad as mg

    x = mg.tensor(q.minimizer, requires_grad=True)
    q(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-10)
    assert q.value(q.minimizer) < q.value(q.minimizer + 0.1)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(24).reshape(2, 3, 4) * 3).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_idx_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x02ab")
    with pytest.raises(IDXError, match="magic"):
        read_idx(bad)
    short = tmp_path / "short"
    write_idx(short, np.zeros((3, 2), np.uint8))
    short.write_bytes(short.read_bytes()[:-2])
    with pytest.raises(IDXError, match="data bytes"):
        read_idx(short)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")


def test_load_mnist_from_files_the_test_writes(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 5]) + labels.tobytes())
    x, y = load_mnist(tmp_path, "train")
    assert x.shape == (5, 1, 28, 28) and y.tolist() == [3, 1, 4, 1, 5]
    np.testing.assert_allclose(x.numpy()[2, 0], images[2] / 255.0, rtol=1e-6)
    with pytest.raises(FileNotFoundError, match="t10k"):
        load_mnist(tmp_path, "test")
