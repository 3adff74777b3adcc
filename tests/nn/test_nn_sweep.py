"""The #17 sweep of small nn pieces: RMSNorm / rms_norm, gumbel_softmax, channel_shuffle / ChannelShuffle,
F.softmax's PyTorch defaults (implicit dim, dtype, empty dims), Tensor.prelu / hardshrink / relu_ — checked
against NumPy transcriptions of the documented formulas and by gradcheck in float64 on hypothesis shapes."""

import warnings

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.errors import ArgumentError, GraphError, ShapeError


def _np(t):
    return t.to("cpu").numpy()


# --- RMSNorm ---------------------------------------------------------------------------------------------------------


def np_rms_norm(x, k, weight=None, eps=None):
    eps = np.finfo(x.dtype).eps if eps is None else eps
    axes = tuple(range(x.ndim - k, x.ndim))
    y = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return y if weight is None else y * weight


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rms_norm_matches_formula_with_dtype_eps(dtype, device):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, 3, 4)) * 1e-4).astype(dtype)  # small enough that the default eps matters
    w = rng.standard_normal((3, 4)).astype(dtype)
    got = F.rms_norm(mg.tensor(x, device=device), (3, 4), mg.tensor(w, device=device))
    assert got.dtype == dtype
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(got), np_rms_norm(x, 2, w), **tol)
    # eps=None is finfo(dtype).eps: a zero row gives 0, a tiny one differs from eps=0
    tiny = np.array([[3e-8, -4e-8]], dtype=np.float32)
    np.testing.assert_allclose(F.rms_norm(mg.tensor(tiny), [2]).numpy(), np_rms_norm(tiny, 1), rtol=1e-5)
    assert not np.allclose(F.rms_norm(mg.tensor(tiny), [2]).numpy(), np_rms_norm(tiny, 1, eps=0.0), rtol=1e-3)
    np.testing.assert_array_equal(F.rms_norm(mg.zeros(1, 3), 3).numpy(), np.zeros((1, 3), np.float32))


def test_rmsnorm_module_parameters_state_dict_and_repr():
    m = nn.RMSNorm([3, 4])
    assert m.normalized_shape == (3, 4) and m.eps is None and m.elementwise_affine
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [("weight", (3, 4))]
    np.testing.assert_array_equal(m.weight.numpy(), np.ones((3, 4), np.float32))
    assert repr(m) == "RMSNorm((3, 4), eps=None, elementwise_affine=True)"
    bare = nn.RMSNorm(4, eps=1e-5, elementwise_affine=False)
    assert bare.weight is None and list(bare.state_dict()) == []
    assert repr(bare) == "RMSNorm((4,), eps=1e-05, elementwise_affine=False)"
    x = np.random.default_rng(1).standard_normal((5, 4))
    np.testing.assert_allclose(bare(mg.tensor(x)).numpy(), np_rms_norm(x, 1, eps=1e-5), rtol=1e-12)
    assert nn.RMSNorm(4, dtype=np.float64).weight.dtype == np.float64


def test_rms_norm_errors():
    x = mg.zeros(2, 3)
    with pytest.raises(ShapeError, match=r"normalized_shape=\[4\]"):
        F.rms_norm(x, [4])
    with pytest.raises(ShapeError, match="weight has shape"):
        F.rms_norm(x, [3], mg.ones(4))
    with pytest.raises(ShapeError, match="at least one dimension"):
        F.rms_norm(x, [])
    with pytest.raises(ArgumentError, match="eps"):
        F.rms_norm(x, [3], eps=-1.0)
    assert x.grad_fn is None


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(0, 3), max_size=2), norm=st.lists(st.integers(1, 3), min_size=1, max_size=2),
       eps=st.sampled_from([None, 1e-3]))  # fmt: skip
def test_rms_norm_gradcheck(batch, norm, eps):
    rng = np.random.default_rng(len(batch) + len(norm))
    x = rng.standard_normal((*batch, *norm))
    w = rng.standard_normal(norm)
    check_gradients(lambda x, w: F.rms_norm(x, norm, w, eps), x, w)


def test_rms_norm_second_order():
    x = mg.tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True)
    (g,) = mg.autograd.grad(F.rms_norm(x, 4).pow(3).sum(), x, create_graph=True)
    mg.testing.assert_gradcheck(lambda x: mg.autograd.grad(F.rms_norm(x, 4).pow(3).sum(), x, create_graph=True)[0], x)
    assert g.shape == (3, 4)


# --- gumbel_softmax --------------------------------------------------------------------------------------------------


def _gumbels(shape, dtype, seed):
    """The Gumbel noise gumbel_softmax draws after ``manual_seed(seed)``: -log(E), E from exponential_."""
    with mg.fork_rng():
        mg.manual_seed(seed)
        return -np.log(_np(mg.empty(shape, dtype=dtype).exponential_()))


def _np_softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_gumbel_softmax_soft_and_hard_forms(dim):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((4, 5, 3))
    g = _gumbels(logits.shape, np.float64, 7)
    want = _np_softmax((logits + g) / 0.5, dim)
    with mg.fork_rng():
        mg.manual_seed(7)
        soft = F.gumbel_softmax(mg.tensor(logits), tau=0.5, dim=dim)
    np.testing.assert_allclose(soft.numpy(), want, rtol=1e-12, atol=1e-15)
    with mg.fork_rng():
        mg.manual_seed(7)
        x = mg.tensor(logits, requires_grad=True)
        hard = F.gumbel_softmax(x, tau=0.5, hard=True, dim=dim)
    onehot = (np.arange(logits.shape[dim]).reshape((-1,) + (1,) * (2 - dim % 3)) == np.expand_dims(
        want.argmax(axis=dim), dim)).astype(np.float64)  # fmt: skip
    np.testing.assert_allclose(hard.numpy(), onehot, atol=1e-15)
    # straight-through: the gradient is the soft sample's
    w = rng.standard_normal(logits.shape)
    (hard * mg.tensor(w)).sum().backward()
    s = want
    expected = s * (w - (w * s).sum(axis=dim, keepdims=True)) / 0.5
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_gumbel_softmax_samples_the_softmax_distribution():
    logits = np.log(np.array([0.1, 0.6, 0.3]))
    with mg.fork_rng():
        mg.manual_seed(0)
        hard = F.gumbel_softmax(mg.tensor(np.tile(logits, (20000, 1))), tau=1.0, hard=True)
    freq = hard.numpy().mean(0)
    np.testing.assert_allclose(freq, [0.1, 0.6, 0.3], atol=0.015)  # ~4.5 standard errors
    assert F.gumbel_softmax(mg.zeros(2, 3)).dtype == np.float32


