"""Parity of every activation function and module with PyTorch 2.13: values and gradients in float64 (on a
grid that holds every kink exactly, and far into both tails for stability) and float32, module reprs,
defaults, PReLU's parameter, and the errors PyTorch raises."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# every kink of every op below lies on this grid exactly (0, +-0.5, +-1, +-3, 6, the softplus thresholds)
KINKS = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 2.0, 10.0, 20.0]
GRID = np.concatenate([np.linspace(-8, 8, 161), KINKS, [-1e-8, 1e-8, -1e-300, 1e-300]])
WIDE = np.concatenate([GRID, [-800.0, -100.0, -40.0, -20.5, 20.5, 40.0, 100.0, 800.0]])  # tails: no overflow

# name -> (ours, theirs, input grid); the lambdas take the input tensor only
FUNCTIONS = {
    "relu": (F.relu, TF.relu, WIDE),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), WIDE),
    "elu": (F.elu, TF.elu, WIDE),
    "elu-alpha": (lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5), WIDE),
    "elu-negative-alpha": (lambda x: F.elu(x, -1.5), lambda x: TF.elu(x, -1.5), WIDE),
    "celu": (F.celu, TF.celu, WIDE),
    "celu-alpha": (lambda x: F.celu(x, 2.5), lambda x: TF.celu(x, 2.5), WIDE),
    "celu-negative-alpha": (lambda x: F.celu(x, -1.0), lambda x: TF.celu(x, -1.0), GRID),
    "selu": (F.selu, TF.selu, WIDE),
    "torch.selu": (mg.selu, torch.selu, GRID),
    "torch.celu": (lambda x: mg.celu(x, 0.5), lambda x: torch.celu(x, 0.5), GRID),
    "silu": (F.silu, TF.silu, WIDE),
    "mish": (F.mish, TF.mish, WIDE),
    "softplus": (F.softplus, TF.softplus, WIDE),
    "softplus-beta": (lambda x: F.softplus(x, 2.0, 4.0), lambda x: TF.softplus(x, 2.0, 4.0), WIDE),
    "softplus-negative-beta": (lambda x: F.softplus(x, -1.0), lambda x: TF.softplus(x, -1.0), WIDE),
    "softplus-threshold": (lambda x: F.softplus(x, 0.5, 1.0), lambda x: TF.softplus(x, 0.5, 1.0), WIDE),
    "hardtanh": (F.hardtanh, TF.hardtanh, WIDE),
    "hardtanh-bounds": (lambda x: F.hardtanh(x, -3.0, 0.5), lambda x: TF.hardtanh(x, -3.0, 0.5), GRID),
    "relu6": (F.relu6, TF.relu6, WIDE),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid, WIDE),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid, WIDE),
    "hardswish": (F.hardswish, TF.hardswish, WIDE),
    "softsign": (F.softsign, TF.softsign, WIDE),
    "softmin": (lambda x: F.softmin(x, dim=0), lambda x: TF.softmin(x, dim=0), GRID),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink, WIDE),
    "softshrink": (F.softshrink, TF.softshrink, WIDE),
    "softshrink-lambd": (lambda x: F.softshrink(x, 1.0), lambda x: TF.softshrink(x, 1.0), GRID),
    "hardshrink": (F.hardshrink, TF.hardshrink, WIDE),
    "hardshrink-lambd": (lambda x: F.hardshrink(x, 3.0), lambda x: TF.hardshrink(x, 3.0), GRID),
    "hardshrink-negative-lambd": (lambda x: F.hardshrink(x, -1.0), lambda x: TF.hardshrink(x, -1.0), GRID),
    "torch.hardshrink": (mg.hardshrink, torch.hardshrink, GRID),
    "threshold": (lambda x: F.threshold(x, 0.5, -7.0), lambda x: TF.threshold(x, 0.5, -7.0), WIDE),
    "torch.threshold": (lambda x: mg.threshold(x, 1.0, 2.0), lambda x: torch.threshold(x, 1.0, 2.0), GRID),
    "glu": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0), np.concatenate([GRID, GRID[::-1]])),
    "rrelu-eval": (F.rrelu, TF.rrelu, WIDE),
    "rrelu-eval-bounds": (lambda x: F.rrelu(x, 0.1, 0.6), lambda x: TF.rrelu(x, 0.1, 0.6), GRID),
}


def _run(fn, lib, x, w):
    t = lib.tensor(x, requires_grad=True) if lib is mg else torch.tensor(x, requires_grad=True)
    out = fn(t)
    (out * (mg.tensor(w) if lib is mg else torch.tensor(w))).sum().backward()
    return (out.numpy() if lib is mg else out.detach().numpy()), t.grad.numpy()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_values_and_gradients_float64_including_the_kinks_and_tails(name):
    ours, theirs, x = FUNCTIONS[name]
    w = np.random.default_rng(0).standard_normal(np.shape(theirs(torch.tensor(x))))
    out, grad = _run(ours, mg, x, w)
    want, want_grad = _run(theirs, torch, x, w)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-15)
    # PyTorch's float64 hardsigmoid backward multiplies by 1/6 rounded to float32 (0.1666666716...); ours by
    # 1/6 in float64, so there the two differ by float32's rounding of 1/6 (checked against 1/6 itself below)
    np.testing.assert_allclose(grad, want_grad, rtol=4e-8 if name == "hardsigmoid" else 1e-12, atol=1e-15)
    if name == "hardsigmoid":
        inside = (x > -3) & (x < 3)
        np.testing.assert_array_equal(grad, np.where(inside, w / 6, 0.0))
        want_grad = grad
    at_kinks = np.isin(x, KINKS)  # exactly the same one-sided choice at every kink (no tolerance to hide it)
    if name != "glu":
        np.testing.assert_allclose(grad[at_kinks], want_grad[at_kinks], rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_float32(name):
    ours, theirs, x = FUNCTIONS[name]
    x32 = x.astype(np.float32)
    w = np.random.default_rng(1).standard_normal(np.shape(theirs(torch.tensor(x32)))).astype(np.float32)
    out, grad = _run(ours, mg, x32, w)
    want, want_grad = _run(theirs, torch, x32, w)
    assert out.dtype == np.float32 and grad.dtype == np.float32
    np.testing.assert_allclose(out, want, rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(grad, want_grad, rtol=2e-6, atol=1e-6)


def test_nan_and_infinities_propagate_as_in_pytorch():
    x = np.array([np.nan, np.inf, -np.inf])
    for name, (ours, theirs, _) in FUNCTIONS.items():
        if name in ("glu", "softmin"):
            continue
        np.testing.assert_array_equal(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), err_msg=name)


def test_prelu_function_per_channel_and_shared_weight():
    rng = np.random.default_rng(2)
    for shape, count in [((4, 3, 2, 2), 3), ((4, 3, 5), 1), ((5, 3), 3), ((6,), 1), ((), 1), ((2, 3, 2, 2, 2), 3)]:
        x = rng.standard_normal(shape)
        x.reshape(-1)[::3] = 0.0  # the kink
        weight = rng.uniform(-0.5, 1.5, count)
        g = rng.standard_normal(shape)
        xs, ws = mg.tensor(x, requires_grad=True), mg.tensor(weight, requires_grad=True)
        out = F.prelu(xs, ws)
        (out * mg.tensor(g)).sum().backward()
        xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(weight, requires_grad=True)
        want = TF.prelu(xt, wt)
        (want * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-14, atol=0)
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-14, atol=0)
        np.testing.assert_allclose(ws.grad.numpy(), wt.grad.numpy(), rtol=1e-12, atol=1e-14)
        assert ws.grad.shape == (count,)
    np.testing.assert_allclose(mg.prelu(mg.tensor([-2.0, 3.0]), mg.tensor([0.5])).numpy(),
                               torch.prelu(torch.tensor([-2.0, 3.0]), torch.tensor([0.5])).numpy())  # fmt: skip


# module -> the same module of torch; built with the same arguments
MODULES = [
    ("ELU", (), {}), ("ELU", (0.5, True), {}), ("ELU", (2,), {}), ("CELU", (), {}), ("CELU", (0.5,), {"inplace": True}),
    ("SELU", (), {}), ("SELU", (True,), {}), ("SiLU", (), {}), ("SiLU", (True,), {}), ("Mish", (), {}),
    ("Mish", (True,), {}), ("Softplus", (), {}), ("Softplus", (2, 10), {}), ("Hardtanh", (), {}),
    ("Hardtanh", (-2, 3, True), {}), ("Hardtanh", (0.0, 6.0), {}), ("ReLU6", (), {}), ("ReLU6", (True,), {}),
    ("LogSigmoid", (), {}), ("Hardsigmoid", (), {}), ("Hardsigmoid", (True,), {}), ("Hardswish", (), {}),
    ("Hardswish", (True,), {}), ("Softsign", (), {}), ("Softmin", (), {"dim": 1}), ("Softmin", (), {}),
    ("Tanhshrink", (), {}), ("Softshrink", (), {}), ("Softshrink", (1.5,), {}), ("Hardshrink", (), {}),
    ("Hardshrink", (0.25,), {}), ("Threshold", (0.1, 20), {}), ("Threshold", (0.1, 20.0, True), {}),
    ("GLU", (), {}), ("GLU", (1,), {}), ("RReLU", (), {}), ("RReLU", (0.1, 0.3, True), {}), ("Softmax2d", (), {}),
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}),
    ("PReLU", (), {}), ("PReLU", (4,), {}), ("PReLU", (), {"init": 0.1}), ("Softmax", (), {}), ("Softmax", (1,), {}),
    ("LogSoftmax", (), {}), ("LogSoftmax", (), {"dim": -1}), ("Sigmoid", (), {}), ("Tanh", (), {}),
]  # fmt: skip


@pytest.mark.parametrize("name, args, kwargs", MODULES, ids=[f"{n}{a}{k}" for n, a, k in MODULES])
def test_modules_agree_in_repr_settings_and_values(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    for key, value in vars(theirs).items():
        if not key.startswith("_") and key != "training":
            assert getattr(ours, key) == value and type(getattr(ours, key)) is type(value), key
    ours.eval(), theirs.eval()
    x = np.random.default_rng(3).standard_normal((2, 4, 3, 2)) * 4
    x[0, 0, 0, :] = [0.0, 3.0]
    if name == "PReLU":  # a float32 weight: PyTorch takes float32 input only
        x = x.astype(np.float32)
    got = ours(mg.tensor(x)).numpy()
    with torch.no_grad():
        want = theirs(torch.tensor(x)).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12 if x.dtype == np.float64 else 1e-6, atol=1e-15)


def test_module_defaults_match_pytorch_signatures():
    import inspect

    for name in ["ELU", "CELU", "SELU", "SiLU", "Mish", "Softplus", "Hardtanh", "ReLU6", "PReLU", "LogSigmoid",
                 "Hardsigmoid", "Hardswish", "Softsign", "Softmin", "Tanhshrink", "Softshrink", "Hardshrink",
                 "Threshold", "GLU", "RReLU", "Softmax2d", "ReLU", "LeakyReLU", "Softmax", "LogSoftmax"]:  # fmt: skip
        ours = inspect.signature(getattr(nn, name).__init__).parameters
        theirs = inspect.signature(getattr(torch.nn, name).__init__).parameters
        if "kwargs" in theirs:  # no constructor of its own (LogSigmoid, Softsign, Tanhshrink, Softmax2d)
            assert list(ours) == ["self"], name
            continue
        assert list(ours) == list(theirs), name
        assert [p.default for p in ours.values()] == [p.default for p in theirs.values()], name


def test_functional_defaults_match_pytorch_signatures():
    import inspect

    for name in ["elu", "celu", "selu", "silu", "mish", "hardtanh", "relu6", "hardsigmoid", "hardswish", "softmin",
                 "threshold", "glu", "rrelu", "relu", "leaky_relu", "softsign", "tanhshrink"]:  # fmt: skip
        ours = inspect.signature(getattr(F, name)).parameters
        theirs = inspect.signature(getattr(TF, name)).parameters
        assert list(ours) == list(theirs), name
        assert [p.default for p in ours.values()] == [p.default for p in theirs.values()], name


def test_prelu_module_parameter_state_dict_and_loading():
    ours, theirs = nn.PReLU(3, init=0.3), torch.nn.PReLU(3, init=0.3)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["weight"]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())
    assert ours.weight.dtype == np.float32 and ours.weight.shape == (3,)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.1, -0.2, 0.7]))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()}, strict=True)
    x = np.random.default_rng(4).standard_normal((2, 3, 4)).astype(np.float32)
    xs, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xs).sum().backward()
    theirs(xt).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_rrelu_training_draws_slopes_in_the_bounds_like_pytorch():
    x = -np.linspace(0, 4, 4001)  # every element on the negative side (0 included: its slope is drawn too)
    for lib, fn in [(mg, F.rrelu), (torch, TF.rrelu)]:
        t = lib.tensor(x, requires_grad=True)
        out = fn(t, 0.1, 0.3, training=True)
        out.sum().backward()
        slope = t.grad.numpy()
        assert np.all((slope >= 0.1) & (slope <= 0.3))
        assert abs(slope.mean() - 0.2) < 0.01 and slope.std() > 0.05
        np.testing.assert_allclose((out.detach() if lib is torch else out).numpy()[1:] / x[1:], slope[1:], rtol=1e-12)


def test_inplace_forms_match_pytorch():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0, 7.0])
    cases = [
        (F.relu_, TF.relu_), (F.leaky_relu_, TF.leaky_relu_), (F.elu_, TF.elu_), (F.celu_, TF.celu_),
        (F.selu_, TF.selu_), (F.hardtanh_, TF.hardtanh_), (lambda t: F.threshold_(t, 0.1, 3.0),
        lambda t: TF.threshold_(t, 0.1, 3.0)), (F.rrelu_, TF.rrelu_), (mg.relu_, torch.relu_),
        (mg.selu_, torch.selu_), (mg.celu_, torch.celu_), (lambda t: mg.threshold_(t, 0.0, 1.0),
        lambda t: torch.threshold_(t, 0.0, 1.0)), (mg.rrelu_, torch.rrelu_),
        (lambda t: F.silu(t, inplace=True), lambda t: TF.silu(t, inplace=True)),
        (lambda t: F.hardswish(t, inplace=True), lambda t: TF.hardswish(t, inplace=True)),
    ]  # fmt: skip
    for ours, theirs in cases:
        a, b = mg.tensor(x.copy()), torch.tensor(x.copy())
        assert ours(a) is a and theirs(b) is b
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14)


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax", "Softmin"])
@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_implicit_dim_of_the_softmax_modules_is_pytorchs(name, shape):
    x = np.random.default_rng(6).standard_normal(shape)
    with pytest.warns(UserWarning) as ours:
        got = getattr(nn, name)()(mg.tensor(x))
    with pytest.warns(UserWarning) as theirs:
        want = getattr(torch.nn, name)()(torch.tensor(x))
    assert str(ours[0].message) == str(theirs[0].message)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_softmin_implicit_dim_is_pytorchs():
    for shape in [(5,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = np.random.default_rng(5).standard_normal(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
            got = F.softmin(mg.tensor(x))
        with pytest.warns(UserWarning):
            want = TF.softmin(torch.tensor(x))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    got = F.softmin(mg.tensor(np.arange(3.0)), dim=0, dtype=mg.float32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), TF.softmin(torch.arange(3.0), dim=0, dtype=torch.float32).numpy())


def test_integer_inputs_of_hardtanh_relu6_and_threshold_stay_integers():
    x = np.array([-3, -1, 0, 1, 2, 7])
    for ours, theirs in [(F.hardtanh, TF.hardtanh), (F.relu6, TF.relu6),
                         (lambda t: F.threshold(t, 1, 5), lambda t: TF.threshold(t, 1, 5)),
                         (lambda t: F.threshold(t, -0.5, 2.7), lambda t: TF.threshold(t, -0.5, 2.7)),
                         (lambda t: F.hardtanh(t, -0.5, 2.5), lambda t: TF.hardtanh(t, -0.5, 2.5))]:  # fmt: skip
        got, want = ours(mg.tensor(x)), theirs(torch.tensor(x))
        assert got.dtype == np.int64 and want.dtype == torch.int64
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: F.softshrink(mg.ones(2), -1.0), lambda: TF.softshrink(torch.ones(2), -1.0)),
        (lambda: F.hardtanh(mg.ones(2), 2.0, 1.0), lambda: TF.hardtanh(torch.ones(2), 2.0, 1.0)),
        (lambda: nn.Hardtanh(1.0, 1.0), lambda: torch.nn.Hardtanh(1.0, 1.0)),
        (lambda: F.glu(mg.ones((2, 3))), lambda: TF.glu(torch.ones(2, 3))),
        (lambda: F.glu(mg.tensor(1.0)), lambda: TF.glu(torch.tensor(1.0))),
        (lambda: F.prelu(mg.ones((2, 3)), mg.ones(2)), lambda: TF.prelu(torch.ones(2, 3), torch.ones(2))),
        (lambda: F.prelu(mg.ones(3), mg.ones(3)), lambda: TF.prelu(torch.ones(3), torch.ones(3))),
        (lambda: F.prelu(mg.ones((2, 3)), mg.ones((3, 1))), lambda: TF.prelu(torch.ones(2, 3), torch.ones(3, 1))),
        (lambda: F.rrelu(mg.ones(2), 0.5, 0.1), lambda: TF.rrelu(torch.ones(2), 0.5, 0.1)),
        (lambda: F.celu(mg.ones(2), 0.0), lambda: TF.celu(torch.ones(2), 0.0)),
        (lambda: nn.Softmax2d()(mg.ones((2, 3))), lambda: torch.nn.Softmax2d()(torch.ones(2, 3))),
        (lambda: F.elu_(mg.ones(2, requires_grad=True)), lambda: TF.elu_(torch.ones(2, requires_grad=True))),
    ],
)
def test_what_pytorch_refuses_is_refused(ours, theirs):
    with pytest.raises((RuntimeError, ValueError, AssertionError)):
        theirs()
    with pytest.raises(mg.MinigradError):
        ours()
