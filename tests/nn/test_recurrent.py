"""Recurrent layers (minigrad.nn.recurrent): forward against a NumPy transcription of PyTorch's
documented equations (float64), gradcheck of every cell and of stacked bidirectional layers,
state-dict keys and shapes as PyTorch's, strict loading, long backward through time."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.errors import ArgumentError, ShapeError


@pytest.fixture(autouse=True)
def _seeded():
    with mg.fork_rng():
        mg.manual_seed(0)
        yield


def _sig(x):
    return 1 / (1 + np.exp(-x))


# --- NumPy references of PyTorch's documented cell equations ----------------------------------------------------


def np_rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh, act=np.tanh):
    return act(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def np_lstm_cell(x, state, w_ih, w_hh, b_ih, b_hh):
    h, c = state
    n = h.shape[-1]
    gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, g, o = (gates[..., k * n : (k + 1) * n] for k in range(4))
    c2 = _sig(f) * c + _sig(i) * np.tanh(g)
    return _sig(o) * np.tanh(c2), c2


def np_gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    n = h.shape[-1]
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = _sig(gi[..., :n] + gh[..., :n])
    z = _sig(gi[..., n : 2 * n] + gh[..., n : 2 * n])
    cand = np.tanh(gi[..., 2 * n :] + r * gh[..., 2 * n :])
    return (1 - z) * cand + z * h


def _relu(x):
    return np.maximum(x, 0)


NP_CELLS = {"RNN": np_rnn_cell, "LSTM": np_lstm_cell, "GRU": np_gru_cell}


def np_sequence(kind, sd, x, states, num_layers, bidirectional, act=np.tanh):
    """x (L, N, H_in); states: per layer*direction an h or (h, c). Returns output, final states."""
    cell = NP_CELLS[kind]
    if kind == "RNN":
        cell = lambda *a: np_rnn_cell(*a, act=act)  # noqa: E731
    dirs = 2 if bidirectional else 1
    finals = []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w = [sd[f"{n}{sfx}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            state = states[layer * dirs + d]
            hs = [None] * len(x)
            for t in range(len(x)) if d == 0 else range(len(x) - 1, -1, -1):
                state = cell(x[t], state, *w)
                hs[t] = state[0] if kind == "LSTM" else state
            finals.append(state)
            outs.append(np.stack(hs))
        x = np.concatenate(outs, axis=-1)
    return x, finals


def _sd_numpy(module):
    return {k: v.numpy() for k, v in module.state_dict().items()}


# --- cells -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_cell_forward_matches_numpy_equations(kind, device):
    rng = np.random.default_rng(1)
    cell = getattr(nn, kind + "Cell")(3, 5).to(device=device, dtype=np.float64)
    sd = {k: v.to("cpu").numpy() for k, v in cell.state_dict().items()}
    w = [sd[n] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    x, h, c = rng.standard_normal((4, 3)), rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    X, Hh, C = (mg.tensor(a, device=device) for a in (x, h, c))
    if kind == "LSTM":
        got = cell(X, (Hh, C))
        want = np_lstm_cell(x, (h, c), *w)
        for g, e in zip(got, want):
            np.testing.assert_allclose(g.to("cpu").numpy(), e, rtol=1e-12, atol=1e-12)
        got1 = cell(X[0], (Hh[0], C[0]))  # unbatched
        assert got1[0].shape == (5,) and got1[1].shape == (5,)
        np.testing.assert_allclose(got1[1].to("cpu").numpy(), want[1][0], rtol=1e-12, atol=1e-12)
        zero = cell(X)[0].to("cpu").numpy()
        np.testing.assert_allclose(zero, np_lstm_cell(x, (0 * h, 0 * c), *w)[0], rtol=1e-12, atol=1e-12)
    else:
        got = cell(X, Hh).to("cpu").numpy()
        np.testing.assert_allclose(got, NP_CELLS[kind](x, h, *w), rtol=1e-12, atol=1e-12)
        assert cell(X[0], Hh[0]).shape == (5,)
        np.testing.assert_allclose(cell(X).to("cpu").numpy(), NP_CELLS[kind](x, 0 * h, *w), rtol=1e-12, atol=1e-12)


def test_rnn_cell_relu_and_no_bias():
    rng = np.random.default_rng(2)
    cell = nn.RNNCell(3, 4, bias=False, nonlinearity="relu").to(dtype=np.float64)
    assert list(cell.state_dict()) == ["weight_ih", "weight_hh"]
    assert cell.bias_ih is None and cell.bias_hh is None
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    w_ih, w_hh = cell.weight_ih.numpy(), cell.weight_hh.numpy()
    want = _relu(x @ w_ih.T + h @ w_hh.T)
    np.testing.assert_allclose(cell(mg.tensor(x), mg.tensor(h)).numpy(), want, rtol=1e-12, atol=1e-12)
    assert "nonlinearity='relu'" in repr(cell) and "bias=False" in repr(cell)


@pytest.mark.parametrize("kind,gates", [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_cell_parameter_names_shapes_and_init(kind, gates):
    cell = getattr(nn, kind + "Cell")(7, 50)
    assert [(k, tuple(v.shape)) for k, v in cell.state_dict().items()] == [
        ("weight_ih", (gates * 50, 7)), ("weight_hh", (gates * 50, 50)), ("bias_ih", (gates * 50,)),
        ("bias_hh", (gates * 50,)),
    ]  # fmt: skip
    bound = 1 / np.sqrt(50)
    for p in cell.parameters():
        a = p.numpy()
        assert a.min() >= -bound and a.max() <= bound and a.std() > bound / 3  # U(-b, b): std b / sqrt(3)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_cell_gradcheck(kind):
    cell = getattr(nn, kind + "Cell")(3, 2).to(dtype=np.float64)
    x = mg.randn(2, 3, dtype=mg.float64, requires_grad=True)
    h = mg.randn(2, 2, dtype=mg.float64, requires_grad=True)
    c = mg.randn(2, 2, dtype=mg.float64, requires_grad=True)
    params = list(cell.parameters())
    if kind == "LSTM":

        def fn(*_):
            h1, c1 = cell(x, (h, c))
            return mg.concatenate([h1, c1 * 2], axis=-1)

        mg.gradcheck(fn, [x, h, c, *params], in_place=True)
        mg.gradgradcheck(fn, [x, h, c], in_place=True)
    else:
        fn = lambda *_: cell(x, h)  # noqa: E731
        mg.gradcheck(fn, [x, h, *params], in_place=True)
        mg.gradgradcheck(fn, [x, h], in_place=True)


def test_cell_errors_name_the_layer():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ShapeError, match="LSTMCell.*input_size=3"):
        cell(mg.randn(2, 5))
    with pytest.raises(ShapeError, match="LSTMCell: hidden state 1"):
        cell(mg.randn(2, 3), (mg.randn(2, 4), mg.randn(3, 4)))
    with pytest.raises(ArgumentError, match="LSTMCell: hx must be a tuple"):
        cell(mg.randn(2, 3), (mg.randn(2, 4),))
    with pytest.raises(ArgumentError, match="unknown nonlinearity 'gelu'"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(ArgumentError, match="hidden_size"):
        nn.GRUCell(3, 0)
    with pytest.raises(ShapeError, match="GRUCell"):
        nn.GRUCell(3, 4)(mg.randn(2, 2, 3))


# --- sequence layers ---------------------------------------------------------------------------------------------


def _expected_keys(num_layers, bidirectional, bias=True):
    keys = []
    for layer in range(num_layers):
        for sfx in ["", "_reverse"] if bidirectional else [""]:
            names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else [])
            keys += [f"{n}_l{layer}{sfx}" for n in names]
    return keys


@pytest.mark.parametrize("kind,gates", [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_state_dict_keys_and_shapes_as_pytorch(kind, gates):
    # PyTorch's documented keys: for each layer, each direction: weight_ih_l{k}[_reverse], weight_hh, bias_ih, bias_hh
    m = getattr(nn, kind)(10, 20, num_layers=2, bidirectional=True)
    sd = m.state_dict()
    assert list(sd) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
        "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
    ]  # fmt: skip
    g = gates * 20
    assert sd["weight_ih_l0"].shape == (g, 10) and sd["weight_ih_l0_reverse"].shape == (g, 10)
    assert sd["weight_ih_l1"].shape == (g, 40) and sd["weight_hh_l1_reverse"].shape == (g, 20)
    assert sd["bias_hh_l1"].shape == (g,)
    assert list(getattr(nn, kind)(3, 4, num_layers=3, bias=False).state_dict()) == _expected_keys(3, False, False)
    assert [len(w) for w in m.all_weights] == [4, 4, 4, 4]
    bound = 1 / np.sqrt(20)
    assert all(np.abs(p.numpy()).max() <= bound for p in m.parameters())


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_strict_load_of_numpy_state_dict_gives_reference_outputs(kind):
    rng = np.random.default_rng(3)
    m = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True).to(dtype=np.float64)
    arrays = {k: rng.uniform(-0.5, 0.5, v.shape) for k, v in m.state_dict().items()}
    m.load_state_dict(arrays, strict=True)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), arrays[k])
    x = rng.standard_normal((5, 2, 3))
    out, _ = m(mg.tensor(x))
    zeros = [np.zeros((2, 4))] * 4
    init = [(z, z) for z in zeros] if kind == "LSTM" else zeros
    want, _ = np_sequence(kind, arrays, x, init, 2, True)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    bad = dict(arrays)
    del bad["bias_hh_l1_reverse"]
    with pytest.raises(nn.StateDictError, match="missing key: bias_hh_l1_reverse"):
        m.load_state_dict(bad)
    with pytest.raises(nn.StateDictError, match="weight_ih_l1"):
        m.load_state_dict({**arrays, "weight_ih_l1": np.zeros((1, 1))})


@settings(max_examples=12)
@given(
    kind=st.sampled_from(["RNN", "RNN_relu", "LSTM", "GRU"]),
    length=st.integers(1, 4),
    batch=st.integers(1, 3),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    batch_first=st.booleans(),
    unbatched=st.booleans(),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_sequence_forward_matches_numpy(kind, length, batch, num_layers, bidirectional, batch_first, unbatched,
                                        bias, seed):  # fmt: skip
    rng = np.random.default_rng(seed)
    act = _relu if kind == "RNN_relu" else np.tanh
    extra = {"nonlinearity": "relu"} if kind == "RNN_relu" else {}
    kind = kind.split("_")[0]
    m = getattr(nn, kind)(3, 2, num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional, **extra)
    m = m.to(dtype=np.float64)
    sd = _sd_numpy(m)
    if not bias:
        for key in list(sd):
            if key.startswith("weight_ih"):
                sd[key.replace("weight_ih", "bias_ih")] = sd[key.replace("weight_ih", "bias_hh")] = 0.0
    dirs = 2 if bidirectional else 1
    x = rng.standard_normal((length, batch, 3))
    h0 = rng.standard_normal((dirs * num_layers, batch, 2))
    c0 = rng.standard_normal((dirs * num_layers, batch, 2))
    states = [(h0[k], c0[k]) for k in range(len(h0))] if kind == "LSTM" else list(h0)
    want, finals = np_sequence(kind, sd, x, states, num_layers, bidirectional, act)
    if unbatched:
        xin, hin, cin = x[:, 0], h0[:, 0], c0[:, 0]
        want, finals = want[:, 0], [tuple(s[0] for s in f) if kind == "LSTM" else f[0] for f in finals]
    else:
        xin, hin, cin = (x.transpose(1, 0, 2) if batch_first else x), h0, c0
    hx = (mg.tensor(hin), mg.tensor(cin)) if kind == "LSTM" else mg.tensor(hin)
    out, hn = m(mg.tensor(xin), hx)
    if batch_first and not unbatched:
        want = want.transpose(1, 0, 2)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-11, atol=1e-12)
    if kind == "LSTM":
        np.testing.assert_allclose(hn[0].numpy(), np.stack([f[0] for f in finals]), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(hn[1].numpy(), np.stack([f[1] for f in finals]), rtol=1e-11, atol=1e-12)
    else:
        np.testing.assert_allclose(hn.numpy(), np.stack(finals), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_two_layer_bidirectional_gradcheck(kind, batch_first):
    m = getattr(nn, kind)(2, 2, num_layers=2, bidirectional=True, batch_first=batch_first).to(dtype=np.float64)
    x = mg.randn(2, 3, 2, dtype=mg.float64, requires_grad=True)
    h0 = mg.randn(4, 2 if batch_first else 3, 2, dtype=mg.float64, requires_grad=True)
    if kind == "LSTM":
        c0 = mg.randn(*h0.shape, dtype=mg.float64, requires_grad=True)

        def fn(*_):
            out, (h, c) = m(x, (h0, c0))
            return mg.concatenate([out.reshape(-1), h.reshape(-1), c.reshape(-1)])

        inputs = [x, h0, c0]
    else:

        def fn(*_):
            out, h = m(x, h0)
            return mg.concatenate([out.reshape(-1), h.reshape(-1)])

        inputs = [x, h0]
    mg.gradcheck(fn, [*inputs, *m.parameters()], in_place=True)


def test_lstm_second_order():
    m = nn.LSTM(2, 2, num_layers=2, bidirectional=True).to(dtype=np.float64)
    x = mg.randn(3, 1, 2, dtype=mg.float64, requires_grad=True)
    mg.gradgradcheck(lambda *_: m(x)[0], [x], in_place=True)


def test_dropout_between_layers_only_in_training():
    m = nn.GRU(3, 4, num_layers=2, dropout=0.5).to(dtype=np.float64)
    x = mg.randn(5, 2, 3, dtype=mg.float64)
    m.eval()
    a, b = m(x)[0].numpy(), m(x)[0].numpy()
    np.testing.assert_array_equal(a, b)
    ref = nn.GRU(3, 4, num_layers=2).to(dtype=np.float64)
    ref.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(ref(x)[0].numpy(), a)
    m.train()
    assert not np.allclose(m(x)[0].numpy(), a)
    single = nn.GRU(3, 4, num_layers=1, dropout=0.5).to(dtype=np.float64)  # nothing between layers: no dropout
    ref1 = nn.GRU(3, 4).to(dtype=np.float64)
    ref1.load_state_dict(single.state_dict())
    np.testing.assert_array_equal(single(x)[0].numpy(), ref1(x)[0].numpy())


def test_sequence_errors():
    m = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ShapeError, match="LSTM: input has 5 features"):
        m(mg.randn(2, 1, 5))
    with pytest.raises(ShapeError, match=r"LSTM: initial state 1 has shape \(2, 1, 3\), expected \(2, 1, 4\)"):
        m(mg.randn(2, 1, 3), (mg.zeros(2, 1, 4), mg.zeros(2, 1, 3)))
    with pytest.raises(ArgumentError, match="LSTM: hx must be a tuple"):
        m(mg.randn(2, 1, 3), mg.zeros(2, 1, 4))
    with pytest.raises(ArgumentError, match="GRU: hx must be a single Tensor"):
        nn.GRU(3, 4)(mg.randn(2, 1, 3), (mg.zeros(1, 1, 4), mg.zeros(1, 1, 4)))
    with pytest.raises(ShapeError, match="RNN: expected input of shape"):
        nn.RNN(3, 4)(mg.randn(2, 1, 1, 3))
    with pytest.raises(ShapeError, match="empty"):
        nn.RNN(3, 4)(mg.randn(0, 1, 3))
    with pytest.raises(ArgumentError, match="LSTM: proj_size has to be smaller than hidden_size, got proj_size=4"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ArgumentError, match="LSTM: proj_size should be a positive integer or zero"):
        nn.LSTM(3, 4, proj_size=-1)
    with pytest.raises(ArgumentError, match="proj_size should be a positive integer or zero .* got 1.5"):
        nn.LSTM(3, 4, proj_size=1.5)
    with pytest.raises(ArgumentError, match="dropout"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ArgumentError, match="num_layers"):
        nn.GRU(3, 4, num_layers=0)
    with pytest.raises(ArgumentError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


def test_positional_arguments_as_pytorch():
    r = nn.RNN(3, 4, 2, "relu")  # RNN(input_size, hidden_size, num_layers, nonlinearity, ...)
    assert r.num_layers == 2 and r.nonlinearity == "relu"
    lstm = nn.LSTM(3, 4, 2, False, True, 0.0, True)
    assert not lstm.bias and lstm.batch_first and lstm.bidirectional
    assert repr(lstm) == "LSTM(3, 4, num_layers=2, bias=False, batch_first=True, bidirectional=True)"


def _bptt_peak(length):
    m = nn.LSTM(4, 8)
    x = mg.randn(length, 2, 4, requires_grad=True)
    tracemalloc.start()
    out, (h, c) = m(x)
    (out.sum() + c.sum()).backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert x.grad.shape == x.shape and np.isfinite(x.grad.numpy()).all()
    assert all(p.grad is not None for p in m.parameters())
    return peak


def test_backward_through_1000_steps_without_recursion_and_linear_memory():
    short, long = _bptt_peak(250), _bptt_peak(1000)
    assert long < 6 * short, (short, long)  # 4x the steps: about 4x the memory, not 16x


# --- LSTM with projections (proj_size, #17) -----------------------------------------------------------------------


def np_lstm_proj_sequence(sd, x, states, num_layers, bidirectional, bias=True):
    """PyTorch's documented LSTM with projections: h_t = W_hr (o_t * tanh(c_t)); x (L, N, H_in)."""
    dirs = 2 if bidirectional else 1
    finals = []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh, w_hr = sd["weight_ih" + sfx], sd["weight_hh" + sfx], sd["weight_hr" + sfx]
            b = sd["bias_ih" + sfx] + sd["bias_hh" + sfx] if bias else 0.0
            h, c = states[layer * dirs + d]
            n = c.shape[-1]
            hs = [None] * len(x)
            for t in range(len(x)) if d == 0 else range(len(x) - 1, -1, -1):
                gates = x[t] @ w_ih.T + h @ w_hh.T + b
                i, f, g, o = (gates[..., k * n : (k + 1) * n] for k in range(4))
                c = _sig(f) * c + _sig(i) * np.tanh(g)
                h = (_sig(o) * np.tanh(c)) @ w_hr.T
                hs[t] = h
            finals.append((h, c))
            outs.append(np.stack(hs))
        x = np.concatenate(outs, axis=-1)
    return x, finals


