"""Layers (minigrad.nn.layers): forward values, default initialization as PyTorch's,
modes (dropout, batch norm) and gradients of the parameters.

NumPy references always run; PyTorch comparisons run where torch is installed.
"""

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.errors import ArgumentError, ShapeError


def _t(array, requires_grad=False, device="cpu"):
    return mg.tensor(np.asarray(array), requires_grad=requires_grad, device=device)


def _np(t):
    return t.to("cpu").numpy()


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.fixture(autouse=True)
def _seeded():
    """Deterministic initialization and dropout masks; the caller's stream is kept."""
    with mg.fork_rng():
        mg.manual_seed(0)
        yield


# --- Linear -------------------------------------------------------------------------------


def test_linear_forward_is_x_wt_plus_b(device):
    layer = nn.Linear(4, 3, dtype=mg.float64, device=device)
    x = _rng().standard_normal((2, 5, 4))
    out = layer(_t(x, device=device))
    w, b = _np(layer.weight), _np(layer.bias)
    assert out.shape == (2, 5, 3) and out.dtype == np.float64 and out.device == device
    np.testing.assert_allclose(_np(out), x @ w.T + b, rtol=1e-12, atol=1e-12)

    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and [name for name, _ in no_bias.named_parameters()] == ["weight"]
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(no_bias(_t(x32)).numpy(), x32 @ no_bias.weight.numpy().T, rtol=1e-5, atol=1e-6)


def test_linear_rejects_the_wrong_number_of_features():
    with pytest.raises(mg.ShapeError, match="expected inputs with 4 features"):
        nn.Linear(4, 3)(mg.zeros(2, 5))


def test_linear_gradients():
    layer = nn.Linear(3, 2, dtype=mg.float64)
    x = _t(_rng().standard_normal((4, 3)), requires_grad=True)
    mg.gradcheck(lambda x, w, b: F.linear(x, w, b), (x, layer.weight, layer.bias))
    # The layer itself: parameters get the gradient of the sum.
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.full(2, 4.0))
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.tile(x.numpy().sum(0), (2, 1)))


# --- default initialization -----------------------------------------------------------------


def _check_uniform(values, bound):
    """Values within [-bound, bound], filling it evenly: variance bound^2 / 3, each quarter of the range ~25%."""
    values = np.asarray(values, dtype=np.float64).ravel()
    assert np.abs(values).max() <= bound * (1 + 1e-6)
    assert np.abs(values).max() >= 0.98 * bound
    assert abs(values.mean()) < 0.02 * bound
    assert values.var() == pytest.approx(bound**2 / 3, rel=0.05)
    quarters = np.histogram(values, bins=4, range=(-bound, bound))[0] / values.size
    np.testing.assert_allclose(quarters, 0.25, atol=0.02)


def test_linear_default_init_is_pytorchs():
    layer = nn.Linear(300, 200)
    bound = 1 / math.sqrt(300)
    assert layer.weight.dtype == np.float32 and layer.weight.shape == (200, 300)
    _check_uniform(layer.weight.numpy(), bound)
    bias = layer.bias.numpy()
    assert np.abs(bias).max() <= bound and bias.std() > bound / 3


