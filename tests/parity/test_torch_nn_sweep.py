"""Parity with PyTorch of the #17 sweep: nn.utils.rnn and the recurrent layers on packed batches (outputs,
h_n/c_n, gradients), RMSNorm, gumbel_softmax's hard/soft forms, channel_shuffle, grid_sample/affine_grid, ...
PyTorch state dicts are loaded strictly (as NumPy arrays) so both libraries run the same weights."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F  # noqa: F401
from minigrad.nn.utils import rnn as R

torch = pytest.importorskip("torch")
TR = torch.nn.utils.rnn


def _load(ours, theirs):
    missing, unexpected = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert not missing and not unexpected
    assert list(ours.state_dict()) == list(theirs.state_dict())


# --- nn.utils.rnn ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 3)) for n in (2, 5, 1)]
    ours = R.pad_sequence([mg.tensor(a) for a in arrays], batch_first, -1.0, side)
    theirs = TR.pad_sequence([torch.tensor(a) for a in arrays], batch_first, -1.0, side)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 3], [3, 3, 3, 3], [1, 4, 4, 2]])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_packed(lengths, batch_first):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5, 2) if batch_first else (5, 4, 2))
    sorted_ = lengths == sorted(lengths, reverse=True)
    ours = R.pack_padded_sequence(mg.tensor(x), lengths, batch_first, enforce_sorted=sorted_)
    theirs = TR.pack_padded_sequence(torch.tensor(x), lengths, batch_first, enforce_sorted=sorted_)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    for a, b in ((ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (a is None) == (b is None) and (a is None or a.tolist() == b.tolist())
    pa, la = R.pad_packed_sequence(ours, batch_first, 0.25, total_length=7)
    pb, lb = TR.pad_packed_sequence(theirs, batch_first, 0.25, total_length=7)
    np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    assert la.tolist() == lb.tolist() and la.dtype == np.int64
    for a, b in zip(R.unpack_sequence(ours), TR.unpack_sequence(theirs)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert repr(R.pack_sequence([mg.tensor([1.0, 2.0]), mg.tensor([3.0])])) == repr(
        TR.pack_sequence([torch.tensor([1.0, 2.0]), torch.tensor([3.0])])
    )


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 3]])
@pytest.mark.parametrize("with_hx", [False, True])
def test_recurrent_on_packed(kind, bidirectional, lengths, with_hx):
    rng = np.random.default_rng(2)
    layers, dirs = 2, 2 if bidirectional else 1
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=layers, bidirectional=bidirectional).double()
    ours = getattr(nn, kind)(3, 4, num_layers=layers, bidirectional=bidirectional, dtype=np.float64)
    _load(ours, theirs)
    sorted_ = lengths == sorted(lengths, reverse=True)
    x = rng.standard_normal((5, 4, 3))
    h0, c0 = rng.standard_normal((2, layers * dirs, 4, 4))
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    th, mh = torch.tensor(h0, requires_grad=True), mg.tensor(h0, requires_grad=True)
    tc, mc = torch.tensor(c0, requires_grad=True), mg.tensor(c0, requires_grad=True)
    t_hx = ((th, tc) if kind == "LSTM" else th) if with_hx else None
    m_hx = ((mh, mc) if kind == "LSTM" else mh) if with_hx else None
    t_out, t_hn = theirs(TR.pack_padded_sequence(tx, lengths, enforce_sorted=sorted_), t_hx)
    m_out, m_hn = ours(R.pack_padded_sequence(mx, lengths, enforce_sorted=sorted_), m_hx)
    t_states = t_hn if kind == "LSTM" else (t_hn,)
    m_states = m_hn if kind == "LSTM" else (m_hn,)
    np.testing.assert_allclose(m_out.data.numpy(), t_out.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(m_states, t_states):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(t_out.data.shape)
    ws = [rng.standard_normal(s.shape) for s in t_states]
    t_loss = (t_out.data * torch.tensor(w)).sum() + sum((s * torch.tensor(v)).sum() for s, v in zip(t_states, ws))
    m_loss = (m_out.data * mg.tensor(w)).sum() + sum((s * mg.tensor(v)).sum() for s, v in zip(m_states, ws))
    t_loss.backward()
    m_loss.backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    if with_hx:
        np.testing.assert_allclose(mh.grad.numpy(), th.grad.numpy(), rtol=1e-9, atol=1e-12)
        if kind == "LSTM":
            np.testing.assert_allclose(mc.grad.numpy(), tc.grad.numpy(), rtol=1e-9, atol=1e-12)
    ours_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours_params[name].grad.numpy(), p.grad.numpy(), rtol=1e-9, atol=1e-12)