def test_gumbel_softmax_gradcheck():
    logits = np.random.default_rng(4).standard_normal((3, 4))

    def fn(x):
        with mg.fork_rng():
            mg.manual_seed(1)  # the same noise at every evaluation
            return F.gumbel_softmax(x, tau=0.7)

    check_gradients(fn, logits)


def test_gumbel_softmax_errors_and_eps_warning():
    with pytest.raises(ArgumentError, match="tau"):
        F.gumbel_softmax(mg.zeros(3), tau=0.0)
    with pytest.raises(ArgumentError, match="floating"):
        F.gumbel_softmax(mg.tensor([1, 2]))
    with pytest.warns(UserWarning, match="deprecated"):
        F.gumbel_softmax(mg.zeros(3), eps=1e-5)


# --- channel_shuffle -------------------------------------------------------------------------------------------------


def np_channel_shuffle(x, groups):
    n, c = x.shape[:2]
    return x.reshape(n, groups, c // groups, *x.shape[2:]).swapaxes(1, 2).reshape(x.shape)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((1, 8, 2, 2), 2), ((2, 4, 1, 2, 1), 4), ((0, 6, 2), 2)])
def test_channel_shuffle_matches_numpy(shape, groups, device):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    got = F.channel_shuffle(mg.tensor(x, device=device), groups)
    np.testing.assert_array_equal(_np(got), np_channel_shuffle(x, groups))
    np.testing.assert_array_equal(_np(nn.ChannelShuffle(groups)(mg.tensor(x, device=device))), _np(got))
    if shape[0]:
        c = shape[1]
        assert [int(_np(got)[0, j].ravel()[0]) // int(np.prod(shape[2:])) for j in range(c)] == [
            (j % groups) * (c // groups) + j // groups for j in range(c)
        ]


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 2), k=st.integers(1, 3), groups=st.integers(1, 3), rest=st.lists(st.integers(0, 3), min_size=1,
       max_size=2))  # fmt: skip
def test_channel_shuffle_gradcheck(n, k, groups, rest):
    x = np.random.default_rng(n + k).standard_normal((n, k * groups, *rest))
    check_gradients(lambda x: F.channel_shuffle(x, groups), x)