@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_default_init_is_pytorchs(groups):
    conv = nn.Conv2d(16, 256, (3, 5), groups=groups)
    fan_in = 16 // groups * 3 * 5
    bound = 1 / math.sqrt(fan_in)
    assert conv.weight.shape == (256, 16 // groups, 3, 5)
    _check_uniform(conv.weight.numpy(), bound)
    assert np.abs(conv.bias.numpy()).max() <= bound


def test_manual_seed_makes_initialization_repeat():
    def build():
        return nn.Sequential(nn.Conv2d(2, 4, 3), nn.Linear(5, 6), nn.Embedding(7, 3))

    mg.manual_seed(123)
    a = build()
    mg.manual_seed(123)
    b = build()
    mg.manual_seed(124)
    c = build()
    for (name, pa), pb, pc in zip(a.named_parameters(), b.parameters(), c.parameters()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=name)
        assert not np.array_equal(pa.numpy(), pc.numpy()), name


# --- Conv2d ---------------------------------------------------------------------------------


def test_conv2d_takes_ints_or_pairs():
    a = nn.Conv2d(2, 4, 3, stride=2, padding=1, dilation=1)
    b = nn.Conv2d(2, 4, (3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1))
    for attr in ("kernel_size", "stride", "padding", "dilation"):
        assert getattr(a, attr) == getattr(b, attr)
    assert a.kernel_size == (3, 3) and a.stride == (2, 2)
    b.load_state_dict(a.state_dict())
    x = _t(_rng().standard_normal((2, 2, 7, 6)).astype(np.float32))
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert a(x).shape == (2, 4, 4, 3)


@pytest.mark.parametrize(
    "kwargs, out_shape",
    [
        (dict(kernel_size=3), (2, 6, 5, 6)),
        (dict(kernel_size=(3, 1), stride=(2, 1), padding=(1, 0)), (2, 6, 4, 8)),
        (dict(kernel_size=2, dilation=2, padding=1, bias=False), (2, 6, 7, 8)),
        (dict(kernel_size=3, groups=2, stride=2), (2, 6, 3, 3)),
    ],
)
def test_conv2d_module_matches_the_functional_form(kwargs, out_shape, device):
    conv = nn.Conv2d(4, 6, dtype=mg.float64, device=device, **kwargs)
    x = _t(_rng().standard_normal((2, 4, 7, 8)), device=device)
    out = conv(x)
    assert out.shape == out_shape
    assert (conv.bias is None) == (kwargs.get("bias") is False)
    expected = F.conv2d(x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups)
    np.testing.assert_array_equal(_np(out), _np(expected))


def test_conv2d_matches_torch():
    torch = pytest.importorskip("torch")
    x = _rng().standard_normal((2, 4, 7, 6))
    for kwargs in (dict(stride=2, padding=1), dict(dilation=2, groups=2), dict(stride=(1, 2), padding=(0, 1))):
        conv = nn.Conv2d(4, 6, (3, 2), dtype=mg.float64, **kwargs)
        ref = torch.nn.Conv2d(4, 6, (3, 2), dtype=torch.float64, **kwargs)
        with torch.no_grad():
            ref.weight.copy_(torch.from_numpy(conv.weight.numpy()))
            ref.bias.copy_(torch.from_numpy(conv.bias.numpy()))
        np.testing.assert_allclose(conv(_t(x)).numpy(), ref(torch.from_numpy(x)).detach().numpy(), atol=1e-12)


def test_conv2d_shape_errors():
    with pytest.raises(mg.ShapeError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(mg.ShapeError, match="channels"):
        nn.Conv2d(3, 4, 3)(mg.zeros(1, 2, 5, 5))
    with pytest.raises(mg.ShapeError, match="does not fit"):
        nn.Conv2d(1, 1, 5)(mg.zeros(1, 1, 3, 3))
    with pytest.raises(mg.ShapeError, match="NCHW"):
        nn.Conv2d(1, 1, 1)(mg.zeros(1, 3, 3))


# --- pooling and shape layers ---------------------------------------------------------------


def test_pool_modules_match_the_functional_forms():
    x = _t(_rng().standard_normal((2, 3, 7, 6)))
    pool = nn.MaxPool2d(2)
    assert pool.stride == 2
    np.testing.assert_array_equal(pool(x).numpy(), F.max_pool2d(x, 2, 2).numpy())
    assert pool(x).shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(nn.MaxPool2d(3, 2, 1, 2)(x).numpy(), F.max_pool2d(x, 3, 2, 1, 2).numpy())
    avg = nn.AvgPool2d((2, 3), stride=1, padding=1)
    np.testing.assert_array_equal(avg(x).numpy(), F.avg_pool2d(x, (2, 3), 1, 1).numpy())
    assert avg(x).shape == (2, 3, 8, 6)


def test_pool_modules_match_torch():
    torch = pytest.importorskip("torch")
    x = _rng(1).standard_normal((2, 3, 7, 6))
    tx = torch.from_numpy(x)
    for args in [(2,), (3, 2, 1), ((2, 3), (1, 2), (1, 1))]:
        np.testing.assert_allclose(nn.MaxPool2d(*args)(_t(x)).numpy(), torch.nn.MaxPool2d(*args)(tx).numpy())
        np.testing.assert_allclose(
            nn.AvgPool2d(*args)(_t(x)).numpy(), torch.nn.AvgPool2d(*args)(tx).numpy(), rtol=1e-12, atol=1e-14
        )
    np.testing.assert_allclose(
        nn.MaxPool2d(3, 1, 1, dilation=2)(_t(x)).numpy(), torch.nn.MaxPool2d(3, 1, 1, dilation=2)(tx).numpy()
    )


def test_pool_modules_reject_a_zero_stride_instead_of_using_the_kernel():
    # Only stride=None means "the kernel size" (as PyTorch); 0 is an error, as in the functional forms.
    x = _t(_rng().standard_normal((1, 1, 4, 4)))
    for layer in (nn.MaxPool2d, nn.AvgPool2d):
        with pytest.raises(mg.ShapeError, match="stride"):
            layer(2, stride=0)(x)
        assert layer(2, stride=None).stride == 2


def test_flatten():
    x = _t(np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    np.testing.assert_array_equal(nn.Flatten()(x).numpy(), x.numpy().reshape(2, 60))
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)


# --- activations ----------------------------------------------------------------------------


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ACTIVATIONS = {
    "ReLU": (nn.ReLU(), lambda x: np.maximum(x, 0)),
    "LeakyReLU": (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    "LeakyReLU(0.2)": (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "Tanh": (nn.Tanh(), np.tanh),
    "Sigmoid": (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    "Softmax": (nn.Softmax(dim=1), lambda x: _softmax(x, 1)),
    "Softmax(dim=0)": (nn.Softmax(dim=0), lambda x: _softmax(x, 0)),
    "LogSoftmax": (nn.LogSoftmax(dim=1), lambda x: np.log(_softmax(x, 1))),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_forward_and_gradient(name):
    module, reference = ACTIVATIONS[name]
    x = _rng().uniform(-3, 3, (4, 5))
    x[np.abs(x) < 0.05] = 0.5  # away from the kink of relu and leaky relu
    out = module(_t(x))
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), reference(x), rtol=1e-12, atol=1e-15)
    weights = _t(_rng(1).standard_normal((4, 5)))  # a non-trivial cotangent: sum(softmax) is constant
    mg.gradcheck(lambda x: (module(x) * weights).sum(), _t(x, requires_grad=True))


def test_softmax_rows_sum_to_one_and_log_softmax_is_stable():
    x = _t(np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy().sum(1), 1.0)
    logp = nn.LogSoftmax(dim=1)(x).numpy()
    assert np.isfinite(logp).all()
    np.testing.assert_allclose(logp[0], [0.0, -1000.0, -2000.0])
    assert "dim=1" in repr(nn.LogSoftmax(dim=1))


# --- Dropout --------------------------------------------------------------------------------


def test_dropout_is_inverted_dropout(device):
    p = 0.3
    drop = nn.Dropout(p)
    x = mg.ones(200, 500, device=device)
    out = _np(drop(x))
    assert out.dtype == np.float32
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-6)  # kept elements scaled by 1 / (1 - p)
    assert abs((~kept).mean() - p) < 0.01
    assert abs(out.mean() - 1.0) < 0.01  # the mean is preserved


def test_dropout_gradient_is_the_mask_and_repeats_under_manual_seed():
    drop = nn.Dropout(0.5)
    x = mg.tensor(np.ones((40, 50)), requires_grad=True)
    mg.manual_seed(7)
    out = drop(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())
    mg.manual_seed(7)
    np.testing.assert_array_equal(drop(x).numpy(), out.numpy())
    mg.manual_seed(8)
    assert not np.array_equal(drop(x).numpy(), out.numpy())
    # gradcheck re-seeds before each evaluation, so the mask is the same at x - h and x + h.
    mg.gradcheck(lambda x: F.dropout(x, 0.5), _t(_rng().standard_normal((3, 4)), requires_grad=True))


def test_dropout_in_eval_and_at_the_extremes():
    x = _t(_rng().standard_normal((3, 4)))
    drop = nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), np.zeros((3, 4)))
    assert nn.Dropout(0.25)(x).dtype == np.float64
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="p must be in"):
            nn.Dropout(p)


