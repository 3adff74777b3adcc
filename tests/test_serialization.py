"""minigrad.save / minigrad.load: exact round trips of tensors, module state and
optimizer-like state; never unpickling; clear errors for damaged or foreign
files; atomic saves."""

import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def assert_same(a, b, where="obj"):
    """Equal structure, container and key types, and bit-identical arrays of the same dtype."""
    assert type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict)), f"{where}: {type(a)} vs {type(b)}"
    if isinstance(a, mg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad, where
        assert a.numpy().tobytes() == b.numpy().tobytes(), where
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for (ka, va), kb in zip(a.items(), b):
            assert type(ka) is type(kb), f"{where}: key {ka!r}"
            assert_same(va, b[kb], f"{where}[{ka!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def _files(folder):
    return sorted(os.listdir(folder))


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324, 1.7976931348623157e308]),
        np.arange(-3, 3, dtype=np.int64),
        np.array([[True, False]]),
        np.array(2.5, dtype=np.float64),
        np.zeros((0, 3), dtype=np.float32),
        np.arange(6, dtype=np.uint8).reshape(2, 3),
        np.ones(4, dtype=np.float16),
    ],
)
def test_tensor_round_trip_is_exact(tmp_path, array):
    path = tmp_path / "t.npz"
    t = mg.tensor(array)
    mg.save(t, path)
    loaded = mg.load(path)
    assert isinstance(loaded, mg.Tensor) and not loaded.requires_grad
    assert_same(t, loaded)


def test_requires_grad_survives_and_arrays_stay_arrays(tmp_path):
    path = tmp_path / "t.npz"
    w = mg.randn(3, 2, requires_grad=True)
    raw = np.arange(5, dtype=np.int32)
    mg.save({"w": w, "raw": raw}, str(path))  # a str path works as well as a Path
    loaded = mg.load(path, device="cpu")
    assert_same({"w": w, "raw": raw}, loaded)
    assert loaded["w"].requires_grad and loaded["w"].is_leaf
    assert type(loaded["raw"]) is np.ndarray


def test_module_state_dict_round_trip_gives_identical_outputs(tmp_path):
    def build():
        return nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(4 * 3 * 3, 5), nn.Dropout(0.5), nn.Linear(5, 3),
        )  # fmt: skip

    with mg.fork_rng():
        mg.manual_seed(0)
        model = build()
        x = mg.randn(6, 1, 6, 6)
        model(x)  # a training step: the running statistics move away from their defaults
        mg.manual_seed(1)
        fresh = build()
    path = tmp_path / "model.npz"
    mg.save(model.state_dict(), path)
    state = mg.load(path)
    assert list(state) == list(model.state_dict())
    assert fresh.load_state_dict(state) == ([], [])
    model.eval(), fresh.eval()
    assert model(x).numpy().tobytes() == fresh(x).numpy().tobytes()
    np.testing.assert_array_equal(fresh[1].running_var.numpy(), model[1].running_var.numpy())


def test_optimizer_like_state_round_trip(tmp_path):
    state = {
        "state": {0: {"step": 3, "m": mg.randn(2, 3), "v": mg.zeros(2, 3, dtype=mg.float64)}, 1: {}},
        "param_groups": [
            {
                "lr": 0.1,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0.0,
                "amsgrad": False,
                "nesterov": True,
                "maximize": None,
                "name": "encoder",
                "params": [0, 1],
            }
        ],
        "nested": ([1, (2, [3.5, None])], {True: "yes", -7: 2**60, "x": float("inf")}),
        "nan": float("nan"),
        "numpy scalar": np.float32(0.5),
    }
    path = tmp_path / "opt.npz"
    mg.save(state, path)
    loaded = mg.load(path)
    expected = dict(state, **{"numpy scalar": 0.5})  # NumPy scalars come back as Python numbers
    assert_same(expected, loaded)
    assert list(loaded["state"]) == [0, 1] and type(loaded["param_groups"][0]["betas"]) is tuple
    assert loaded["param_groups"][0]["amsgrad"] is False and loaded["param_groups"][0]["maximize"] is None


def test_save_rejects_what_it_cannot_store_and_writes_nothing(tmp_path):
    path = tmp_path / "x.npz"
    for bad in ({"a": {1, 2}}, {(1, 2): 3}, [object()], {"s": np.array(["text"])}, {"o": np.array([1, None])}):
        with pytest.raises(TypeError, match="save: "):
            mg.save(bad, path)
    assert _files(tmp_path) == []


def test_save_writes_exactly_the_path_given(tmp_path):
    path = tmp_path / "checkpoint.bin"
    mg.save({"a": mg.ones(2)}, path)
    assert _files(tmp_path) == ["checkpoint.bin"]
    assert_same({"a": mg.ones(2)}, mg.load(path))
    mg.save({"a": mg.zeros(2)}, path)  # overwriting replaces
    assert_same({"a": mg.zeros(2)}, mg.load(path))
    assert _files(tmp_path) == ["checkpoint.bin"]


def test_a_checkpoint_gets_the_mode_of_any_new_file(tmp_path):
    path, plain = tmp_path / "model.npz", tmp_path / "plain"
    mg.save(mg.ones(2), path)
    plain.write_bytes(b"")
    assert path.stat().st_mode == plain.stat().st_mode  # not the private 0600 of a temporary file


# --- load never unpickles ---------------------------------------------------------------------