def test_channel_shuffle_errors_and_repr():
    with pytest.raises(ShapeError, match="divisible"):
        F.channel_shuffle(mg.zeros(1, 5, 2), 2)
    with pytest.raises(ArgumentError, match="positive"):
        F.channel_shuffle(mg.zeros(1, 6, 2), 0)
    with pytest.raises(ShapeError, match="> 2 dims"):
        F.channel_shuffle(mg.zeros(1, 6), 2)
    assert repr(nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"


# --- softmax defaults as PyTorch's ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax, mg.softmax, mg.log_softmax])
@pytest.mark.parametrize("shape,dim", [((), 0), ((4,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)])
def test_softmax_implicit_dim_warns_and_follows_pytorch(fn, shape, dim):
    x = np.random.default_rng(5).standard_normal(shape)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        got = fn(mg.tensor(x))
    np.testing.assert_allclose(got.numpy(), fn(mg.tensor(x), dim=dim).numpy(), rtol=0, atol=0)
    want = _np_softmax(x, dim) if x.ndim else np.ones(())
    np.testing.assert_allclose(np.exp(got.numpy()) if "log" in fn.__name__ else got.numpy(), want, rtol=1e-12)


def test_softmax_dtype_positional_dim_and_axis():
    x = mg.tensor([[1.0, 2.0, 3.0]])
    assert F.softmax(x, 1, dtype=mg.float64).dtype == np.float64
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(F.softmax(x, 1).numpy(), F.softmax(x, axis=1).numpy())
        np.testing.assert_allclose(x.softmax(0).numpy(), np.ones((1, 3)))


@pytest.mark.parametrize("shape,dim", [((2, 0), 1), ((0, 3), 1), ((0, 3), 0), ((2, 0, 3), 1)])
def test_softmax_over_empty_dims_is_empty(shape, dim, device):
    for fn in (mg.softmax, mg.log_softmax):
        x = mg.zeros(shape, dtype=mg.float64, device=device, requires_grad=True)
        out = fn(x, dim=dim)
        assert out.shape == shape
        out.sum().backward()
        assert x.grad.shape == shape


# --- Tensor methods -----------------------------------------------------------------------------------------------


def test_tensor_prelu_hardshrink_relu_methods():
    x = np.array([[-1.0, 0.2, 2.0], [0.7, -0.4, -3.0]])
    w = np.array([0.25, 0.5, 0.1])
    np.testing.assert_allclose(mg.tensor(x).prelu(mg.tensor(w)).numpy(), np.where(x > 0, x, w * x))
    np.testing.assert_allclose(mg.tensor(x).hardshrink().numpy(), np.where(np.abs(x) > 0.5, x, 0))
    np.testing.assert_allclose(mg.tensor(x).hardshrink(lambd=0.1).numpy(), np.where(np.abs(x) > 0.1, x, 0))
    t = mg.tensor(x)
    version = t._vc[0]
    assert t.relu_() is t and t._vc[0] == version + 1
    np.testing.assert_array_equal(t.numpy(), np.maximum(x, 0))
    with pytest.raises(ShapeError, match="prelu"):
        mg.tensor(x).prelu(mg.tensor([1.0, 2.0]))
    with pytest.raises(GraphError):
        mg.tensor(x, requires_grad=True).relu_()
    check_gradients(lambda a, b: a.prelu(b), x, w)
    check_gradients(lambda a: a.hardshrink(0.3), x)
    check_gradients(lambda a: (a * 1.0).relu_(), x)


# --- nn.Buffer, non-persistent buffers, forward hooks, Identity ---------------------------------------------------


def test_buffer_assignment_registers_with_its_persistence():
    m = nn.Linear(2, 3)
    m.steps = nn.Buffer(mg.zeros(()))
    m.scratch = nn.Buffer(mg.ones(4), persistent=False)
    m.plain = mg.ones(2)  # a plain tensor stays a plain attribute
    m.register_buffer("cache", mg.zeros(1), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["steps", "scratch", "cache"]
    assert list(m.state_dict()) == ["weight", "bias", "steps"]
    assert isinstance(m.steps, nn.Buffer) and m.steps.persistent and not m.scratch.persistent
    m.scratch = mg.zeros(4)  # a new value keeps the slot non-persistent, as PyTorch
    assert "scratch" not in m.state_dict() and m.scratch.numpy().tolist() == [0, 0, 0, 0]
    m.register_buffer("cache", mg.zeros(1))  # registering again as persistent
    assert list(m.state_dict())[-1] == "cache"
    m.load_state_dict(m.state_dict())
    source = mg.ones(2)
    shared = nn.Buffer(source)
    shared.array[0] = 5
    assert source.numpy()[0] == 5 and not shared.requires_grad and nn.Buffer().shape == (0,)
    with pytest.raises(KeyError):
        m.register_buffer("a.b", mg.zeros(1))
    with pytest.raises(TypeError):
        m.register_buffer("bad", [1.0])


def test_forward_hooks_and_handles():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append("pre") or (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append("post") or out + 1)
    h0 = m.register_forward_pre_hook(lambda mod, args: calls.append("first"), prepend=True)
    out = m(mg.ones(1, 2))
    assert calls == ["first", "pre", "post"]
    np.testing.assert_allclose(out.numpy(), m.bias.numpy()[None] + 1, rtol=1e-6)
    for h in (h0, h1, h2):
        h.remove()
    with m.register_forward_hook(lambda mod, args, out: out * 0):
        assert not m(mg.ones(1, 2)).numpy().any()
    assert not m._forward_hooks and not m._forward_pre_hooks


def test_identity_takes_any_arguments():
    x = mg.ones(2)
    assert nn.Identity(3, unused="x")(x) is x and repr(nn.Identity(54)) == "Identity()"


# --- weight_norm / spectral_norm (classic, hook-based) --------------------------------------------------------------


def _norm_except(v, dim):
    if dim is None:
        return np.sqrt((v * v).sum())
    return np.sqrt((v * v).sum(axis=tuple(k for k in range(v.ndim) if k != dim), keepdims=True))


@pytest.mark.parametrize("dim,g_shape", [(0, (3, 1, 1, 1)), (None, ()), (2, (1, 1, 3, 1)), (-2, (1, 1, 3, 1))])
def test_weight_norm_names_shapes_and_formula(dim, g_shape):
    conv = nn.Conv2d(2, 3, 3).to(dtype=np.float64)
    w0 = conv.weight.numpy().copy()
    with pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.weight_norm(conv, dim=dim)
    assert [(k, tuple(v.shape)) for k, v in conv.state_dict().items()] == [
        ("bias", (3,)), ("weight_g", g_shape), ("weight_v", (3, 2, 3, 3))
    ]  # fmt: skip
    np.testing.assert_allclose(conv.weight_g.numpy(), _norm_except(w0, None if dim is None else dim % 4))
    np.testing.assert_allclose(conv.weight.numpy(), w0, rtol=1e-12)  # g and v start at the weight
    with mg.no_grad():
        conv.weight_g.array[...] *= 2
    x = mg.tensor(np.random.default_rng(0).standard_normal((1, 2, 5, 5)))
    out = conv(x)  # the pre-hook recomputes the weight: g * v / ||v||
    np.testing.assert_allclose(conv.weight.numpy(), 2 * w0, rtol=1e-12)
    out.sum().backward()
    assert conv.weight_g.grad is not None and conv.weight_v.grad is not None
    nn.utils.remove_weight_norm(conv)
    assert list(conv.state_dict()) == ["bias", "weight"] and isinstance(conv.weight, nn.Parameter)
    np.testing.assert_allclose(conv.weight.numpy(), 2 * w0, rtol=1e-12)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(conv)


def test_weight_norm_gradcheck_and_errors():
    lin = nn.Linear(3, 2).to(dtype=np.float64)
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(lin)
    x = np.random.default_rng(1).standard_normal((4, 3))

    def fn(x, g, v):
        lin._parameters.update(weight_g=g, weight_v=v)
        return lin(x)

    check_gradients(fn, x, lin.weight_g.numpy(), lin.weight_v.numpy())
    with pytest.raises(RuntimeError, match="two weight_norm hooks"), pytest.warns(FutureWarning):
        nn.utils.weight_norm(lin)
    with pytest.raises(ValueError, match="no parameter"), pytest.warns(FutureWarning):
        nn.utils.weight_norm(nn.Linear(2, 2), name="nothing")


def _np_normalize(x, eps=1e-12):
    return x / max(np.sqrt((x * x).sum()), eps)


@pytest.mark.parametrize("kind", ["linear", "conv", "conv_transpose"])
def test_spectral_norm_power_iteration_buffers_and_modes(kind):
    make = {"linear": lambda: nn.Linear(3, 4), "conv": lambda: nn.Conv2d(2, 3, 2),
            "conv_transpose": lambda: nn.ConvTranspose2d(3, 5, 2)}[kind]  # fmt: skip
    m = nn.utils.spectral_norm(make().to(dtype=np.float64))
    w = m.weight_orig.numpy()
    mat = (w.swapaxes(0, 1) if kind == "conv_transpose" else w).reshape(
        w.shape[1 if kind == "conv_transpose" else 0], -1
    )
    keys = [(k, tuple(v.shape)) for k, v in m.state_dict().items()]
    assert keys[0][0] == "bias" and keys[1:] == [("weight_orig", w.shape), ("weight_u", (mat.shape[0],)),
                                                 ("weight_v", (mat.shape[1],))]  # fmt: skip
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    np.testing.assert_allclose(np.linalg.norm(m.weight_u.numpy()), 1.0)
    u, v = m.weight_u.numpy().copy(), m.weight_v.numpy().copy()
    x = mg.tensor(
        np.random.default_rng(2).standard_normal(
            (2, 3) if kind == "linear" else (1, w.shape[0 if kind == "conv_transpose" else 1], 4, 4)
        )
    )  # noqa: E501
    for _ in range(3):  # each training forward: one power-iteration step, in place on the buffers
        m(x)
        v = _np_normalize(mat.T @ u)
        u = _np_normalize(mat @ v)
        np.testing.assert_allclose(m.weight_u.numpy(), u, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(m.weight_v.numpy(), v, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(m.weight.numpy(), w / (u @ mat @ v), rtol=1e-10)
    m.eval()
    m(x)  # no power iteration in eval mode
    np.testing.assert_allclose(m.weight_u.numpy(), u, rtol=1e-12)
    left, _, right = np.linalg.svd(mat)  # the fixed point of the power iteration: the top singular pair
    u, v = left[:, 0], right[0]
    with mg.no_grad():
        m.weight_u.array[...] = u
        m.weight_v.array[...] = v
    m(x)
    np.testing.assert_allclose(np.linalg.svd(m.weight.numpy().reshape(mat.shape) if kind != "conv_transpose" else
                                             m.weight.numpy().swapaxes(0, 1).reshape(mat.shape))[1][0], 1.0,
                               rtol=1e-8)  # fmt: skip
    nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(m)


def test_spectral_norm_gradcheck_and_errors():
    m = nn.utils.spectral_norm(nn.Linear(3, 2).to(dtype=np.float64))
    m.eval()  # fixed u, v: the map from weight_orig to the output is a smooth function
    x = np.random.default_rng(3).standard_normal((4, 3))

    def fn(x, w):
        m._parameters["weight_orig"] = w
        return m(x)

    check_gradients(fn, x, m.weight_orig.numpy())
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        nn.utils.spectral_norm(m)
    with pytest.raises(ValueError, match="n_power_iterations"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


# --- affine_grid / grid_sample ---------------------------------------------------------------------------------------


def np_affine_grid(theta, size, align):
    n, _, h, w = size

    def line(k):
        if k == 1:
            return np.zeros(1)
        pts = np.linspace(-1, 1, k)
        return pts if align else pts * (k - 1) / k

    ys, xs = np.meshgrid(line(h), line(w), indexing="ij")
    base = np.stack([xs, ys, np.ones_like(xs)], -1)  # (H, W, 3)
    return np.einsum("hwk,nck->nhwc", base, theta)


def np_grid_sample(x, grid, mode, padding, align):
    """A per-point transcription of the documented sampling rule (bilinear, nearest, bicubic with A = -0.75)."""
    n, c, h, w = x.shape
    out = np.zeros((n, c) + grid.shape[1:3])

    def unnormalize(g, size):
        return (g + 1) / 2 * (size - 1) if align else ((g + 1) * size - 1) / 2

    def pad(p, size):
        if padding == "border":
            p = min(max(p, 0), size - 1)
        elif padding == "reflection":
            lo, hi = (0, size - 1) if align else (-0.5, size - 0.5)
            if hi == lo:
                p = 0.0
            else:
                span = hi - lo
                d = abs(p - lo)
                flips, extra = np.floor(d / span), d % span
                p = extra + lo if flips % 2 == 0 else span - extra + lo
            p = min(max(p, 0), size - 1)
        return p

    def pixel(b, yy, xx):
        return x[b, :, yy, xx] if 0 <= yy < h and 0 <= xx < w else np.zeros(c)

    def cubic(t):  # the taps at -1, 0, 1, 2 of the cubic convolution kernel, A = -0.75
        a = -0.75
        near = lambda d: ((a + 2) * d - (a + 3)) * d * d + 1  # noqa: E731
        far = lambda d: ((a * d - 5 * a) * d + 8 * a) * d - 4 * a  # noqa: E731
        return [far(t + 1), near(t), near(1 - t), far(2 - t)]

    for b in range(n):
        for i in range(grid.shape[1]):
            for j in range(grid.shape[2]):
                gx, gy = grid[b, i, j]
                if mode == "bicubic":  # padding applies to each tap's integer coordinate
                    px, py = unnormalize(gx, w), unnormalize(gy, h)
                    x0, y0 = np.floor(px), np.floor(py)
                    wx, wy = cubic(px - x0), cubic(py - y0)
                    for a_ in range(4):
                        for b_ in range(4):
                            yy, xx = int(pad(y0 - 1 + a_, h)), int(pad(x0 - 1 + b_, w))
                            out[b, :, i, j] += wy[a_] * wx[b_] * pixel(b, yy, xx)
                    continue
                px, py = pad(unnormalize(gx, w), w), pad(unnormalize(gy, h), h)
                if mode == "nearest":
                    out[b, :, i, j] = pixel(b, int(np.rint(py)), int(np.rint(px)))
                    continue
                x0, y0 = int(np.floor(px)), int(np.floor(py))
                tx, ty = px - x0, py - y0
                top = (1 - tx) * pixel(b, y0, x0) + tx * pixel(b, y0, x0 + 1)
                bottom = (1 - tx) * pixel(b, y0 + 1, x0) + tx * pixel(b, y0 + 1, x0 + 1)
                out[b, :, i, j] = (1 - ty) * top + ty * bottom
    return out


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 2, 3, 1)])
def test_affine_grid_matches_formula(align, size, device):
    theta = np.random.default_rng(6).standard_normal((size[0], 2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's unit-size warning with align_corners
        got = F.affine_grid(mg.tensor(theta, device=device), size, align_corners=align)
    assert got.shape == (size[0], size[2], size[3], 2)
    np.testing.assert_allclose(_np(got), np_affine_grid(theta, size, align), rtol=1e-12, atol=1e-14)
    identity = np.tile(np.array([[1.0, 0, 0], [0, 1, 0]]), (size[0], 1, 1))
    sampled = F.grid_sample(
        mg.tensor(np.ones(size)), F.affine_grid(mg.tensor(identity), size, False), align_corners=False
    )
    np.testing.assert_allclose(sampled.numpy(), np.ones(size), rtol=1e-12)  # the identity map reads every pixel


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample_matches_reference(mode, padding, align, device):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4, 5))
    grid = rng.uniform(-1.7, 1.7, (2, 3, 6, 2))
    got = F.grid_sample(mg.tensor(x, device=device), mg.tensor(grid, device=device), mode, padding, align)
    np.testing.assert_allclose(_np(got), np_grid_sample(x, grid, mode, padding, align), rtol=1e-12, atol=1e-13)


def test_grid_sample_bicubic_reproduces_constants():
    """The cubic convolution weights sum to 1: a constant image reads as that constant inside the image."""
    rng = np.random.default_rng(8)
    grid = rng.uniform(-0.4, 0.4, (1, 4, 4, 2))
    got = F.grid_sample(mg.tensor(np.full((1, 2, 8, 9), 2.5)), mg.tensor(grid), "bicubic", "border", False)
    np.testing.assert_allclose(got.numpy(), np.full((1, 2, 4, 4), 2.5), rtol=1e-13)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 2), c=st.integers(0, 2), hw=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       out=st.tuples(st.integers(0, 2), st.integers(1, 3)), mode=st.sampled_from(["bilinear", "bicubic"]),
       padding=st.sampled_from(["zeros", "border", "reflection"]), align=st.booleans())  # fmt: skip
def test_grid_sample_gradcheck(n, c, hw, out, mode, padding, align):
    rng = np.random.default_rng(n + 3 * c + hw[0])
    x = rng.standard_normal((n, c, *hw))
    grid = rng.uniform(-1.3, 1.3, (n, *out, 2))
    check_gradients(lambda x, g: F.grid_sample(x, g, mode, padding, align), x, grid)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 2), size=st.tuples(st.integers(1, 3), st.integers(1, 3)), align=st.booleans())