# --- BatchNorm ------------------------------------------------------------------------------


class NumpyBatchNorm:
    """The reference: batch statistics (biased variance) in training, running ones in eval;
    running = (1 - momentum) running + momentum batch, with the unbiased variance."""

    def __init__(self, c, momentum, eps=1e-5):
        self.mean, self.var, self.momentum, self.eps = np.zeros(c), np.ones(c), momentum, eps

    def __call__(self, x, weight, bias, training):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        if training:
            n = x.size // x.shape[1]
            mu, var = x.mean(axis=axes), x.var(axis=axes)
            self.mean = (1 - self.momentum) * self.mean + self.momentum * mu
            self.var = (1 - self.momentum) * self.var + self.momentum * var * n / (n - 1)
        else:
            mu, var = self.mean, self.var
        normalized = (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + self.eps)
        return normalized * weight.reshape(shape) + bias.reshape(shape)


BN_CASES = [(nn.BatchNorm1d, (8, 3)), (nn.BatchNorm1d, (4, 3, 5)), (nn.BatchNorm2d, (2, 3, 4, 5))]


@pytest.mark.parametrize("momentum", [0.1, 0.3])
@pytest.mark.parametrize("cls, shape", BN_CASES)
def test_batch_norm_matches_a_numpy_reference(cls, shape, momentum, device):
    bn = cls(3, momentum=momentum, dtype=mg.float64, device=device)
    with mg.no_grad():
        bn.weight.array[...] = bn.weight.xp.asarray([0.5, 1.0, 2.0])
        bn.bias.array[...] = bn.bias.xp.asarray([0.0, -1.0, 1.0])
    ref = NumpyBatchNorm(3, momentum)
    rng = _rng()
    weight, bias = _np(bn.weight), _np(bn.bias)
    for _ in range(3):
        x = rng.standard_normal(shape) * 2 + 1
        np.testing.assert_allclose(_np(bn(_t(x, device=device))), ref(x, weight, bias, True), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_np(bn.running_mean), ref.mean, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(_np(bn.running_var), ref.var, rtol=1e-12)
    bn.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(_np(bn(_t(x, device=device))), ref(x, weight, bias, False), rtol=1e-10, atol=1e-12)
    running = _np(bn.running_mean).copy()
    bn(_t(x, device=device))
    np.testing.assert_array_equal(_np(bn.running_mean), running)  # eval leaves the statistics alone


@pytest.mark.parametrize("cls, shape", BN_CASES)
def test_batch_norm_matches_torch(cls, shape):
    torch = pytest.importorskip("torch")
    ours = cls(3, momentum=0.2)
    theirs = getattr(torch.nn, cls.__name__)(3, momentum=0.2)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.5, 1.0, 2.0]))
        theirs.bias.copy_(torch.tensor([0.0, -1.0, 1.0]))
    ours.load_state_dict({"weight": np.array([0.5, 1.0, 2.0]), "bias": np.array([0.0, -1.0, 1.0])}, strict=False)
    rng = _rng(2)
    for step in range(4):
        x = (rng.standard_normal(shape) * 3 - 1).astype(np.float32)
        out, expected = ours(_t(x)), theirs(torch.from_numpy(x))
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=f"{step}")
        for name in ("running_mean", "running_var"):
            np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-5)
    ours.eval(), theirs.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(_t(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_batch_norm_gradients_in_training():
    x = _t(_rng().standard_normal((4, 3, 2)), requires_grad=True)
    w = _t(np.array([0.5, 1.0, 2.0]), requires_grad=True)
    b = _t(np.array([0.0, -1.0, 1.0]), requires_grad=True)
    weights = _t(_rng(1).standard_normal((4, 3, 2)))  # a cotangent that is not constant per channel
    mean, var = mg.zeros(3, dtype=mg.float64), mg.ones(3, dtype=mg.float64)
    mg.gradcheck(lambda x, w, b: (F.batch_norm(x, mean, var, w, b, training=True) * weights).sum(), (x, w, b))
    mg.gradcheck(lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=False), (x, w, b))


def test_batch_norm_options_and_errors():
    bn = nn.BatchNorm2d(2, affine=False, track_running_stats=False)
    assert list(bn.parameters()) == [] and list(bn.state_dict()) == []
    x = _t(_rng().standard_normal((3, 2, 2, 2)) * 5 + 3)
    for mode in (bn.train(), bn.eval()):  # no running statistics: batch statistics in both modes
        out = mode(x).numpy()
        np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
        np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-4)
    assert list(nn.BatchNorm1d(4).state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"
    ]  # fmt: skip
    with pytest.raises(mg.ShapeError, match="expected 3 channels"):
        nn.BatchNorm1d(3)(mg.zeros(4, 2))
    with pytest.raises(mg.ShapeError, match=r"\(N, C, H, W\)"):
        nn.BatchNorm2d(3)(mg.zeros(4, 3))
    with pytest.raises(mg.ShapeError, match="more than one value per channel"):
        nn.BatchNorm1d(3)(mg.zeros(1, 3))


