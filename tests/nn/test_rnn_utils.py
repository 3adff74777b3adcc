"""minigrad.nn.utils.rnn: padding and packing variable-length batches, and the recurrent layers on a
PackedSequence, checked against NumPy (each sequence run on its own, at its own length) and by gradcheck."""

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.utils.rnn as rnn_utils
from minigrad import nn
from minigrad.errors import ArgumentError, ShapeError
from minigrad.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)


@pytest.fixture(autouse=True)
def _seeded():
    with mg.fork_rng():
        mg.manual_seed(0)
        yield


def _np(t):
    return t.to("cpu").numpy()


def test_importable_as_torch_spells_it():
    import minigrad.nn.utils.rnn as by_path

    assert by_path is rnn_utils is mg.nn.utils.rnn
    assert PackedSequence._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")


# --- pad_sequence --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_numpy(batch_first, side, device):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    got = _np(pad_sequence([mg.tensor(a, device=device) for a in arrays], batch_first, -2.0, side))
    want = np.full((4, 3, 2), -2.0)
    for b, a in enumerate(arrays):
        if side == "right":
            want[: len(a), b] = a
        else:
            want[4 - len(a) :, b] = a
    np.testing.assert_array_equal(got, want.transpose(1, 0, 2) if batch_first else want)


def test_pad_sequence_errors():
    with pytest.raises(ShapeError, match="trailing shape"):
        pad_sequence([mg.zeros(2, 3), mg.zeros(2, 4)])
    with pytest.raises(ArgumentError, match="padding_side"):
        pad_sequence([mg.zeros(2)], padding_side="middle")
    with pytest.raises(ArgumentError, match="empty list"):
        pad_sequence([])


@settings(max_examples=15, deadline=None)
@given(lengths=st.lists(st.integers(0, 4), min_size=1, max_size=3), feat=st.integers(0, 2),
       side=st.sampled_from(["left", "right"]))  # fmt: skip
def test_pad_sequence_gradcheck(lengths, feat, side):
    rng = np.random.default_rng(len(lengths))
    arrays = [rng.standard_normal((n, feat)) for n in lengths]
    if max(lengths) == 0:
        return
    check_gradients(lambda *xs: pad_sequence(list(xs), True, 0.5, side), *arrays)


# --- packing ---------------------------------------------------------------------------------------------------------