def test_affine_grid_then_grid_sample_gradcheck_in_theta(n, size, align):
    rng = np.random.default_rng(n + size[0])
    theta = rng.standard_normal((n, 2, 3)) * 0.5
    x = rng.standard_normal((n, 2, 3, 4))

    def fn(theta, x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grid = F.affine_grid(theta, (n, 2, *size), align_corners=align)
        return F.grid_sample(x, grid, align_corners=align)

    check_gradients(fn, theta, x)


def test_grid_sample_second_order():
    rng = np.random.default_rng(9)
    x = mg.tensor(rng.standard_normal((1, 1, 3, 3)), requires_grad=True)
    g = mg.tensor(rng.uniform(-0.9, 0.9, (1, 2, 2, 2)), requires_grad=True)
    mg.testing.assert_gradcheck(
        lambda x, g: mg.autograd.grad(F.grid_sample(x, g, align_corners=False).pow(2).sum(), g, create_graph=True)[0],
        x, g,
    )  # fmt: skip


def test_grid_sample_and_affine_grid_errors_and_warnings():
    x, grid = mg.zeros(1, 1, 2, 2), mg.zeros(1, 2, 2, 2)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, grid)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(mg.zeros(1, 2, 3), (1, 1, 2, 2))
    with pytest.raises(ArgumentError, match="mode"):
        F.grid_sample(x, grid, mode="area", align_corners=False)
    with pytest.raises(ArgumentError, match="padding_mode"):
        F.grid_sample(x, grid, padding_mode="wrap", align_corners=False)
    with pytest.raises(ShapeError, match="grid of shape"):
        F.grid_sample(x, mg.zeros(1, 2, 2, 3), align_corners=False)
    with pytest.raises(ShapeError, match="4-d input"):
        F.grid_sample(mg.zeros(1, 2, 2), grid, align_corners=False)
    with pytest.raises(mg.errors.DTypeError):
        F.grid_sample(x, grid.to(mg.float64), align_corners=False)
    with pytest.raises(ShapeError, match="Nx2x3"):
        F.affine_grid(mg.zeros(1, 3, 3), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(ArgumentError, match="4D and 5D"):
        F.affine_grid(mg.zeros(1, 2, 3), (1, 2, 2), align_corners=False)
    with pytest.raises(mg.errors.DTypeError, match="floating"):
        F.affine_grid(mg.zeros(1, 2, 3, dtype=mg.int64), (1, 1, 2, 2), align_corners=False)


# --- feature_alpha_dropout, triplet_margin_with_distance_loss, max_unpool1d ----------------------------------------

ALPHA_P = 1.7580993408473766


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_feature_alpha_dropout_drops_whole_channels_and_keeps_moments(p):
    x = mg.tensor(np.random.default_rng(10).standard_normal((400, 30, 8)))
    with mg.fork_rng():
        mg.manual_seed(0)
        out = F.feature_alpha_dropout(x, p, training=True).numpy()
    a = 1.0 / np.sqrt((ALPHA_P**2 * p + 1) * (1 - p))
    kept = np.isclose(out, a * x.numpy() + a * ALPHA_P * p)
    dropped = np.isclose(out, a * ALPHA_P * (p - 1))
    assert (kept | dropped).all()
    per_channel = kept.all(axis=2) | dropped.all(axis=2)  # one draw per (sample, channel)
    assert per_channel.all()
    assert abs(dropped[:, :, 0].mean() - p) < 0.03
    assert abs(out.mean()) < 0.05 and abs(out.std() - 1) < 0.05  # SELU's fixed point is kept
    assert F.feature_alpha_dropout(x, p) is x  # training=False by default
    assert not F.feature_alpha_dropout(x, 1.0, True).numpy().any()


def test_feature_alpha_dropout_module_gradient_and_errors():
    m = nn.FeatureAlphaDropout(0.3)
    assert repr(m) == "FeatureAlphaDropout(p=0.3, inplace=False)"
    x = np.random.default_rng(11).standard_normal((3, 4, 2))

    def fn(x):
        with mg.fork_rng():
            mg.manual_seed(3)
            return m(x)

    check_gradients(fn, x)
    m.eval()
    t = mg.tensor(x)
    assert m(t) is t
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(mg.zeros(3), 0.5, True)
    with pytest.raises(ArgumentError, match="between 0 and 1"):
        nn.FeatureAlphaDropout(1.5)
    y = mg.ones(2, 3)
    assert F.feature_alpha_dropout(y, 0.5, True, inplace=True) is y


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_margin_with_distance_loss_matches_formula(swap, reduction):
    rng = np.random.default_rng(12)
    a, p, n = (rng.standard_normal((5, 3)) for _ in range(3))

    def dist(x, y):
        return np.sqrt(((x - y + 1e-6) ** 2).sum(-1))

    d_neg = np.minimum(dist(a, n), dist(p, n)) if swap else dist(a, n)
    want = np.maximum(1.5 + dist(a, p) - d_neg, 0)
    want = {"mean": want.mean(), "sum": want.sum(), "none": want}[reduction]
    got = F.triplet_margin_with_distance_loss(*map(mg.tensor, (a, p, n)), margin=1.5, swap=swap, reduction=reduction)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    module = nn.TripletMarginWithDistanceLoss(margin=1.5, swap=swap, reduction=reduction)
    np.testing.assert_allclose(module(*map(mg.tensor, (a, p, n))).numpy(), want, rtol=1e-12)
    cosine = lambda x, y: 1 - (x * y).sum(-1) / ((x * x).sum(-1) * (y * y).sum(-1)).sqrt()  # noqa: E731
    np_cos = lambda x, y: 1 - (x * y).sum(-1) / np.sqrt((x * x).sum(-1) * (y * y).sum(-1))  # noqa: E731
    got = F.triplet_margin_with_distance_loss(*map(mg.tensor, (a, p, n)), distance_function=cosine, reduction="none")
    np.testing.assert_allclose(got.numpy(), np.maximum(1 + np_cos(a, p) - np_cos(a, n), 0), rtol=1e-12)
    check_gradients(
        lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, swap=swap, reduction=reduction), a, p, n
    )