# --- Embedding ------------------------------------------------------------------------------


def test_embedding_looks_up_rows_and_accumulates_gradients():
    emb = nn.Embedding(10, 3, dtype=mg.float64)
    indices = mg.tensor(np.array([[1, 2], [1, 9]]))
    out = emb(indices)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), emb.weight.numpy()[[[1, 2], [1, 9]]])
    out.sum().backward()
    expected = np.zeros((10, 3))
    expected[1], expected[2], expected[9] = 2, 1, 1
    np.testing.assert_array_equal(emb.weight.grad.numpy(), expected)
    mg.gradcheck(lambda w: (F.embedding(indices, w) ** 2).sum(), emb.weight)


def test_embedding_init_and_errors():
    emb = nn.Embedding(1000, 50)
    w = emb.weight.numpy()
    assert abs(w.mean()) < 0.03 and w.std() == pytest.approx(1.0, rel=0.02)
    with pytest.raises(mg.IndexOutOfRange, match="index 1000 is out of range for 1000"):
        emb(mg.tensor(np.array([0, 1000])))
    with pytest.raises(mg.IndexOutOfRange, match="-1"):
        emb(mg.tensor(np.array([-1])))
    with pytest.raises(mg.DTypeError, match="integers"):
        emb(mg.tensor(np.array([0.0, 1.0])))
    assert repr(emb) == "Embedding(1000, 50)"