def test_lstm_proj_size_parameter_names_shapes_init_and_repr():
    m = nn.LSTM(4, 6, num_layers=2, proj_size=3, bidirectional=True)
    shapes = [(name, tuple(p.shape)) for name, p in m.named_parameters()]
    expected = []
    for layer, inputs in ((0, 4), (1, 6)):  # a later layer takes both directions' projected h: 2 * 3
        for sfx in ("", "_reverse"):
            expected += [(f"weight_ih_l{layer}{sfx}", (24, inputs)), (f"weight_hh_l{layer}{sfx}", (24, 3)),
                         (f"bias_ih_l{layer}{sfx}", (24,)), (f"bias_hh_l{layer}{sfx}", (24,)),
                         (f"weight_hr_l{layer}{sfx}", (3, 6))]  # fmt: skip
    assert shapes == expected and list(m.state_dict()) == [name for name, _ in expected]
    assert [len(w) for w in m.all_weights] == [5, 5, 5, 5] and m.all_weights[1][4] is m.weight_hr_l0_reverse
    assert all(np.abs(p.numpy()).max() <= 1 / np.sqrt(6) for p in m.parameters())  # U(+-1/sqrt(hidden_size))
    assert repr(m) == "LSTM(4, 6, proj_size=3, num_layers=2, bidirectional=True)" and m.proj_size == 3
    no_bias = nn.LSTM(4, 6, proj_size=2, bias=False)
    assert [(n, tuple(p.shape)) for n, p in no_bias.named_parameters()] == [
        ("weight_ih_l0", (24, 4)), ("weight_hh_l0", (24, 2)), ("weight_hr_l0", (2, 6))
    ]  # fmt: skip
    assert [len(w) for w in no_bias.all_weights] == [3]
    assert "weight_hr_l0" not in nn.LSTM(4, 6).state_dict()


