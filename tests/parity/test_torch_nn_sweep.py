"""Parity with PyTorch of the #17 sweep: nn.utils.rnn and the recurrent layers on packed batches (outputs,
h_n/c_n, gradients), RMSNorm, gumbel_softmax's hard/soft forms, channel_shuffle, grid_sample/affine_grid, ...
PyTorch state dicts are loaded strictly (as NumPy arrays) so both libraries run the same weights."""

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
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


# --- RMSNorm, channel_shuffle, gumbel_softmax, softmax defaults, Tensor methods ----------------------------------


@pytest.mark.parametrize("eps", [None, 1e-5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rmsnorm(eps, dtype):
    rng = np.random.default_rng(3)
    theirs = torch.nn.RMSNorm([3, 4], eps=eps, dtype=getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.standard_normal((3, 4)).astype(dtype)))
    ours = nn.RMSNorm([3, 4], eps=eps, dtype=dtype)
    _load(ours, theirs)
    assert repr(ours) == repr(theirs)
    x = (rng.standard_normal((2, 3, 4)) * 1e-3).astype(dtype)
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    w = rng.standard_normal((2, 3, 4)).astype(dtype)
    (theirs(tx) * torch.tensor(w)).sum().backward()
    out = ours(mx)
    (out * mg.tensor(w)).sum().backward()
    tol = dict(rtol=2e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), theirs(tx).detach().numpy(), **tol)
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), **tol)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), **tol)
    np.testing.assert_allclose(
        F.rms_norm(mg.tensor(x), (4,)).numpy(), torch.nn.functional.rms_norm(torch.tensor(x), (4,)).numpy(), **tol
    )
    assert repr(nn.RMSNorm(5, elementwise_affine=False)) == repr(torch.nn.RMSNorm(5, elementwise_affine=False))


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((1, 8, 2, 2), 4), ((2, 4, 1, 2, 3), 2)])
def test_channel_shuffle(shape, groups):
    x = np.random.default_rng(4).standard_normal(shape)
    np.testing.assert_array_equal(
        F.channel_shuffle(mg.tensor(x), groups).numpy(), torch.nn.functional.channel_shuffle(torch.tensor(x), groups)
    )
    assert repr(nn.ChannelShuffle(groups)) == repr(torch.nn.ChannelShuffle(groups))


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_given_the_same_noise(hard):
    """The two libraries draw different noise; with torch's exponential_ draws replayed into ours the
    samples and the straight-through gradients are the same."""
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((4, 6))
    torch.manual_seed(0)
    noise = torch.empty(4, 6, dtype=torch.float64).exponential_()
    torch.manual_seed(0)
    tx = torch.tensor(logits, requires_grad=True)
    theirs = torch.nn.functional.gumbel_softmax(tx, tau=0.7, hard=hard, dim=0)
    mx = mg.tensor(logits, requires_grad=True)
    original = mg.Tensor.exponential_

    def replay(self, *args, **kwargs):
        self.array[...] = noise.numpy()
        return self

    mg.Tensor.exponential_ = replay
    try:
        ours = F.gumbel_softmax(mx, tau=0.7, hard=hard, dim=0)
    finally:
        mg.Tensor.exponential_ = original
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-15)
    w = rng.standard_normal((4, 6))
    (theirs * torch.tensor(w)).sum().backward()
    (ours * mg.tensor(w)).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_implicit_dim_and_empty(shape):
    x = np.random.default_rng(6).standard_normal(shape)
    for ours_fn, theirs_fn in (
        (F.softmax, torch.nn.functional.softmax),
        (F.log_softmax, torch.nn.functional.log_softmax),
    ):
        with pytest.warns(UserWarning):
            ours = ours_fn(mg.tensor(x))
        with pytest.warns(UserWarning):
            theirs = theirs_fn(torch.tensor(x))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-15)
    for empty, dim in (((2, 0), 1), ((0, 3), 1), ((2, 0, 3), 1)):
        assert mg.softmax(mg.zeros(empty), dim=dim).shape == tuple(torch.softmax(torch.zeros(empty), dim).shape)


def test_tensor_methods():
    x = np.array([[-1.0, 0.2, 2.0], [0.7, -0.4, -3.0]])
    w = np.array([0.25, 0.5, 0.1])
    np.testing.assert_allclose(mg.tensor(x).prelu(mg.tensor(w)).numpy(), torch.tensor(x).prelu(torch.tensor(w)))
    np.testing.assert_allclose(mg.tensor(x).hardshrink(0.3).numpy(), torch.tensor(x).hardshrink(0.3))
    np.testing.assert_allclose(mg.tensor(x).relu_().numpy(), torch.tensor(x).relu_())