# --- Embedding options, Bilinear ------------------------------------------------------------------------------------


def test_embedding_padding_idx_zero_row_and_no_gradient():
    emb = nn.Embedding(5, 3, padding_idx=-1, dtype=mg.float64)  # negative: counted from the end, as PyTorch
    assert emb.padding_idx == 4 and np.all(emb.weight.numpy()[4] == 0)
    assert repr(emb) == "Embedding(5, 3, padding_idx=4)"
    emb.weight.array[4] = 7.0  # a row changed by the user is looked up as it is, but still not trained
    idx = mg.tensor(np.array([[4, 1], [1, 4]]))
    out = emb(idx)
    np.testing.assert_array_equal(out.numpy()[0, 0], [7.0, 7.0, 7.0])
    (out * out).sum().backward()
    grad = emb.weight.grad.numpy()
    np.testing.assert_array_equal(grad[4], 0)
    np.testing.assert_allclose(grad[1], 4 * emb.weight.numpy()[1])
    with pytest.raises(ArgumentError, match="padding_idx 5"):
        nn.Embedding(5, 3, padding_idx=5)
    # the other rows' gradients are exact (the padding row's is zero by design, so it is held constant here)
    pad_row = emb.weight.detach()[4:]
    rows = emb.weight.detach()[:4].requires_grad_()
    mg.gradcheck(lambda r: (F.embedding(idx, mg.concatenate([r, pad_row]), padding_idx=4) ** 2).sum(), rows)