@settings(max_examples=10)
@given(
    length=st.integers(1, 4),
    batch=st.integers(1, 3),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    batch_first=st.booleans(),
    unbatched=st.booleans(),
    bias=st.booleans(),
    given_state=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_lstm_proj_size_forward_matches_numpy(length, batch, num_layers, bidirectional, batch_first, unbatched, bias,
                                              given_state, seed):  # fmt: skip
    rng = np.random.default_rng(seed)
    hidden, proj = 4, 2
    m = nn.LSTM(3, hidden, num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional,
                proj_size=proj).to(dtype=np.float64)  # fmt: skip
    sd = _sd_numpy(m)
    dirs = 2 if bidirectional else 1
    x = rng.standard_normal((length, batch, 3))
    h0 = rng.standard_normal((dirs * num_layers, batch, proj)) * given_state
    c0 = rng.standard_normal((dirs * num_layers, batch, hidden)) * given_state
    want, finals = np_lstm_proj_sequence(sd, x, list(zip(h0, c0)), num_layers, bidirectional, bias)
    if unbatched:
        xin, hin, cin = x[:, 0], h0[:, 0], c0[:, 0]
        want, finals = want[:, 0], [(h[0], c[0]) for h, c in finals]
    else:
        xin, hin, cin = (x.transpose(1, 0, 2) if batch_first else x), h0, c0
        if batch_first:
            want = want.transpose(1, 0, 2)
    hx = (mg.tensor(hin), mg.tensor(cin)) if given_state else None
    out, (h_n, c_n) = m(mg.tensor(xin), hx)
    assert out.shape == want.shape and want.shape[-1] == dirs * proj
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), np.stack([f[0] for f in finals]), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy(), np.stack([f[1] for f in finals]), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_proj_size_gradcheck_and_second_order(batch_first):
    m = nn.LSTM(2, 3, num_layers=2, bidirectional=True, batch_first=batch_first, proj_size=2).to(dtype=np.float64)
    x = mg.randn(2, 3, 2, dtype=mg.float64, requires_grad=True)
    batch = 2 if batch_first else 3
    h0 = mg.randn(4, batch, 2, dtype=mg.float64, requires_grad=True)
    c0 = mg.randn(4, batch, 3, dtype=mg.float64, requires_grad=True)

    def fn(*_):
        out, (h, c) = m(x, (h0, c0))
        return mg.concatenate([out.reshape(-1), h.reshape(-1), c.reshape(-1)])

    mg.gradcheck(fn, [x, h0, c0, *m.parameters()], in_place=True)
    single = nn.LSTM(2, 3, proj_size=1).to(dtype=np.float64)
    xs = mg.randn(3, 1, 2, dtype=mg.float64, requires_grad=True)
    mg.gradgradcheck(lambda *_: single(xs)[0], [xs, single.weight_hr_l0], in_place=True)


def test_lstm_proj_size_state_errors():
    m = nn.LSTM(3, 4, num_layers=2, proj_size=2)
    x = mg.randn(5, 1, 3)
    with pytest.raises(ShapeError, match=r"LSTM: initial state 0 has shape \(2, 1, 4\), expected \(2, 1, 2\)"):
        m(x, (mg.zeros(2, 1, 4), mg.zeros(2, 1, 4)))  # h_0 has proj_size features, not hidden_size
    with pytest.raises(ShapeError, match=r"LSTM: initial state 1 has shape \(2, 1, 2\), expected \(2, 1, 4\)"):
        m(x, (mg.zeros(2, 1, 2), mg.zeros(2, 1, 2)))
    out, (h, c) = m(x[:, 0], (mg.zeros(2, 2), mg.zeros(2, 4)))  # unbatched
    assert out.shape == (5, 2) and h.shape == (2, 2) and c.shape == (2, 4)