# --- Buffer, weight_norm, spectral_norm ---------------------------------------------------------------------------


def test_buffer_and_non_persistent_state_dict():
    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)
            self.count = torch.nn.Buffer(torch.zeros(()))
            self.cache = torch.nn.Buffer(torch.zeros(3), persistent=False)
            self.register_buffer("extra", torch.ones(1), persistent=False)

    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.count = nn.Buffer(mg.zeros(()))
            self.cache = nn.Buffer(mg.zeros(3), persistent=False)
            self.register_buffer("extra", mg.ones(1), persistent=False)

    theirs, ours = Theirs(), Ours()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    _load(ours, theirs)


@pytest.mark.parametrize("dim", [0, 1, None, -2])
def test_weight_norm(dim):
    rng = np.random.default_rng(7)
    with pytest.warns(FutureWarning):
        theirs = torch.nn.utils.weight_norm(torch.nn.Conv2d(2, 3, 3).double(), dim=dim)
    with pytest.warns(FutureWarning):
        ours = nn.utils.weight_norm(nn.Conv2d(2, 3, 3).to(dtype=np.float64), dim=dim)
    _load(ours, theirs)
    x = rng.standard_normal((2, 2, 5, 5))
    t_out, m_out = theirs(torch.tensor(x)), ours(mg.tensor(x))
    np.testing.assert_allclose(m_out.numpy(), t_out.detach().numpy(), rtol=1e-12, atol=1e-13)
    (t_out**2).sum().backward()
    (m_out**2).sum().backward()
    for name in ("weight_g", "weight_v", "bias"):
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), getattr(theirs, name).grad.numpy(), rtol=1e-10)
    torch.nn.utils.remove_weight_norm(theirs)
    nn.utils.remove_weight_norm(ours)
    _load(ours, theirs)


@pytest.mark.parametrize("make", ["linear", "conv", "conv_transpose"])
@pytest.mark.parametrize("iterations", [1, 3])
def test_spectral_norm_training_and_eval(make, iterations):
    rng = np.random.default_rng(8)
    ctor = {"linear": ("Linear", (3, 4), (2, 3)), "conv": ("Conv2d", (2, 3, 2), (1, 2, 4, 4)),
            "conv_transpose": ("ConvTranspose2d", (3, 5, 2), (1, 3, 4, 4))}[make]  # fmt: skip
    theirs = torch.nn.utils.spectral_norm(getattr(torch.nn, ctor[0])(*ctor[1]).double(), n_power_iterations=iterations)
    ours = nn.utils.spectral_norm(getattr(nn, ctor[0])(*ctor[1]).to(dtype=np.float64), n_power_iterations=iterations)
    _load(ours, theirs)  # the same u, v to start from
    x = rng.standard_normal(ctor[2])
    for _ in range(3):
        t_out, m_out = theirs(torch.tensor(x)), ours(mg.tensor(x))
        np.testing.assert_allclose(m_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        (t_out**2).sum().backward()
        (m_out**2).sum().backward()
        np.testing.assert_allclose(
            ours.weight_orig.grad.numpy(), theirs.weight_orig.grad.numpy(), rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(ours.weight_u.numpy(), theirs.weight_u.numpy(), rtol=1e-10, atol=1e-12)
    theirs.eval()
    ours.eval()
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.weight_v.numpy(), theirs.weight_v.numpy(), rtol=1e-10, atol=1e-12)
    torch.nn.utils.remove_spectral_norm(theirs)
    nn.utils.remove_spectral_norm(ours)
    _load(ours, theirs)


# --- affine_grid / grid_sample ------------------------------------------------------------------------------------


@pytest.mark.parametrize("align", [False, True])
def test_affine_grid(align):
    rng = np.random.default_rng(9)
    for size, theta_shape in (((2, 3, 4, 5), (2, 2, 3)), ((2, 1, 3, 4, 5), (2, 3, 4)), ((1, 1, 1, 2), (1, 2, 3))):
        theta = rng.standard_normal(theta_shape)
        tt, mt = torch.tensor(theta, requires_grad=True), mg.tensor(theta, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_grid = torch.nn.functional.affine_grid(tt, size, align_corners=align)
            m_grid = F.affine_grid(mt, size, align_corners=align)
        np.testing.assert_allclose(m_grid.numpy(), t_grid.detach().numpy(), rtol=1e-12, atol=1e-14)
        w = rng.standard_normal(t_grid.shape)
        (t_grid * torch.tensor(w)).sum().backward()
        (m_grid * mg.tensor(w)).sum().backward()
        np.testing.assert_allclose(mt.grad.numpy(), tt.grad.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample(mode, padding, align):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3, 4, 5))
    grid = rng.uniform(-1.6, 1.6, (2, 3, 6, 2))
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
    mx, mgrid = mg.tensor(x, requires_grad=True), mg.tensor(grid, requires_grad=True)
    theirs = torch.nn.functional.grid_sample(tx, tg, mode, padding, align)
    ours = F.grid_sample(mx, mgrid, mode, padding, align)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-13)
    w = rng.standard_normal(theirs.shape)
    (theirs * torch.tensor(w)).sum().backward()
    (ours * mg.tensor(w)).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-11, atol=1e-13)
    if mode == "nearest":  # PyTorch gives the grid a zero gradient; minigrad leaves it unconnected
        assert mgrid.grad is None and not tg.grad.numpy().any()
    else:
        np.testing.assert_allclose(mgrid.grad.numpy(), tg.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_spatial_transformer_block():
    """pytorch/examples' spatial transformer: localisation net -> theta -> affine_grid -> grid_sample."""
    rng = np.random.default_rng(11)
    theirs = torch.nn.Linear(16, 6).double()
    ours = nn.Linear(16, 6).to(dtype=np.float64)
    _load(ours, theirs)
    x = rng.standard_normal((3, 1, 4, 4))
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    t_theta = theirs(tx.view(3, 16)).view(-1, 2, 3)
    m_theta = ours(mx.reshape(3, 16)).reshape(-1, 2, 3)
    t_out = torch.nn.functional.grid_sample(
        tx, torch.nn.functional.affine_grid(t_theta, tx.size(), False), align_corners=False
    )
    m_out = F.grid_sample(mx, F.affine_grid(m_theta, mx.shape, False), align_corners=False)
    np.testing.assert_allclose(m_out.numpy(), t_out.detach().numpy(), rtol=1e-11, atol=1e-13)
    t_out.pow(2).sum().backward()
    m_out.pow(2).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-9, atol=1e-12)


