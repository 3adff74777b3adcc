"""Parity with PyTorch for minigrad.nn.recurrent's LSTM, with and without projections (proj_size, #17):
parameter names, shapes and order, a PyTorch state dict loaded strictly, then the same outputs, final
states, and gradients of the input, the initial states and every parameter, in float64."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minigrad as mg  # noqa: E402
from minigrad import nn  # noqa: E402

CONFIGS = [
    {"proj_size": 3},
    {"proj_size": 2, "num_layers": 2},
    {"proj_size": 2, "num_layers": 2, "bidirectional": True},
    {"proj_size": 1, "bias": False, "batch_first": True},
    {"proj_size": 3, "num_layers": 3, "bidirectional": True, "batch_first": True},
    {"num_layers": 2, "bidirectional": True},  # no projection: the same path without weight_hr
]


@pytest.mark.parametrize("kwargs", CONFIGS)
@pytest.mark.parametrize("unbatched, given_state", [(False, True), (False, False), (True, True)])
def test_lstm_matches_torch(kwargs, unbatched, given_state):
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(4, 5, **kwargs).double()
    ours = nn.LSTM(4, 5, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    assert [len(w) for w in ours.all_weights] == [len(w) for w in theirs.all_weights]
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    ours.to(dtype=mg.float64)
    assert ours.load_state_dict(state, strict=True) == ([], [])

    rng = np.random.default_rng(1)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    h_size = kwargs.get("proj_size", 0) or 5
    batch, length = 3, 4
    if unbatched:
        x = rng.standard_normal((length, 4))
        h0, c0 = rng.standard_normal((layers, h_size)), rng.standard_normal((layers, 5))
    else:
        x = rng.standard_normal((batch, length, 4) if kwargs.get("batch_first") else (length, batch, 4))
        h0, c0 = rng.standard_normal((layers, batch, h_size)), rng.standard_normal((layers, batch, 5))
    xs = [mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)]
    states = [(mg.tensor(h0, requires_grad=True), mg.tensor(c0, requires_grad=True)),
              (torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True))]  # fmt: skip
    out_o, (h_o, c_o) = ours(xs[0], states[0] if given_state else None)
    out_t, (h_t, c_t) = theirs(xs[1], states[1] if given_state else None)
    for a, b in ((out_o, out_t), (h_o, h_t), (c_o, c_t)):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    w_out, w_h, w_c = (rng.standard_normal(tuple(t.shape)) for t in (out_t, h_t, c_t))
    ((out_o * mg.tensor(w_out)).sum() + (h_o * mg.tensor(w_h)).sum() + (c_o * mg.tensor(w_c)).sum()).backward()
    ((out_t * torch.tensor(w_out)).sum() + (h_t * torch.tensor(w_h)).sum() + (c_t * torch.tensor(w_c)).sum()).backward()
    pairs = [(xs[0], xs[1])]
    if given_state:
        pairs += list(zip(states[0], states[1]))
    pairs += list(zip(ours.parameters(), theirs.parameters()))
    for a, b in pairs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_lstm_proj_size_errors_as_torch():
    for proj in (5, 7, -1):
        with pytest.raises(ValueError, match="proj_size"):
            torch.nn.LSTM(4, 5, proj_size=proj)
        with pytest.raises(ValueError, match="proj_size"):  # minigrad's ArgumentError is a ValueError
            nn.LSTM(4, 5, proj_size=proj)