def test_embedding_max_norm_renormalizes_looked_up_rows_in_place():
    w = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [1.0, 0.0]])
    emb = nn.Embedding.from_pretrained(mg.tensor(w.copy()), freeze=False, max_norm=1.0)
    out = emb(mg.tensor(np.array([0, 1, 0])))
    want = w.copy()
    want[0] *= 1.0 / (5.0 + 1e-7)  # PyTorch's embedding_renorm_: scale max_norm / (norm + 1e-7)
    np.testing.assert_allclose(out.numpy(), want[[0, 1, 0]], rtol=1e-12)
    np.testing.assert_allclose(emb.weight.numpy(), want, rtol=1e-12)  # row 2 was not looked up: unchanged
    l1 = nn.Embedding.from_pretrained(mg.tensor(w.copy()), max_norm=3.0, norm_type=1.0)
    np.testing.assert_allclose(l1(mg.tensor(np.array([2]))).numpy()[0], w[2] * 3.0 / (14.0 + 1e-7), rtol=1e-12)


def test_embedding_from_pretrained_and_scale_grad_by_freq():
    w = mg.randn(4, 2, dtype=mg.float64)
    frozen = nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad and frozen.num_embeddings == 4 and frozen.embedding_dim == 2
    np.testing.assert_array_equal(frozen(mg.tensor(np.array([3]))).numpy()[0], w.numpy()[3])
    emb = nn.Embedding(4, 2, scale_grad_by_freq=True, dtype=mg.float64)
    idx = mg.tensor(np.array([1, 1, 1, 2]))
    out = emb(idx)
    np.testing.assert_array_equal(out.numpy(), emb.weight.numpy()[[1, 1, 1, 2]])
    out.sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy(), [[0, 0], [1, 1], [1, 1], [0, 0]])  # 3 * (1/3), 1 * 1
    with pytest.raises(ArgumentError, match="sparse"):
        nn.Embedding(4, 2, sparse=True)
    with pytest.raises(ShapeError, match="2-D"):
        nn.Embedding.from_pretrained(mg.zeros(4))