def _np_pack(x, lengths):
    """A NumPy transcription of packing: sorted stably by decreasing length, then time-major, active rows only."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    ls = [lengths[k] for k in order]
    sizes = [sum(n > t for n in ls) for t in range(ls[0])]
    data = np.concatenate([x[t, order[:b]] for t, b in enumerate(sizes)])
    return data, sizes, order


@pytest.mark.parametrize("lengths,sorted_", [([4, 4, 2, 1], True), ([2, 4, 1, 4], False), ([3], True)])
def test_pack_padded_sequence_matches_numpy(lengths, sorted_, device):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, len(lengths), 3))
    packed = pack_padded_sequence(mg.tensor(x, device=device), mg.tensor(lengths), enforce_sorted=sorted_)
    data, sizes, order = _np_pack(x, lengths)
    np.testing.assert_array_equal(_np(packed.data), data)
    assert packed.batch_sizes.tolist() == sizes and packed.batch_sizes.device == "cpu"
    assert packed.batch_sizes.dtype == np.int64
    if sorted_:
        assert packed.sorted_indices is None and packed.unsorted_indices is None
    else:
        assert _np(packed.sorted_indices).tolist() == order.tolist()
        assert _np(packed.unsorted_indices).tolist() == np.argsort(order).tolist()
    # batch_first gives the same packing of the transposed input
    again = pack_padded_sequence(mg.tensor(x.transpose(1, 0, 2)), lengths, batch_first=True, enforce_sorted=sorted_)
    np.testing.assert_array_equal(again.data.numpy(), data)
    padded, back = pad_packed_sequence(packed, padding_value=7.0)
    assert back.tolist() == lengths and back.dtype == np.int64
    want = x.copy()
    for b, n in enumerate(lengths):
        want[n:, b] = 7.0
    np.testing.assert_array_equal(_np(padded)[: max(lengths)], want[: max(lengths)])
    long, _ = pad_packed_sequence(packed, batch_first=True, total_length=6)
    assert long.shape == (len(lengths), 6, 3) and not _np(long)[:, max(lengths) :].any()


def test_pack_errors_leave_input_intact():
    x = mg.zeros(3, 2, 1)
    with pytest.raises(ArgumentError, match="sorted in decreasing order"):
        pack_padded_sequence(x, [1, 3])
    with pytest.raises(ArgumentError, match="greater than 0"):
        pack_padded_sequence(x, [3, 0], enforce_sorted=False)
    with pytest.raises(ShapeError, match="exceeds"):
        pack_padded_sequence(x, [4, 1])
    with pytest.raises(ShapeError, match="2 sequences"):
        pack_padded_sequence(x, [3])
    with pytest.raises(ArgumentError, match="integers"):
        pack_padded_sequence(x, [2.5, 1.0])
    packed = pack_padded_sequence(x, [3, 1])
    with pytest.raises(ArgumentError, match="total_length"):
        pad_packed_sequence(packed, total_length=2)
    with pytest.raises(ArgumentError, match="PackedSequence"):
        pad_packed_sequence(x)
    assert x.shape == (3, 2, 1) and x.grad_fn is None


def test_pack_sequence_unpack_and_unpad_round_trip():
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((n, 2)) for n in (2, 5, 3)]
    packed = pack_sequence([mg.tensor(a) for a in arrays], enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 3, 2, 1, 1]
    for got, want in zip(unpack_sequence(packed), arrays):
        np.testing.assert_array_equal(got.numpy(), want)
    padded = pad_sequence([mg.tensor(a) for a in arrays], batch_first=True)
    for got, want in zip(unpad_sequence(padded, mg.tensor([2, 5, 3]), batch_first=True), arrays):
        np.testing.assert_array_equal(got.numpy(), want)
    with pytest.raises(ArgumentError, match="sorted"):
        pack_sequence([mg.tensor(a) for a in arrays])


def test_packed_sequence_repr_and_to():
    packed = pack_sequence([mg.tensor([1.0, 2.0, 3.0]), mg.tensor([4.0, 5.0])])
    assert repr(packed) == (
        "PackedSequence(data=tensor([1., 4., 2., 5., 3.]), batch_sizes=tensor([2, 2, 1]), "
        "sorted_indices=None, unsorted_indices=None)"
    )
    double = packed.double()
    assert double.data.dtype == np.float64 and double.batch_sizes is packed.batch_sizes
    assert not packed.is_cuda and packed.to("cpu") is packed
    built = PackedSequence(packed.data, [2, 2, 1], mg.tensor([1, 0]))
    assert built.unsorted_indices.tolist() == [1, 0] and built.batch_sizes.dtype == np.int64


@settings(max_examples=15, deadline=None)
@given(lengths=st.lists(st.integers(1, 4), min_size=1, max_size=4), sorted_=st.booleans(), bf=st.booleans())
def test_pack_and_pad_gradcheck(lengths, sorted_, bf):
    if sorted_:
        lengths = sorted(lengths, reverse=True)
    rng = np.random.default_rng(sum(lengths))
    shape = (len(lengths), max(lengths), 2) if bf else (max(lengths), len(lengths), 2)
    x = rng.standard_normal(shape)

    def fn(x):
        packed = pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=sorted_)
        return pad_packed_sequence(packed, batch_first=not bf, padding_value=1.5, total_length=5)[0]

    check_gradients(fn, x)


# --- recurrent layers on packed input --------------------------------------------------------------------------------


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _np_cell(kind, x, state, w_ih, w_hh, b_ih, b_hh):
    if kind == "LSTM":
        h, c = state
        n = h.shape[-1]
        g = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, gg, o = (g[..., k * n : (k + 1) * n] for k in range(4))
        c2 = _sig(f) * c + _sig(i) * np.tanh(gg)
        return _sig(o) * np.tanh(c2), c2
    if kind == "GRU":
        n = state.shape[-1]
        gi, gh = x @ w_ih.T + b_ih, state @ w_hh.T + b_hh
        r, z = _sig(gi[..., :n] + gh[..., :n]), _sig(gi[..., n : 2 * n] + gh[..., n : 2 * n])
        return (1 - z) * np.tanh(gi[..., 2 * n :] + r * gh[..., 2 * n :]) + z * state
    return np.tanh(x @ w_ih.T + b_ih + state @ w_hh.T + b_hh)


def _np_run_one(kind, sd, x, states, layers, dirs):
    """One sequence x (L, H_in), unbatched; states per layer*direction. Returns output (L, D*H), finals."""
    finals = []
    for layer in range(layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w = [sd[n + sfx] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            state, hs = states[layer * dirs + d], [None] * len(x)
            for t in range(len(x)) if d == 0 else range(len(x) - 1, -1, -1):
                state = _np_cell(kind, x[t], state, *w)
                hs[t] = state[0] if kind == "LSTM" else state
            finals.append(state)
            outs.append(np.stack(hs))
        x = np.concatenate(outs, axis=-1)
    return x, finals


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_recurrent_matches_each_sequence_alone(kind, bidirectional, enforce_sorted, device):
    rng = np.random.default_rng(3)
    layers, dirs, hidden = 2, 2 if bidirectional else 1, 3
    module = getattr(nn, kind)(2, hidden, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    module = module.to(device=device, dtype=np.float64)
    sd = {k: _np(v) for k, v in module.state_dict().items()}
    lengths = [4, 3, 3, 1] if enforce_sorted else [2, 4, 1, 3]
    x = rng.standard_normal((4, 4, 2))
    h0 = rng.standard_normal((layers * dirs, 4, hidden))
    c0 = rng.standard_normal((layers * dirs, 4, hidden))
    hx = (
        (mg.tensor(h0, device=device), mg.tensor(c0, device=device)) if kind == "LSTM" else mg.tensor(h0, device=device)
    )
    packed = pack_padded_sequence(mg.tensor(x, device=device), lengths, batch_first=True, enforce_sorted=enforce_sorted)
    out, hidden_n = module(packed, hx)
    assert isinstance(out, PackedSequence) and out.batch_sizes is packed.batch_sizes
    padded, _ = pad_packed_sequence(out, batch_first=True)
    h_n = hidden_n[0] if kind == "LSTM" else hidden_n
    for b, n in enumerate(lengths):
        states = [(h0[k, b], c0[k, b]) if kind == "LSTM" else h0[k, b] for k in range(layers * dirs)]
        want, finals = _np_run_one(kind, sd, x[b, :n], states, layers, dirs)
        np.testing.assert_allclose(_np(padded)[b, :n], want, rtol=1e-10, atol=1e-12)
        assert not _np(padded)[b, n:].any()
        for k, f in enumerate(finals):
            np.testing.assert_allclose(_np(h_n)[k, b], f[0] if kind == "LSTM" else f, rtol=1e-10, atol=1e-12)
            if kind == "LSTM":
                np.testing.assert_allclose(_np(hidden_n[1])[k, b], f[1], rtol=1e-10, atol=1e-12)


@settings(max_examples=8, deadline=None)
@given(kind=st.sampled_from(["RNN", "LSTM", "GRU"]), lengths=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       bidirectional=st.booleans())  # fmt: skip
def test_packed_recurrent_gradcheck(kind, lengths, bidirectional):
    module = getattr(nn, kind)(2, 2, bidirectional=bidirectional).to(dtype=np.float64)
    names = [n for n, _ in module.named_parameters()]
    params = [module._parameters[n] for n in names]
    rng = np.random.default_rng(len(lengths))
    x = rng.standard_normal((max(lengths), len(lengths), 2))
    h0 = rng.standard_normal(((2 if bidirectional else 1), len(lengths), 2))

    def fn(x, h0, *weights):
        module._parameters.update(zip(names, weights))  # the layer reads its weights from here
        hx = (h0, h0 * 0.5) if kind == "LSTM" else h0
        out, hn = module(pack_padded_sequence(x, lengths, enforce_sorted=False), hx)
        hn = hn[0] if kind == "LSTM" else hn
        return mg.concatenate([out.data.reshape(-1), hn.reshape(-1)])

    check_gradients(fn, x, h0, *[p.numpy() for p in params])


def test_packed_recurrent_errors():
    lstm = nn.LSTM(2, 3)
    packed = pack_sequence([mg.zeros(3, 2), mg.zeros(2, 2)])
    with pytest.raises(ArgumentError, match="tuple"):
        lstm(packed, mg.zeros(1, 2, 3))
    with pytest.raises(ShapeError, match="initial state"):
        lstm(packed, (mg.zeros(1, 3, 3), mg.zeros(1, 3, 3)))
    with pytest.raises(ShapeError, match="input_size=3"):
        nn.GRU(3, 3)(packed)