def test_triplet_margin_with_distance_loss_errors():
    with pytest.raises(ShapeError, match="same number of dimensions"):
        F.triplet_margin_with_distance_loss(mg.zeros(3, 4), mg.zeros(3, 4), mg.zeros(4))
    with pytest.raises(ArgumentError, match="margin"):
        F.triplet_margin_with_distance_loss(mg.zeros(4), mg.zeros(4), mg.zeros(4), margin=0)
    with pytest.raises(ArgumentError, match="reduction"):
        nn.TripletMarginWithDistanceLoss(reduction="avg")


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1), (2, 1, 0)])
def test_max_unpool1d_inverts_max_pool1d(kernel, stride, padding, device):
    x = np.random.default_rng(13).standard_normal((2, 3, 9))
    pooled, idx = F.max_pool1d(mg.tensor(x, device=device), kernel, stride, padding, return_indices=True)
    out = F.max_unpool1d(pooled, idx, kernel, stride, padding, output_size=[9] if (stride or kernel) > 1 else None)
    want = np.zeros((2, 3, out.shape[-1]))
    for b in range(2):
        for c in range(3):
            want[b, c, _np(idx)[b, c]] = _np(pooled)[b, c]
    np.testing.assert_array_equal(_np(out), want)
    layer = nn.MaxUnpool1d(kernel, stride, padding)
    np.testing.assert_array_equal(
        _np(layer(pooled[0], idx[0])), _np(F.max_unpool1d(pooled[0], idx[0], kernel, stride, padding))
    )
    assert repr(layer).startswith(f"MaxUnpool1d(kernel_size=({kernel},)")
    check_gradients(lambda v: F.max_unpool1d(v, idx.to("cpu"), kernel, stride, padding), _np(pooled))
    with pytest.raises(ShapeError):
        F.max_unpool1d(mg.zeros(3), idx, kernel)


