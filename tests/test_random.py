"""Random sampling (minigrad.ops.sampling, minigrad.generator): normal, bernoulli, multinomial, poisson,
randint_like, the in-place initialisers and minigrad.Generator.

Samples differ from PyTorch's (NumPy's and CuPy's generators), so these tests check the distributions:
with a fixed seed, sample means and variances within a few standard errors (z = 5: a correct sampler
fails about once in two million seeds), chi-square tests of category frequencies, and the exact
structure (shapes, dtypes, supports, reproducibility, errors, gradients, version counters).
tests/parity/test_torch_random.py compares the deterministic parts with PyTorch.
"""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import ArgumentError, DeviceError, DTypeError, GraphError, ShapeError

Z = 5.0  # standard errors allowed


def assert_mean(samples, mean, var):
    """The sample mean is within Z standard errors of ``mean`` (the distribution's variance is ``var``)."""
    samples = np.asarray(samples, dtype=np.float64)
    assert abs(samples.mean() - mean) <= Z * math.sqrt(var / samples.size), (samples.mean(), mean)


def assert_var(samples, var, kurtosis=3.0):
    """The sample variance is within Z standard errors of ``var`` (Var(s^2) ~ var^2 (kurtosis - 1) / n)."""
    samples = np.asarray(samples, dtype=np.float64)
    assert abs(samples.var(ddof=1) - var) <= Z * var * math.sqrt((kurtosis - 1) / samples.size), (samples.var(), var)