# --- feature_alpha_dropout, triplet_margin_with_distance_loss, max_unpool1d ------------------------------------------


def test_feature_alpha_dropout_values():
    """Different random draws, so: the same two values per element (kept / dropped) and the same per-channel masks."""
    x = np.random.default_rng(12).standard_normal((6, 5, 4))
    ours = F.feature_alpha_dropout(mg.tensor(x), 0.3, True).numpy()
    theirs = torch.nn.functional.feature_alpha_dropout(torch.tensor(x), 0.3, True).numpy()
    keep_t = ~np.isclose(theirs, theirs[..., :1]).all(-1)
    keep_m = ~np.isclose(ours, ours[..., :1]).all(-1)
    pick = lambda out, keep: (out[keep][..., 0], x[keep][..., 0], out[~keep][..., 0])  # noqa: E731
    (tk, tx, td), (mk, mx, md) = pick(theirs, keep_t), pick(ours, keep_m)
    np.testing.assert_allclose(np.polyfit(tx, tk, 1), np.polyfit(mx, mk, 1), rtol=1e-10)  # the same a x + b
    np.testing.assert_allclose(np.unique(td.round(12)), np.unique(md.round(12)))
    assert repr(nn.FeatureAlphaDropout(0.2)) == repr(torch.nn.FeatureAlphaDropout(0.2))


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_triplet_margin_with_distance_loss(swap, reduction):
    rng = np.random.default_rng(13)
    arrays = [rng.standard_normal((5, 3)) for _ in range(3)]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = F.triplet_margin_with_distance_loss(*ours, margin=0.7, swap=swap, reduction=reduction)
    expected = torch.nn.functional.triplet_margin_with_distance_loss(
        *theirs, margin=0.7, swap=swap, reduction=reduction
    )
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kernel,stride,padding,size", [(2, None, 0, None), (3, 2, 1, [9]), (2, 1, 0, None)])
def test_max_unpool1d(kernel, stride, padding, size):
    x = np.random.default_rng(14).standard_normal((2, 3, 9))
    t_out, t_idx = torch.nn.functional.max_pool1d(torch.tensor(x), kernel, stride, padding, return_indices=True)
    m_out, m_idx = F.max_pool1d(mg.tensor(x), kernel, stride, padding, return_indices=True)
    theirs = torch.nn.functional.max_unpool1d(t_out, t_idx, kernel, stride, padding, size)
    ours = F.max_unpool1d(m_out, m_idx, kernel, stride, padding, size)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert repr(nn.MaxUnpool1d(kernel, stride, padding)) == repr(torch.nn.MaxUnpool1d(kernel, stride, padding))