# --- CTC loss ---------------------------------------------------------------------------------------------------------


def _collapse(path, blank):
    out, prev = [], None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return out


def np_ctc_brute_force(lp, target, blank):
    """-log of the summed probability of every path (C^T of them) that collapses to the target."""
    import itertools

    total = 0.0
    for path in itertools.product(range(lp.shape[1]), repeat=lp.shape[0]):
        if _collapse(path, blank) == list(target):
            total += np.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return -np.log(total) if total > 0 else np.inf


def _log_softmax_np(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("blank", [0, 2])
def test_ctc_loss_matches_brute_force_enumeration(blank, device):
    rng = np.random.default_rng(14)
    lp = _log_softmax_np(rng.standard_normal((5, 4, 3)), 2)
    labels = [c for c in range(3) if c != blank]
    targets = [[labels[0], labels[1]], [labels[0], labels[0]], [labels[1]], []]
    il, tl = [5, 4, 3, 2], [len(t) for t in targets]
    padded = np.array([t + [labels[0]] * (2 - len(t)) for t in targets])
    want = np.array([np_ctc_brute_force(lp[: il[n], n], targets[n], blank) for n in range(4)])
    got = F.ctc_loss(mg.tensor(lp, device=device), mg.tensor(padded), il, tl, blank=blank, reduction="none")
    np.testing.assert_allclose(_np(got), want, rtol=1e-12)
    flat = [c for t in targets for c in t]
    got1d = F.ctc_loss(mg.tensor(lp, device=device), flat, mg.tensor(il), mg.tensor(tl), blank=blank, reduction="sum")
    np.testing.assert_allclose(_np(got1d), want.sum(), rtol=1e-12)
    mean = F.ctc_loss(mg.tensor(lp, device=device), padded, il, tl, blank=blank)
    np.testing.assert_allclose(_np(mean), (want / np.maximum(tl, 1)).mean(), rtol=1e-12)
    unbatched = F.ctc_loss(mg.tensor(lp[:, 0], device=device), padded[0], 5, 2, blank=blank, reduction="none")
    assert unbatched.shape == () and np.isclose(_np(unbatched), want[0])
    module = nn.CTCLoss(blank=blank, reduction="none")
    np.testing.assert_allclose(_np(module(mg.tensor(lp, device=device), padded, il, tl)), want, rtol=1e-12)


def test_ctc_loss_impossible_targets_and_zero_infinity():
    lp = _log_softmax_np(np.random.default_rng(15).standard_normal((3, 2, 4)), 2)
    targets, il, tl = [[1, 1], [1, 2]], [2, 3], [2, 2]  # 1, 1 needs a blank between: 3 steps
    got = F.ctc_loss(mg.tensor(lp), targets, il, tl, reduction="none")
    assert np.isinf(got.numpy()[0]) and np.isclose(got.numpy()[1], np_ctc_brute_force(lp[:, 1], [1, 2], 0))
    x = mg.tensor(lp, requires_grad=True)
    zeroed = F.ctc_loss(x, targets, il, tl, reduction="sum", zero_infinity=True)
    np.testing.assert_allclose(zeroed.numpy(), got.numpy()[1])
    zeroed.backward()
    assert not x.grad.numpy()[:, 0].any() and np.isfinite(x.grad.numpy()).all()
    # an empty input with an empty target has loss 0
    assert F.ctc_loss(mg.tensor(lp), [[1], [1]], [0, 3], [0, 1], reduction="none").numpy()[0] == 0


@settings(max_examples=12, deadline=None)
@given(steps=st.integers(1, 4), lengths=st.lists(st.integers(0, 2), min_size=1, max_size=3),
       reduction=st.sampled_from(["none", "mean", "sum"]))  # fmt: skip
def test_ctc_loss_gradcheck(steps, lengths, reduction):
    rng = np.random.default_rng(steps + len(lengths))
    logits = rng.standard_normal((steps, len(lengths), 3))
    targets = rng.integers(1, 3, (len(lengths), 2))
    il = [steps] * len(lengths)

    def fn(x):
        return F.ctc_loss(mg.log_softmax(x, dim=2), targets, il, lengths, reduction=reduction, zero_infinity=True)

    check_gradients(fn, logits)


def test_ctc_loss_gradient_matches_the_posterior_formula():
    """d loss / d logits = softmax - posterior occupancy of each class (after log_softmax): the rows of the
    gradient sum to 0 and the true derivative w.r.t. log_probs is minus the occupancy, summing to -1 per step."""
    lp = mg.tensor(_log_softmax_np(np.random.default_rng(16).standard_normal((4, 1, 3)), 2), requires_grad=True)
    F.ctc_loss(lp, [[1, 2]], [4], [2], reduction="sum").backward()
    np.testing.assert_allclose(lp.grad.numpy().sum(axis=2), -np.ones((4, 1)), rtol=1e-12)


def test_ctc_loss_errors():
    lp = mg.zeros(3, 2, 4)
    with pytest.raises(ArgumentError, match="blank"):
        F.ctc_loss(lp, [[1], [1]], [3, 3], [1, 1], blank=4)
    with pytest.raises(ShapeError, match="at most 3"):
        F.ctc_loss(lp, [[1], [1]], [4, 3], [1, 1])
    with pytest.raises(ShapeError, match="sum\\(target_lengths\\)"):
        F.ctc_loss(lp, [1, 2, 3], [3, 3], [1, 1])
    with pytest.raises(ShapeError, match="one entry per sequence"):
        F.ctc_loss(lp, [[1], [1]], [3], [1, 1])
    with pytest.raises(ArgumentError, match="reduction"):
        F.ctc_loss(lp, [[1], [1]], [3, 3], [1, 1], reduction="avg")
    with pytest.raises(ArgumentError, match="labels"):
        F.ctc_loss(lp, [[5], [1]], [3, 3], [1, 1])
    with pytest.raises(mg.errors.DTypeError):
        F.ctc_loss(lp, [[1.5], [1]], [3, 3], [1, 1])
    assert repr(nn.CTCLoss()) == "CTCLoss()"


# --- lazy modules -----------------------------------------------------------------------------------------------------

LAZY_CASES = [
    ("LazyLinear", (3,), {}, (2, 5), "Linear", [("weight", (3, 5)), ("bias", (3,))]),
    ("LazyConv1d", (4, 3), {"bias": False}, (3, 6), "Conv1d", [("weight", (4, 3, 3))]),
    ("LazyConv2d", (4, 3), {"padding": 1}, (2, 3, 5, 5), "Conv2d", [("weight", (4, 3, 3, 3)), ("bias", (4,))]),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2}, (1, 2, 4), "ConvTranspose1d",
     [("weight", (2, 4, 3)), ("bias", (4,))]),
    ("LazyConvTranspose2d", (4, 2), {}, (1, 2, 3, 3), "ConvTranspose2d", [("weight", (2, 4, 2, 2)), ("bias", (4,))]),
    ("LazyBatchNorm1d", (), {}, (4, 3), "BatchNorm1d",
     [("weight", (3,)), ("bias", (3,)), ("running_mean", (3,)), ("running_var", (3,)), ("num_batches_tracked", ())]),
    ("LazyBatchNorm2d", (), {"affine": False}, (2, 3, 2, 2), "BatchNorm2d",
     [("running_mean", (3,)), ("running_var", (3,)), ("num_batches_tracked", ())]),
]  # fmt: skip