def chi_square_bound(df: int, z: float = 3.719) -> float:
    """The chi-square quantile at 1 - 1e-4 (z = 3.719) by Wilson-Hilferty: df (1 - 2/(9 df) + z sqrt(2/(9 df)))^3."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def assert_frequencies(counts, probabilities):
    counts = np.asarray(counts, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    keep = p > 0
    assert counts[~keep].sum() == 0  # a category of probability 0 is never drawn
    if keep.sum() == 1:  # one possible category: every draw is it
        return
    expected = counts.sum() * p[keep]
    statistic = ((counts[keep] - expected) ** 2 / expected).sum()
    assert statistic <= chi_square_bound(int(keep.sum()) - 1), statistic


# --- Generator ---------------------------------------------------------------------------------------


def test_generator_seeding_and_state(tmp_path):
    g = mg.Generator()
    assert g.device == "cpu" and g.initial_seed() == 67280421310721  # PyTorch's default: a fresh one is not random
    np.testing.assert_array_equal(mg.rand(4, generator=g).numpy(), mg.rand(4, generator=mg.Generator()).numpy())
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    first = mg.randn(3, generator=g).numpy()
    np.testing.assert_array_equal(mg.randn(3, generator=mg.Generator().manual_seed(5)).numpy(), first)
    state = g.get_state()
    after = mg.rand(6, generator=g).numpy()
    assert g.set_state(state) is g
    np.testing.assert_array_equal(mg.rand(6, generator=g).numpy(), after)
    path = tmp_path / "rng.npz"
    mg.save({"rng": g.get_state()}, str(path))  # the state is plain ints: it survives a checkpoint
    again = mg.rand(6, generator=g).numpy()
    g.set_state(mg.load(str(path))["rng"])
    np.testing.assert_array_equal(mg.rand(6, generator=g).numpy(), again)
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2**64 and g.initial_seed() == s
    assert mg.Generator().manual_seed(-1).initial_seed() == 2**64 - 1  # modulo 2**64, as PyTorch
    with pytest.raises(ArgumentError, match="manual_seed"):
        g.manual_seed(2**64)
    with pytest.raises(ArgumentError, match="manual_seed"):
        g.manual_seed("seven")
    with pytest.raises(ArgumentError, match="set_state"):
        g.set_state({"seed": 1})


def test_a_generator_is_a_stream_of_its_own():
    """Draws from a Generator repeat whatever the default stream does, and leave the default stream alone."""
    mg.manual_seed(0)
    default = mg.rand(5).numpy()
    mg.manual_seed(0)
    g = mg.Generator().manual_seed(1)
    ours = mg.rand(5, generator=g).numpy()
    np.testing.assert_array_equal(mg.rand(5).numpy(), default)  # untouched by g's draw
    mg.manual_seed(99)
    np.testing.assert_array_equal(mg.rand(5, generator=mg.Generator().manual_seed(1)).numpy(), ours)


def test_every_sampler_takes_a_generator_and_repeats_with_it():
    x = mg.full((3, 4), 0.3)

    def draws(seed):
        g = mg.Generator().manual_seed(seed)
        return [
            mg.rand(3, generator=g),
            mg.rand_like(x, generator=g),
            mg.randn_like(x, generator=g),
            mg.randn(2, 2, generator=g),
            mg.randint(0, 9, (5,), generator=g),
            mg.randperm(6, generator=g),
            mg.normal(0.0, 1.0, (3,), generator=g),
            mg.normal(x, 2.0, generator=g),
            mg.bernoulli(x, generator=g),
            mg.poisson(x * 10, generator=g),
            mg.multinomial(x, 2, generator=g),
            mg.randint_like(x, 7, generator=g),
            mg.zeros(5).normal_(generator=g),
            mg.zeros(5).uniform_(generator=g),
            mg.zeros(5).bernoulli_(0.4, generator=g),
            mg.zeros(5).exponential_(generator=g),
            mg.zeros(5).random_(100, generator=g),
            mg.zeros(5).geometric_(0.2, generator=g),
            mg.zeros(5).log_normal_(generator=g),
            mg.zeros(5).cauchy_(generator=g),
        ]

    for a, b in zip(draws(3), draws(3)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(draws(3), draws(4)))


def test_manual_seed_repeats_the_new_samplers_too():
    def draws():
        mg.manual_seed(11)
        w = mg.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 1.0]])
        return [
            mg.normal(mg.zeros(4), 1.0),
            mg.bernoulli(mg.full((4,), 0.5)),
            mg.multinomial(w, 2),
            mg.poisson(mg.full((3,), 4.0)),
            mg.zeros(4).cauchy_(),
            mg.zeros(4, dtype=mg.int64).random_(),
        ]

    for a, b in zip(draws(), draws()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_generator_errors():
    with pytest.raises(TypeError, match="rand: generator must be a minigrad.Generator"):
        mg.rand(2, generator=np.random.default_rng(0))
    from minigrad.generator import rng_for

    with pytest.raises(DeviceError, match="normal: a generator on cpu cannot draw a tensor on cuda"):
        rng_for("normal", mg.Generator(), "cuda")


def test_a_cuda_generator(device):
    if device != "cuda":
        pytest.skip("a CUDA generator needs a GPU")
    g = mg.Generator("cuda").manual_seed(3)
    first = mg.randn(4, generator=g, device="cuda").numpy()
    np.testing.assert_array_equal(mg.randn(4, generator=g.manual_seed(3), device="cuda").numpy(), first)
    with pytest.raises(DeviceError, match="normal: a generator on cpu cannot draw a tensor on cuda"):
        mg.normal(mg.zeros(2, device="cuda"), 1.0, generator=mg.Generator())
    with pytest.raises(DeviceError, match="Generator.get_state: CuPy"):
        g.get_state()


# --- normal ------------------------------------------------------------------------------------------


def test_normal_forms_shapes_and_dtypes(device):
    mean = mg.zeros(3, 1, dtype=mg.float64, device=device)
    std = mg.ones(4, device=device)
    out = mg.normal(mean, std)  # broadcast; dtype: the promotion of float64 and float32
    assert out.shape == (3, 4) and out.dtype == np.float64 and out.device == device
    assert mg.normal(mean, 2.0).shape == (3, 1) and mg.normal(1.0, std).dtype == np.float32
    assert mg.normal(std).shape == (4,)  # std defaults to 1
    t = mg.normal(2.0, 3.0, (2, 5), device=device)
    assert t.shape == (2, 5) and t.dtype == np.float32 and t.device == device and not t.requires_grad
    assert mg.normal(0.0, 1.0, size=[3], dtype=mg.float64, requires_grad=True).requires_grad
    assert mg.normal(mg.zeros(2), mg.ones(2, dtype=mg.float64)).dtype == np.float32  # mean's dtype, as PyTorch
    assert mg.normal(mg.zeros(0, 3), 1.0).shape == (0, 3)
    assert mg.normal(0.0, 0.0, (3,)).tolist() == [0.0, 0.0, 0.0]  # std 0: the mean itself


def test_normal_statistics_follow_mean_and_std_elementwise():
    mg.manual_seed(2)
    n = 20000
    mean = mg.tensor([[-3.0], [0.0], [10.0]], dtype=mg.float64)
    std = mg.tensor([0.5, 2.0], dtype=mg.float64)
    samples = mg.normal(mean.expand(3, 2).unsqueeze(0).expand(n, 3, 2), std).numpy()
    for i, m in enumerate([-3.0, 0.0, 10.0]):
        for j, s in enumerate([0.5, 2.0]):
            assert_mean(samples[:, i, j], m, s**2)
            assert_var(samples[:, i, j], s**2)
    flat = mg.normal(1.5, 0.25, (n,), dtype=mg.float64).numpy()
    assert_mean(flat, 1.5, 0.0625)
    assert_var(flat, 0.0625)
    assert_mean(mg.normal(mg.full((n,), -2.0), 3.0).numpy(), -2.0, 9.0)
    assert_var(mg.normal(-2.0, mg.full((n,), 3.0)).numpy(), 9.0)


def test_normal_requires_grad_with_a_zero_gradient_as_pytorch():
    """torch.normal(mean, std) has a grad_fn, and its gradient w.r.t. mean and std is zero (not mean + std * eps)."""
    mean = mg.tensor([0.0, 1.0], dtype=mg.float64, requires_grad=True)
    std = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    for out, inputs in (
        (mg.normal(mean, std), (mean, std)),
        (mg.normal(mean, 3.0), (mean,)),
        (mg.normal(1.0, std), (std,)),
    ):
        assert out.requires_grad and out.grad_fn is not None
        grads = mg.grad((out * out).sum(), inputs, create_graph=True)
        for g, x in zip(grads, inputs):
            assert g.shape == x.shape and g.numpy().tolist() == [0.0, 0.0]
    m = mg.tensor([[0.0], [1.0]], requires_grad=True)
    mg.normal(m, mg.ones(3)).sum().backward()  # broadcast: the zero gradient in mean's own shape
    assert m.grad.shape == (2, 1) and m.grad.numpy().tolist() == [[0.0], [0.0]]
    assert not mg.normal(mean.detach(), std.detach()).requires_grad
    with mg.no_grad():
        assert not mg.normal(mean, std).requires_grad


def test_normal_errors():
    with pytest.raises(ArgumentError, match="normal: expects all elements of std >= 0.0"):
        mg.normal(mg.zeros(3), mg.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(ArgumentError, match="normal: expects all elements of std >= 0.0"):
        mg.normal(mg.zeros(2), mg.tensor([float("nan"), 1.0]))
    with pytest.raises(ArgumentError, match="normal: expects std >= 0.0, but found std -1"):
        mg.normal(mg.zeros(3), -1.0)
    with pytest.raises(ArgumentError, match="normal: expects std >= 0.0"):
        mg.normal(0.0, -1.0, (2,))
    with pytest.raises(ShapeError, match=r"normal: mean of shape \(2, 3\) and std of shape \(3, 2\)"):
        mg.normal(mg.zeros(2, 3), mg.ones(3, 2))
    with pytest.raises(TypeError, match="normal: with a float mean and std, the size argument is required"):
        mg.normal(0.0, 1.0)
    with pytest.raises(TypeError, match="normal: size, dtype"):
        mg.normal(mg.zeros(2), 1.0, (2,))
    with pytest.raises(DTypeError, match="normal: needs a floating-point"):
        mg.normal(mg.tensor([0, 1]), 1.0)
    with pytest.raises(DTypeError, match="normal: needs a floating-point dtype"):
        mg.normal(0.0, 1.0, (2,), dtype=mg.int64)
    with pytest.raises(ShapeError, match="normal: size"):
        mg.normal(0.0, 1.0, (-1,))
    with pytest.raises(TypeError, match="normal: size must be a tuple of ints"):
        mg.normal(0.0, 1.0, 4)  # PyTorch takes no bare int here


# --- bernoulli, poisson --------------------------------------------------------------------------------


def test_bernoulli_frequencies_dtypes_and_p(device):
    mg.manual_seed(4)
    n = 20000
    p = mg.tensor([0.0, 0.1, 0.5, 0.9, 1.0], dtype=mg.float64, device=device)
    samples = mg.bernoulli(p.unsqueeze(0).expand(n, 5)).numpy()
    assert samples.dtype == np.float64 and set(np.unique(samples)) <= {0.0, 1.0}
    assert samples[:, 0].sum() == 0 and samples[:, 4].sum() == n  # p = 0 and 1 are certain
    for j, q in enumerate([0.1, 0.5, 0.9]):
        assert_mean(samples[:, j + 1], q, q * (1 - q))
    fixed = mg.bernoulli(mg.zeros(n, device=device), 0.3)  # p for every element; input gives shape and dtype
    assert fixed.dtype == np.float32 and fixed.device == device
    assert_mean(fixed.numpy(), 0.3, 0.21)
    ints = mg.bernoulli(mg.zeros(8, dtype=mg.int64), p=1.0)
    assert ints.dtype == np.int64 and ints.tolist() == [1] * 8
    assert mg.full((3,), 0.5).bernoulli().shape == (3,)  # the Tensor method


def test_bernoulli_gradient_is_zero_and_errors_leave_no_draw():
    p = mg.tensor([0.2, 0.7], requires_grad=True)
    out = mg.bernoulli(p)
    assert out.requires_grad
    out.sum().backward()
    assert p.grad.tolist() == [0.0, 0.0]
    for bad in ([1.5], [-0.5], [float("nan")]):
        with pytest.raises(ArgumentError, match=r"bernoulli: expects all probabilities in \[0, 1\]"):
            mg.bernoulli(mg.tensor(bad))
    with pytest.raises(ArgumentError, match=r"bernoulli: expects p to be in \[0, 1\], but got p=1.5"):
        mg.bernoulli(mg.zeros(3), 1.5)
    with pytest.raises(DTypeError, match="bernoulli: needs a floating-point tensor of probabilities"):
        mg.bernoulli(mg.tensor([0, 1]))


def test_poisson_mean_and_variance_are_the_rate(device):
    mg.manual_seed(5)
    n = 20000
    rates = mg.tensor([0.0, 0.5, 4.0, 50.0], dtype=mg.float64, device=device)
    counts = mg.poisson(rates.unsqueeze(0).expand(n, 4)).numpy()
    assert counts.dtype == np.float64 and np.all(counts == np.round(counts)) and counts.min() >= 0
    assert counts[:, 0].sum() == 0
    for j, rate in enumerate([0.5, 4.0, 50.0]):
        assert_mean(counts[:, j + 1], rate, rate)
        assert_var(counts[:, j + 1], rate, kurtosis=3 + 1 / rate)
    r = mg.tensor([1.0, 2.0], requires_grad=True)
    out = mg.poisson(r)
    assert out.dtype == np.float32 and out.requires_grad
    out.sum().backward()
    assert r.grad.tolist() == [0.0, 0.0]
    for bad in ([-1.0], [float("nan")], [float("inf")]):
        with pytest.raises(ArgumentError, match="poisson: invalid Poisson rate"):
            mg.poisson(mg.tensor(bad))
    with pytest.raises(DTypeError, match="poisson: needs a floating-point"):
        mg.poisson(mg.tensor([1, 2]))


# --- multinomial -------------------------------------------------------------------------------------


def test_multinomial_with_replacement_has_the_weights_frequencies(device):
    mg.manual_seed(6)
    w = np.array([1.0, 2.0, 0.0, 3.0, 4.0])
    draws = mg.multinomial(mg.tensor(w, device=device), 50000, replacement=True)
    assert draws.shape == (50000,) and draws.dtype == np.int64 and draws.device == device
    assert_frequencies(np.bincount(draws.numpy(), minlength=5), w / w.sum())
    rows = mg.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 5.0], [3.0, 1.0, 0.0]])  # unnormalised rows, float32
    out = rows.multinomial(20000, True).numpy()
    assert out.shape == (3, 20000)
    for i, row in enumerate(rows.numpy()):
        assert_frequencies(np.bincount(out[i], minlength=3), row / row.sum())


def test_multinomial_without_replacement_draws_distinct_categories():
    mg.manual_seed(7)
    w = np.array([5.0, 1.0, 0.0, 2.0, 2.0])
    trials = mg.multinomial(mg.tensor(w).unsqueeze(0).expand(20000, 5).contiguous(), 3).numpy()
    assert trials.shape == (20000, 3)
    ordered = np.sort(trials, axis=1)
    assert np.all(ordered[:, 1:] != ordered[:, :-1])  # three distinct categories in every draw
    assert not np.any(trials == 2)  # weight 0: never drawn while positive weights are left
    assert_frequencies(np.bincount(trials[:, 0], minlength=5), w / w.sum())  # the first draw: proportional
    # the second draw, given the first: proportional to the weights left
    first_zero = trials[trials[:, 0] == 0, 1]
    left = w.copy()
    left[0] = 0
    assert_frequencies(np.bincount(first_zero, minlength=5), left / left.sum())
    # all categories: a permutation, the zero-weight one last
    full = mg.multinomial(mg.tensor(w), 5).numpy()
    assert sorted(full.tolist()) == [0, 1, 2, 3, 4] and full[-1] == 2


def test_multinomial_errors_as_pytorch():
    w = mg.tensor([1.0, 2.0, 0.0, 3.0])
    with pytest.raises(ArgumentError, match=r"multinomial: cannot sample num_samples = 5 > 4 categories without"):
        mg.multinomial(w, 5)
    for n in (0, -1):
        with pytest.raises(ArgumentError, match="multinomial: cannot sample num_samples = .* <= 0"):
            mg.multinomial(w, n, True)
    for bad in ([1.0, -1.0], [1.0, float("inf")], [1.0, float("nan")]):
        with pytest.raises(ArgumentError, match="multinomial: probability tensor contains either inf, nan or"):
            mg.multinomial(mg.tensor(bad), 1)
    with pytest.raises(ArgumentError, match="multinomial: invalid multinomial distribution"):
        mg.multinomial(mg.tensor([[1.0, 1.0], [0.0, 0.0]]), 1)
    with pytest.raises(ShapeError, match="multinomial: prob_dist must be 1 or 2 dim"):
        mg.multinomial(mg.ones(2, 2, 2), 1)
    with pytest.raises(ShapeError, match="multinomial: prob_dist must be 1 or 2 dim"):
        mg.multinomial(mg.tensor(1.0), 1)
    with pytest.raises(DTypeError, match="multinomial: needs a floating-point"):
        mg.multinomial(mg.tensor([1, 2]), 1)
    with pytest.raises(DTypeError, match="multinomial: num_samples must be an int"):
        mg.multinomial(w, 1.5)
    assert mg.multinomial(mg.ones(0, 3), 2).shape == (0, 2)
    assert not mg.multinomial(mg.tensor([1.0, 2.0], requires_grad=True), 1).requires_grad


# --- randint_like -----------------------------------------------------------------------------------


def test_randint_like(device):
    mg.manual_seed(8)
    x = mg.zeros(200, 3, device=device)
    a = mg.randint_like(x, 5)
    assert a.shape == (200, 3) and a.dtype == np.float32 and a.device == device
    assert set(np.unique(a.numpy())) == {0.0, 1.0, 2.0, 3.0, 4.0}
    b = mg.randint_like(mg.zeros(300, dtype=mg.int32), 2, 5)
    assert b.dtype == np.int32 and set(b.tolist()) == {2, 3, 4}
    assert set(mg.randint_like(x, low=-1, high=1).numpy().ravel()) == {-1.0, 0.0}
    assert mg.randint_like(x, 3, dtype=mg.int64).dtype == np.int64
    assert mg.randint_like(x, 3, requires_grad=True).requires_grad
    with pytest.raises(ArgumentError, match="randint_like: expects low < high"):
        mg.randint_like(x, 5, 2)


# --- the in-place initialisers ------------------------------------------------------------------------


def test_the_continuous_initialisers_fill_with_their_distributions(device):
    mg.manual_seed(9)
    n = 40000

    def fresh():
        return mg.zeros(n, dtype=mg.float64, device=device)

    t = fresh()
    assert t.normal_(2.0, 3.0) is t and t.device == device
    assert_mean(t.numpy(), 2.0, 9.0)
    assert_var(t.numpy(), 9.0)
    u = fresh().uniform_(-1.0, 3.0).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0
    assert_mean(u, 1.0, 16 / 12)
    assert_var(u, 16 / 12, kurtosis=1.8)
    assert fresh().uniform_(**{"from": 5.0, "to": 5.0}).numpy().tolist() == [5.0] * n  # PyTorch's keyword
    narrow = mg.zeros(n, dtype=mg.float16, device=device).uniform_(1.0, 1.002).numpy()  # 2 float16 steps wide
    assert narrow.min() >= 1.0 and narrow.max() < np.float16(1.002)  # rounding never reaches ``to``
    assert fresh().uniform_(from_=0.5).numpy().min() >= 0.5
    e = fresh().exponential_(4.0).numpy()
    assert e.min() >= 0
    assert_mean(e, 0.25, 1 / 16)
    assert_var(e, 1 / 16, kurtosis=9)
    ln = fresh().log_normal_(1.0, 0.5).numpy()
    assert ln.min() > 0
    assert_mean(np.log(ln), 1.0, 0.25)
    assert_var(np.log(ln), 0.25)
    c = fresh().cauchy_(3.0, 2.0).numpy()  # no mean: its median and quartiles, median +- sigma
    for q, want in ((0.25, 1.0), (0.5, 3.0), (0.75, 5.0)):
        density = 1 / (math.pi * 2.0 * (1 + ((want - 3.0) / 2.0) ** 2))
        assert abs(np.quantile(c, q) - want) <= Z * math.sqrt(q * (1 - q) / n) / density
    f32 = mg.zeros(4).normal_()
    assert f32.dtype == np.float32


def test_the_discrete_initialisers(device):
    mg.manual_seed(10)
    n = 40000
    b = mg.zeros(n, device=device).bernoulli_(0.25).numpy()
    assert set(np.unique(b)) == {0.0, 1.0}
    assert_mean(b, 0.25, 0.1875)
    probs = mg.tensor([0.0, 0.5, 1.0], device=device)
    rows = mg.zeros(n, 3, device=device).bernoulli_(probs).numpy()  # a tensor p, broadcast
    assert rows[:, 0].sum() == 0 and rows[:, 2].sum() == n
    assert_mean(rows[:, 1], 0.5, 0.25)
    flags = mg.zeros(10, dtype=mg.bool_).bernoulli_(1.0)
    assert flags.dtype == np.bool_ and flags.tolist() == [True] * 10
    g = mg.zeros(n, dtype=mg.int64, device=device).geometric_(0.2).numpy()
    assert g.dtype == np.int64 and g.min() >= 1
    assert_mean(g, 5.0, 0.8 / 0.04)
    assert_frequencies(np.bincount(np.minimum(g, 8) - 1, minlength=8)[:8],
                       [0.2 * 0.8**k for k in range(7)] + [0.8**7])  # fmt: skip
    assert mg.zeros(5).geometric_(0.5).numpy().min() >= 1.0


def test_random_ranges_by_dtype():
    mg.manual_seed(12)
    assert set(mg.zeros(2000).random_(5).tolist()) == {0.0, 1.0, 2.0, 3.0, 4.0}
    assert set(mg.zeros(2000, dtype=mg.int64).random_(-3, 3).tolist()) == set(range(-3, 3))
    assert set(mg.zeros(2000, dtype=mg.int32).random_(**{"from": 2, "to": 4}).tolist()) == {2, 3}
    assert set(mg.zeros(2000, dtype=mg.int32).random_(from_=2, to=4).tolist()) == {2, 3}
    assert set(mg.zeros(200, dtype=mg.int64).random_(to=2).tolist()) == {0, 1}
    assert set(mg.zeros(200, dtype=mg.bool_).random_().tolist()) == {False, True}
    u8 = mg.zeros(5000, dtype=mg.uint8).random_().numpy()
    assert u8.dtype == np.uint8 and u8.min() < 10 and u8.max() > 245
    i64 = mg.zeros(2000, dtype=mg.int64).random_().numpy()
    assert i64.min() >= 0 and i64.max() > 2**62  # up to 2**63 - 1
    f32 = mg.zeros(2000).random_().numpy()
    assert f32.min() >= 0 and f32.max() <= 2**24 and f32.max() > 2**23 and np.all(f32 == np.round(f32))
    f64 = mg.zeros(2000, dtype=mg.float64).random_().numpy()
    assert f64.max() <= 2**53 and f64.max() > 2**52
    tail = mg.zeros(2000, dtype=mg.int8).random_(**{"from": 120}).numpy()
    assert set(tail.tolist()) == set(range(120, 128))


def test_initialiser_errors_leave_the_tensor_unchanged():
    t = mg.tensor([1.0, 2.0, 3.0])
    cases = [
        (ArgumentError, "normal_: expects std >= 0.0", lambda: t.normal_(0, -1)),
        (
            ArgumentError,
            r"uniform_: expects to return a \[from, to\) range, but found from=2.0 > to=1.0",
            lambda: t.uniform_(2, 1),
        ),
        (ArgumentError, r"bernoulli_: expects p to be in \[0, 1\]", lambda: t.bernoulli_(1.5)),
        (
            ArgumentError,
            r"bernoulli_: expects all probabilities in \[0, 1\]",
            lambda: t.bernoulli_(mg.tensor([0.1, 0.5, 2.0])),
        ),
        (ShapeError, r"bernoulli_: p of shape \(2,\) does not broadcast", lambda: t.bernoulli_(mg.tensor([0.1, 0.5]))),
        (ArgumentError, "exponential_: expects lambda > 0.0", lambda: t.exponential_(0)),
        (ArgumentError, r"geometric_: expects p to be in \(0, 1\)", lambda: t.geometric_(1)),
        (ArgumentError, "log_normal_: expects std > 0.0", lambda: t.log_normal_(1, 0)),
        (ArgumentError, "cauchy_: expects sigma > 0.0", lambda: t.cauchy_(0, -1)),
        (
            ArgumentError,
            "random_: expects 'from' to be less than 'to', but got from=5 >= to=2",
            lambda: t.random_(5, 2),
        ),
        (
            ArgumentError,
            "random_: from = -1 is out of bounds for uint8",
            lambda: mg.zeros(2, dtype=mg.uint8).random_(-1, 3),
        ),
        (
            ArgumentError,
            "random_: to - 1 = 299 is out of bounds for uint8",
            lambda: mg.zeros(2, dtype=mg.uint8).random_(0, 300),
        ),
        (
            ArgumentError,
            "random_: to - 1 = 9 is out of bounds for bool",
            lambda: mg.zeros(2, dtype=mg.bool_).random_(10),
        ),
        (DTypeError, "random_: from must be an int", lambda: t.random_(2.5, 5)),
        (TypeError, "random_: takes at most two", lambda: t.random_(1, 2, 3)),
        (TypeError, "uniform_: unexpected keyword argument 'a'", lambda: t.uniform_(a=2)),
        (DTypeError, "normal_: needs a floating-point tensor", lambda: mg.zeros(2, dtype=mg.int64).normal_()),
        (DTypeError, "uniform_: needs a floating-point tensor", lambda: mg.zeros(2, dtype=mg.int32).uniform_()),
        (DTypeError, "exponential_: needs a floating-point", lambda: mg.zeros(2, dtype=mg.int64).exponential_()),
        (DTypeError, "log_normal_: needs a floating-point", lambda: mg.zeros(2, dtype=mg.uint8).log_normal_()),
        (DTypeError, "cauchy_: needs a floating-point", lambda: mg.zeros(2, dtype=mg.int64).cauchy_()),
        (
            DTypeError,
            "geometric_: needs an integer or floating-point",
            lambda: mg.zeros(2, dtype=mg.bool_).geometric_(0.5),
        ),
    ]
    for error, message, call in cases:
        version = t._version
        with pytest.raises(error, match=message):
            call()
        assert t.tolist() == [1.0, 2.0, 3.0] and t._version == version


def test_initialisers_bump_the_version_and_are_not_recorded():
    fills = [
        lambda t: t.normal_(), lambda t: t.uniform_(), lambda t: t.bernoulli_(), lambda t: t.exponential_(),
        lambda t: t.random_(9), lambda t: t.geometric_(0.5), lambda t: t.log_normal_(), lambda t: t.cauchy_(),
    ]  # fmt: skip
    for fill in fills:
        x = mg.tensor([0.5, 1.5], requires_grad=True)
        # a leaf that requires grad cannot be refilled while recording ...
        with pytest.raises(GraphError, match="leaf tensor that requires grad cannot be modified in place"):
            fill(x)
        assert x.tolist() == [0.5, 1.5]
        with mg.no_grad():  # ... but can under no_grad, as nn.init does; it stays a leaf that requires grad
            fill(x)
        assert x.requires_grad and x.is_leaf
        # a tensor a graph saved: refilling it bumps the version, so backward raises instead of a wrong gradient
        y = mg.tensor([0.5, 1.5], requires_grad=True) * 1.0
        z = (y * y).sum()
        version = y._version
        assert fill(y) is y and y._version == version + 1
        with pytest.raises(GraphError):
            z.backward()
        # the refilled tensor is a constant: its history is dropped, as fill_'s
        assert not y.requires_grad and y.grad_fn is None


def test_initialisers_on_a_view_change_the_base():
    base = mg.zeros(4, 3)
    base[1].fill_(7.0)
    base[2:].uniform_(10.0, 11.0)
    values = base.numpy()
    assert values[0].tolist() == [0.0] * 3 and values[1].tolist() == [7.0] * 3
    assert values[2:].min() >= 10.0 and values[2:].max() < 11.0