def test_bilinear_forward_init_and_gradcheck():
    layer = nn.Bilinear(3, 4, 2, dtype=mg.float64)
    assert layer.weight.shape == (2, 3, 4) and layer.bias.shape == (2,)
    assert list(layer.state_dict()) == ["weight", "bias"]
    big = nn.Bilinear(100, 5, 50)
    bound = 1 / math.sqrt(100)
    assert np.abs(big.weight.numpy()).max() <= bound and np.abs(big.bias.numpy()).max() <= bound
    assert big.weight.numpy().std() > bound / 3
    rng = _rng(4)
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    a, b = layer.weight.numpy(), layer.bias.numpy()
    want = np.array([[x1[n] @ a[o] @ x2[n] for o in range(2)] for n in range(5)]) + b
    np.testing.assert_allclose(layer(_t(x1), _t(x2)).numpy(), want, rtol=1e-12)
    t1, t2 = _t(x1, requires_grad=True), _t(x2, requires_grad=True)
    mg.gradcheck(lambda *_: layer(t1, t2), [t1, t2, *layer.parameters()], in_place=True)
    nobias = nn.Bilinear(3, 4, 2, bias=False)
    assert nobias.bias is None and list(nobias.state_dict()) == ["weight"]
    with pytest.raises(ShapeError, match="bilinear"):
        layer(_t(x1), _t(x1))


def _np_bags(w, bags, mode, weights=None, padding_idx=None):
    out = []
    for k, bag in enumerate(bags):
        rows = [w[i] * (1 if weights is None else weights[k][j]) for j, i in enumerate(bag) if i != padding_idx]
        if not rows:
            out.append(np.zeros(w.shape[1]))
        else:
            out.append({"sum": np.sum, "mean": np.mean, "max": np.max}[mode](np.array(rows), axis=0))
    return np.array(out)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_and_offsets_against_numpy(mode):
    bag = nn.EmbeddingBag(7, 3, mode=mode, padding_idx=0, dtype=mg.float64)
    assert np.all(bag.weight.numpy()[0] == 0) and list(bag.state_dict()) == ["weight"]
    w = bag.weight.numpy()
    two_d = np.array([[1, 2, 0], [3, 3, 6]])
    np.testing.assert_allclose(bag(_t(two_d)).numpy(), _np_bags(w, two_d.tolist(), mode, padding_idx=0), rtol=1e-12)
    flat, offsets = np.array([1, 2, 4, 5, 4, 3, 0]), np.array([0, 2, 2, 6])
    bags = [[1, 2], [], [4, 5, 4, 3], [0]]  # an empty bag and a bag of padding only: zeros
    np.testing.assert_allclose(bag(_t(flat), _t(offsets)).numpy(), _np_bags(w, bags, mode, padding_idx=0), rtol=1e-12)
    last = nn.EmbeddingBag(7, 3, mode=mode, include_last_offset=True, dtype=mg.float64)
    got = last(_t(flat), _t(np.array([0, 2, 7]))).numpy()
    np.testing.assert_allclose(got, _np_bags(last.weight.numpy(), [[1, 2], [4, 5, 4, 3, 0]], mode), rtol=1e-12)
    wt = bag.weight.detach().requires_grad_()
    mg.gradcheck(lambda v: F.embedding_bag(_t(flat[:6]), v, _t(np.array([0, 2, 3])), mode=mode), wt)


def test_embedding_bag_per_sample_weights_and_errors():
    bag = nn.EmbeddingBag(5, 2, mode="sum", dtype=mg.float64)
    idx = np.array([[0, 1], [2, 4]])
    psw = _t(_rng(5).standard_normal((2, 2)), requires_grad=True)
    got = bag(_t(idx), per_sample_weights=psw)
    np.testing.assert_allclose(got.numpy(), _np_bags(bag.weight.numpy(), idx.tolist(), "sum", psw.numpy()), rtol=1e-12)
    mg.gradcheck(lambda *_: bag(_t(idx), per_sample_weights=psw), [psw, bag.weight], in_place=True)
    with pytest.raises(ArgumentError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(_t(idx), bag.weight, mode="mean", per_sample_weights=psw)
    with pytest.raises(ArgumentError, match="offsets are required"):
        bag(_t(np.array([0, 1])))
    with pytest.raises(ArgumentError, match="offsets must start at 0"):
        bag(_t(np.array([0, 1])), _t(np.array([1])))
    with pytest.raises(ArgumentError, match="mode must be"):
        nn.EmbeddingBag(5, 2, mode="median")