@pytest.mark.parametrize("lazy,args,kwargs,shape,becomes,keys", LAZY_CASES, ids=[c[0] for c in LAZY_CASES])
def test_lazy_module_materializes_at_first_forward(lazy, args, kwargs, shape, becomes, keys, device):
    m = getattr(nn, lazy)(*args, **kwargs, device=device, dtype=np.float64)
    assert isinstance(m, getattr(nn, becomes)) and type(m).__name__ == lazy
    assert list(m.state_dict()) == [k for k, _ in keys]
    assert m.has_uninitialized_params()
    params = list(m.parameters())
    assert all(isinstance(p, nn.UninitializedParameter) and repr(p) == "<UninitializedParameter>" for p in params)
    assert repr(m).startswith(f"{lazy}(")
    x = mg.tensor(np.random.default_rng(17).standard_normal(shape), device=device)
    out = m(x)
    assert type(m) is getattr(nn, becomes) and not isinstance(m, nn.lazy.LazyModuleMixin)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == keys
    assert all(a is b and type(a) is nn.Parameter for a, b in zip(params, m.parameters()))  # the same objects
    assert all(p.dtype == np.float64 and p.device == device for p in m.parameters())
    reference = getattr(nn, becomes)(keys[0][1][1] if "Transpose" not in becomes and "Norm" not in becomes
                                     else keys[0][1][0], *args, **kwargs, dtype=np.float64)  # fmt: skip
    reference.load_state_dict({k: v.to("cpu") for k, v in m.state_dict().items()})
    m.eval(), reference.eval()
    np.testing.assert_allclose(_np(m(x)), reference(x.to("cpu")).numpy(), rtol=1e-12)
    assert out.shape == reference(x.to("cpu")).shape and not m._forward_pre_hooks