# --- CTC loss ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("blank", [0, 4])
def test_ctc_loss(reduction, zero_infinity, blank):
    rng = np.random.default_rng(15)
    logits = rng.standard_normal((12, 4, 5))
    labels = [1, 2, 3] if blank == 4 else [1, 2, 4]
    targets = np.array([[labels[0], labels[1], labels[1], labels[2]], [labels[0]] * 4, [labels[2]] * 4,
                        [labels[1], labels[2], labels[0], labels[1]]])  # fmt: skip
    il, tl = [12, 9, 5, 3], [4, 2, 1, 4 if zero_infinity else 0]  # with zero_infinity the last is impossible
    tx, mx = torch.tensor(logits, requires_grad=True), mg.tensor(logits, requires_grad=True)
    theirs = torch.nn.CTCLoss(blank, reduction, zero_infinity)(
        torch.log_softmax(tx, 2), torch.tensor(targets), torch.tensor(il), torch.tensor(tl)
    )
    ours = nn.CTCLoss(blank, reduction, zero_infinity)(mg.log_softmax(mx, dim=2), mg.tensor(targets), il, tl)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
    theirs.sum().backward()
    ours.sum().backward()
    # compared through log_softmax: PyTorch's gradient w.r.t. log_probs adds exp(log_probs), which that removes
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    flat = np.concatenate([targets[n, : tl[n]] for n in range(4)])
    np.testing.assert_allclose(
        F.ctc_loss(mg.tensor(logits).log_softmax(2), flat, il, tl, blank, reduction, zero_infinity).numpy(),
        torch.nn.functional.ctc_loss(torch.tensor(logits).log_softmax(2), torch.tensor(flat), torch.tensor(il),
                                     torch.tensor(tl), blank, reduction, zero_infinity).numpy(),
        rtol=1e-12,
    )  # fmt: skip


# --- lazy modules -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args,kwargs,shape",
    [("LazyLinear", (3,), {}, (2, 5)), ("LazyConv1d", (4, 3), {"bias": False}, (2, 3, 6)),
     ("LazyConv2d", (4, 3), {"padding": 1, "stride": 2}, (2, 3, 5, 5)),
     ("LazyConvTranspose1d", (4, 3), {"stride": 2}, (1, 2, 4)), ("LazyConvTranspose2d", (4, 2), {}, (1, 2, 3, 3)),
     ("LazyBatchNorm1d", (), {}, (4, 3)), ("LazyBatchNorm2d", (), {"affine": False}, (2, 3, 2, 2))],
)  # fmt: skip
def test_lazy_modules(name, args, kwargs, shape):
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64)
    ours = getattr(nn, name)(*args, **kwargs, dtype=np.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(16).standard_normal(shape)
    theirs(torch.tensor(x))
    ours(mg.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    theirs.eval()
    ours.eval()
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    if "BatchNorm" not in name:
        assert repr(ours) == repr(theirs)


# --- nn.utils.parametrizations ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm"])
@pytest.mark.parametrize("make", ["Linear", "Conv2d", "ConvTranspose2d"])
def test_parametrizations(kind, make):
    args, shape = {"Linear": ((3, 4), (2, 3)), "Conv2d": ((2, 3, 3), (1, 2, 5, 5)),
                   "ConvTranspose2d": ((3, 5, 2), (1, 3, 4, 4))}[make]  # fmt: skip
    theirs = getattr(torch.nn.utils.parametrizations, kind)(getattr(torch.nn, make)(*args).double())
    ours = getattr(nn.utils.parametrizations, kind)(getattr(nn, make)(*args).to(dtype=np.float64))
    assert type(ours).__name__ == type(theirs).__name__ and repr(ours) == repr(theirs)
    _load(ours, theirs)
    x = np.random.default_rng(17).standard_normal(shape)
    for _ in range(2):
        t_out, m_out = theirs(torch.tensor(x)), ours(mg.tensor(x))
        np.testing.assert_allclose(m_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        (t_out**2).sum().backward()
        (m_out**2).sum().backward()
        ours_params = dict(ours.named_parameters())
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(ours_params[name].grad.numpy(), p.grad.numpy(), rtol=1e-9, atol=1e-12)
    theirs.eval()
    ours.eval()
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    nn.utils.parametrize.remove_parametrizations(ours, "weight")
    assert type(ours).__name__ == type(theirs).__name__ == make
    _load(ours, theirs)