class _Payload:
    """Unpickling this object creates a directory: evidence that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _header(tree):
    text = json.dumps({"format": "minigrad-checkpoint", "version": 1, "tree": tree})
    return np.frombuffer(text.encode(), dtype=np.uint8)


def test_the_payload_would_run_if_unpickled(tmp_path):
    marker = tmp_path / "control"
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()  # so its absence below means load did not unpickle


def test_an_object_array_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(marker)
    np.savez(path, __minigrad__=_header({"array": "a0", "tensor": True}), a0=payload)
    with pytest.raises(mg.CheckpointError, match="not a readable minigrad checkpoint"):
        mg.load(path)
    assert not marker.exists()


def test_a_pickle_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"weights": _Payload(marker)}, f)
    with pytest.raises(mg.CheckpointError, match="not a readable minigrad checkpoint"):
        mg.load(path)
    assert not marker.exists()


def test_a_pickle_payload_inside_the_zip_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    np.savez(path, __minigrad__=_header({"array": "a0", "tensor": True}), a0=np.zeros(2))
    with zipfile.ZipFile(path, "a") as archive:  # a member that is a raw pickle, not an .npy
        archive.writestr("a1.npy", pickle.dumps(_Payload(marker)))
    with pytest.raises(mg.CheckpointError):
        mg.load(path)
    assert not marker.exists()


# --- damaged and foreign files ------------------------------------------------------------------


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "good.npz"
    mg.save({"w": mg.randn(20, 30), "step": 4, "b": mg.zeros(30)}, path)
    return path


@pytest.mark.parametrize("keep", [0, 10, 0.5, -22, -1])
def test_a_truncated_file_is_a_checkpoint_error(checkpoint, keep):
    data = checkpoint.read_bytes()
    size = keep if isinstance(keep, int) and keep >= 0 else len(data) + keep if isinstance(keep, int) else None
    size = int(len(data) * keep) if isinstance(keep, float) else size
    checkpoint.write_bytes(data[:size])
    with pytest.raises(mg.CheckpointError, match=r"good\.npz is not a readable minigrad checkpoint"):
        mg.load(checkpoint)


def test_a_foreign_npz_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, weights=np.ones(3))
    with pytest.raises(mg.CheckpointError, match="an .npz file but not a minigrad checkpoint"):
        mg.load(path)


def test_files_that_are_not_zip_archives_are_checkpoint_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("these are not the weights you are looking for\n")
    with pytest.raises(mg.CheckpointError, match="not a readable minigrad checkpoint"):
        mg.load(text)
    npy = tmp_path / "array.npy"
    np.save(npy, np.arange(3))
    with pytest.raises(mg.CheckpointError, match="bare .npy array"):
        mg.load(npy)
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "missing.npz")


@pytest.mark.parametrize(
    "header, message",
    [
        (np.frombuffer(b"{not json", dtype=np.uint8), "not a readable"),
        (np.frombuffer(b"[1, 2]", dtype=np.uint8), "unknown format header"),
        (np.frombuffer(b'{"format": "other", "version": 1, "tree": {}}', dtype=np.uint8), "unknown format header"),
        (np.frombuffer(b'{"format": "minigrad-checkpoint", "version": 99, "tree": {}}', dtype=np.uint8), "newer"),
        (_header({"array": "a7", "tensor": True}), "damaged structure"),
        (_header({"dict": [[["float", 1.5], {"value": 1}]]}), "damaged structure"),
        (_header({"dict": [["int", 1, {"value": 1}]]}), "damaged structure"),
        (_header({"list": {"value": 1}}), "damaged structure"),
        (np.frombuffer(b"[" * 100_000 + b"]" * 100_000, dtype=np.uint8), "not a readable"),
        (_header({"mystery": 1}), "damaged structure"),
        (np.frombuffer(b'{"format": "minigrad-checkpoint", "version": 1}', dtype=np.uint8), "damaged structure"),
        (_header({"value": {"a": 1}}), "damaged structure"),
        (_header({"list": [{"value": [1, 2]}]}), "damaged structure"),
        (np.array([1.5, 2.0]), "not a readable"),
    ],
)
def test_a_damaged_header_is_a_checkpoint_error(tmp_path, header, message):
    path = tmp_path / "damaged.npz"
    np.savez(path, __minigrad__=header, a0=np.zeros(2))
    with pytest.raises(mg.CheckpointError, match=message):
        mg.load(path)


def test_an_unsupported_dtype_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "complex.npz"
    np.savez(path, __minigrad__=_header({"array": "a0", "tensor": True}), a0=np.ones(2, dtype=np.complex128))
    with pytest.raises(mg.CheckpointError, match="unsupported dtype complex128"):
        mg.load(path)


# --- atomic saves -------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_failed_save_keeps_the_old_checkpoint_and_leaves_no_temp_files(tmp_path, monkeypatch, error):
    path = tmp_path / "model.npz"
    mg.save({"w": mg.ones(3), "epoch": 1}, path)
    before = path.read_bytes()

    def failing_savez(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half an archive")  # some bytes reach the disk, then the failure
        raise error

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(type(error)):
        mg.save({"w": mg.zeros(3), "epoch": 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert_same({"w": mg.ones(3), "epoch": 1}, mg.load(path))
    assert _files(tmp_path) == ["model.npz"]


def test_a_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    def failing_savez(file, *args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="no space"):
        mg.save(mg.ones(2), tmp_path / "new.npz")
    assert _files(tmp_path) == []