def test_lazy_linear_initialisation_optimizer_and_state_dict_load():
    m = nn.LazyLinear(200)
    opt = mg.optim.SGD(m.parameters(), lr=0.1)
    m(mg.ones(8, 400))
    bound = 1 / np.sqrt(400)  # kaiming_uniform(a=sqrt(5)) on fan_in 400, as Linear's
    w = m.weight.numpy()
    assert w.shape == (200, 400) and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    m(mg.ones(8, 400)).sum().backward()
    before = m.weight.numpy().copy()
    opt.step()  # the optimizer took the parameters before they were materialized
    assert not np.allclose(before, m.weight.numpy())
    lazy = nn.LazyLinear(3)
    source = nn.Linear(4, 3)
    lazy.load_state_dict(source.state_dict())
    assert not lazy.has_uninitialized_params()
    x = mg.randn(2, 4)
    np.testing.assert_allclose(lazy(x).numpy(), source(x).numpy())
    assert repr(lazy) == "Linear(in_features=4, out_features=3, bias=True)"


def test_lazy_module_needs_a_tensor():
    with pytest.raises(TypeError, match="Tensor input"):
        nn.LazyLinear(2)([1.0, 2.0])


# --- nn.utils.parametrize / parametrizations ----------------------------------------------------------------------

P = nn.utils.parametrizations
parametrize = nn.utils.parametrize


def test_parametrized_weight_norm_keys_class_formula_and_removal():
    lin = nn.Linear(3, 4).to(dtype=np.float64)
    w0 = lin.weight.numpy().copy()
    P.weight_norm(lin)
    assert type(lin).__name__ == "ParametrizedLinear" and isinstance(lin, nn.Linear)
    assert [(k, tuple(v.shape)) for k, v in lin.state_dict().items()] == [
        ("bias", (4,)), ("parametrizations.weight.original0", (4, 1)), ("parametrizations.weight.original1", (4, 3))
    ]  # fmt: skip
    assert parametrize.is_parametrized(lin) and parametrize.is_parametrized(lin, "weight")
    np.testing.assert_allclose(lin.weight.numpy(), w0, rtol=1e-12)  # g, v start at the weight
    with mg.no_grad():
        lin.parametrizations.weight.original0.array[...] *= 3
    np.testing.assert_allclose(lin.weight.numpy(), 3 * w0, rtol=1e-12)  # recomputed on access
    x = np.random.default_rng(18).standard_normal((2, 3))

    def fn(x, g, v):
        lin.parametrizations.weight._parameters.update(original0=g, original1=v)
        return lin(x)

    check_gradients(fn, x, lin.parametrizations.weight.original0.numpy(), lin.parametrizations.weight.original1.numpy())
    parametrize.remove_parametrizations(lin, "weight")
    assert type(lin) is nn.Linear and list(lin.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="does not have a parametrization"):
        parametrize.remove_parametrizations(lin, "weight")


def test_parametrized_spectral_norm_power_iteration_and_eval():
    with mg.fork_rng():
        mg.manual_seed(0)
        conv = P.spectral_norm(nn.Conv2d(2, 3, 2).to(dtype=np.float64))
    assert [k for k in conv.state_dict()] == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.0._u", "parametrizations.weight.0._v"
    ]  # fmt: skip
    w = conv.parametrizations.weight.original.numpy()
    mat = w.reshape(3, -1)
    sn = conv.parametrizations.weight[0]
    u, v = sn._u.numpy().copy(), sn._v.numpy().copy()
    for _ in range(2):  # each access in training: u <- normalize(W v), then v <- normalize(W^T u)
        weight = conv.weight.numpy()
        u = _np_normalize(mat @ v)
        v = _np_normalize(mat.T @ u)
        np.testing.assert_allclose(sn._u.numpy(), u, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(weight, w / (u @ mat @ v), rtol=1e-10)
    conv.eval()
    _ = conv.weight
    np.testing.assert_allclose(sn._u.numpy(), u, rtol=1e-12)  # no iteration in eval mode
    conv.train()
    for _ in range(100):  # converged estimates: the parametrized weight has spectral norm 1
        weight = conv.weight
    np.testing.assert_allclose(np.linalg.svd(weight.numpy().reshape(3, -1), compute_uv=False)[0], 1.0, rtol=1e-8)
    bias_only = P.spectral_norm(nn.Linear(2, 2), name="bias")  # a 1-d tensor is just normalized
    np.testing.assert_allclose(np.linalg.norm(bias_only.bias.numpy()), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="n_power_iterations"):
        P.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="does not have a parameter"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nothing", nn.Identity())


def test_register_parametrization_chains_and_sets():
    class Double(nn.Module):
        def forward(self, x):
            return 2 * x

        def right_inverse(self, x):
            return x / 2

    lin = nn.Linear(2, 2)
    w0 = lin.weight.numpy().copy()
    parametrize.register_parametrization(lin, "weight", Double())
    np.testing.assert_allclose(lin.weight.numpy(), w0, rtol=1e-6)  # right_inverse first: original = w0 / 2
    parametrize.register_parametrization(lin, "weight", Double())
    np.testing.assert_allclose(lin.weight.numpy(), 2 * w0, rtol=1e-6)
    lin.weight = mg.ones(2, 2)  # setting goes through the right inverses
    np.testing.assert_allclose(lin.weight.numpy(), np.ones((2, 2)), rtol=1e-6)
    assert repr(lin).startswith("ParametrizedLinear(") and "(0): Double()" in repr(lin)
